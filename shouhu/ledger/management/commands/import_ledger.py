"""import_ledger FILE [--region CODE] [--dry-run] [--accept-valid] [--errors OUT.xlsx] [--summary-json PATH]
(API.md). Exit status: 0 all rows valid (and written unless a dry run); 1 invalid rows found (nothing
written unless --accept-valid); 2 the file cannot be used."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from shouhu.core.capabilities import roles_with
from shouhu.core.models import Region, RoleAssignment, User
from shouhu.ledger.importer import error_workbook, import_ledger
from shouhu.ledger.reader import UnusableFile


def default_actor(username: str | None) -> User | None:
    """--user, or the active user who may import over the widest region (the county administrator):
    the command acts with that user's rights, never with more."""
    qs = User.objects.filter(is_active=True)
    if username:
        return qs.filter(username=username).first()
    holders = (
        RoleAssignment.objects.active()
        .filter(role__in=roles_with("ledger.import"), user__is_active=True, region__isnull=False)
        .select_related("region", "user")
        .order_by("pk")
    )
    ranked = [(len(a.region.prefix), a.pk, a.user) for a in holders if a.region is not None]
    return min(ranked)[2] if ranked else None


class Command(BaseCommand):
    help = "Import a ledger workbook (xlsx, xls, csv) in the official or the platform layout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--region",
            help="12-digit code: whose ledger it is (required for a village ledger without a village column)",
        )
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--accept-valid", action="store_true")
        parser.add_argument("--errors", help="write the error workbook (original rows + reasons) here")
        parser.add_argument("--summary-json", help="write the summary JSON here")
        parser.add_argument("--user", help="username to act as (default: the county administrator)")

    def _fail(self, options: dict[str, Any], code: str, message: str) -> NoReturn:
        summary = {
            "rows": 0,
            "valid": 0,
            "invalid": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "errors": [{"row": 0, "column": "", "message": message}],
            "error": code,
        }
        if options.get("summary_json"):
            Path(options["summary_json"]).write_text(
                json.dumps(summary, ensure_ascii=False, indent=1), "utf-8"
            )
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            self._fail(options, "not_found", f"找不到文件：{path}")
        actor = default_actor(options.get("user"))
        if actor is None:
            self._fail(options, "no_user", "没有可用的操作用户（--user）。")
        region = None
        if options.get("region"):
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                self._fail(options, "bad_region", f"区划代码 {options['region']} 不存在。")
        try:
            result = import_ledger(
                path.read_bytes(),
                path.name,
                actor=actor,
                region=region,
                dry_run=options["dry_run"],
                accept_valid=options["accept_valid"],
            )
        except UnusableFile as exc:
            self._fail(options, exc.code, exc.message)
            return
        summary = result.as_json()
        text = json.dumps(summary, ensure_ascii=False, indent=1, default=str)
        if options.get("summary_json"):
            Path(options["summary_json"]).write_text(text, "utf-8")
        if options.get("errors"):
            Path(options["errors"]).write_bytes(error_workbook(result, path.read_bytes(), path.name))
        self.stdout.write(
            json.dumps(
                {k: summary[k] for k in ("rows", "valid", "invalid", "created", "updated", "unchanged")}
            )
        )
        for e in summary["errors"][:50]:
            self.stderr.write(f"第{e['row']}行 {e['column']}：{e['message']}")
        if result.exit_status:
            sys.exit(result.exit_status)
