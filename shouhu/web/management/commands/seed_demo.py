"""`seed_demo [--children N] [--seed S] [--logins-json PATH]` (API.md): the Chengkou demo county.

Builds the demo villages, organisations and one login per role (idempotent), then tops the ledger up to
N generated children (default 2000) with `registry.bulk.bulk_register`, acting as the county user. The
same seed (and the same --today, default today) gives the same children; a second run adds nothing.
"""

from __future__ import annotations

import json
import unicodedata
from itertools import groupby
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from django.utils.dateparse import parse_date

from shouhu.core.demo import COUNTY, Login, build_county
from shouhu.core.models import Region, User
from shouhu.core.roles import ROLES
from shouhu.registry.demo import seed_children
from shouhu.registry.models import Child


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def logins_table(logins: list[Login]) -> str:
    """The logins grouped by role (in the order of roles.ROLES), one aligned table per role."""
    names = dict(Region.objects.values_list("code", "name"))
    order = {code: i for i, code in enumerate(ROLES)}
    rows = sorted(logins, key=lambda x: (order.get(x.role, 99), x.username))
    headers = ("Username", "Password", "Name", "Scope")
    table = [
        (
            x.username,
            x.password,
            x.full_name,
            f"{names[x.scope]} ({x.scope})" if x.scope in names else x.scope,
        )
        for x in rows
    ]
    widths = [max([_width(h), *(_width(r[i]) for r in table)]) for i, h in enumerate(headers)]
    out: list[str] = []
    for role, group in groupby(zip(rows, table, strict=True), key=lambda pair: pair[0].role):
        items = list(group)
        spec = ROLES.get(role)
        out.append(f"\n== {role} · {spec.label if spec else role} ({len(items)}) ==")
        out.append("  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip())
        for _login, cells in items:
            out.append("  ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip())
    return "\n".join(out)


class Command(BaseCommand):
    help = "Load the Chengkou demo county (regions, organisations, logins) and N generated children."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--children", type=int, default=2000, help="children on file afterwards (default 2000)"
        )
        parser.add_argument("--seed", type=int, default=2016, help="random seed (default 2016)")
        parser.add_argument("--logins-json", dest="logins_json", help="write the logins as JSON to this path")
        parser.add_argument("--today", help="reference date for ages (YYYY-MM-DD, default today)")

    def handle(self, *args: Any, **options: Any) -> None:
        n, seed = options["children"], options["seed"]
        if n < 0:
            raise CommandError("--children must be 0 or more")
        today = timezone.localdate()
        if options.get("today"):
            today = parse_date(options["today"])  # type: ignore[assignment]
            if today is None:
                raise CommandError(f"--today: '{options['today']}' is not a date (YYYY-MM-DD)")
        try:
            if not Region.objects.filter(code=COUNTY).exists():
                raise CommandError(
                    "城口县区划数据不存在：请先运行 manage.py migrate (reference data is loaded by migrate)"
                )
        except DatabaseError as exc:
            raise CommandError(f"数据库尚未初始化，请先运行 manage.py migrate ({exc})") from exc

        logins = build_county(seed)
        existing = Child.objects.count()
        if existing >= n:
            self.stdout.write(f"已有 {existing} 名儿童，未重复生成 ({existing} children on file, none added)")
        else:
            actor = User.objects.get(username="county")

            def progress(done: int, total: int) -> None:
                self.stdout.write(f"  … {done}/{total}")

            created = seed_children(
                actor=actor, n=n, seed=seed, today=today, progress=progress if n - existing > 10000 else None
            )
            self.stdout.write(
                f"已生成 {created} 名演示儿童，共 {Child.objects.count()} 名 "
                f"(generated {created} demo children, seed {seed}, ages as of {today})"
            )

        from shouhu.schooling.demo import seed_schooling  # the demo schools' rosters (issue 13)

        pupils = seed_schooling(today)
        if pupils:
            self.stdout.write(
                f"已为演示学校登记 {pupils} 名学生 (enrolled {pupils} pupils at the demo schools)"
            )

        from shouhu.services.demo import seed_services  # a provider, programmes, sessions (issue 17)

        seed_services()
        self.stdout.write(
            f"\n演示账号 Demo logins (password for all: {logins[0].password if logins else '-'})"
        )
        self.stdout.write(logins_table(logins))
        with_secret = [x for x in logins if x.totp_secret]
        if with_secret:
            self.stdout.write(
                "\n动态验证码密钥 TOTP secrets (RFC 6238, 30 s, 6 digits; add to an authenticator app):"
            )
            for x in with_secret:
                self.stdout.write(f"  {x.username:<10} {x.totp_secret}")
        if options.get("logins_json"):
            path = Path(options["logins_json"])
            path.parent.mkdir(parents=True, exist_ok=True)
            data = [
                {
                    "username": x.username,
                    "password": x.password,
                    "role": x.role,
                    "scope": x.scope,
                    **({"org": x.org} if x.org is not None else {}),
                    **({"totp_secret": x.totp_secret} if x.totp_secret else {}),
                }
                for x in logins
            ]
            path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            self.stdout.write(f"\n登录信息已写入 {path} (logins written to {path})")
