"""`load_villages FILE`: load a real NBS 统计用区划代码 village file (`code,name,kind,parent_code`).

Every row is checked before anything is written: a 12-digit code under a known township whose village
part follows the numbering rules (001–199 居委会 community, 200–399 村委会 village). Demo villages with
the same code are replaced by the official name and lose the demo mark.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shouhu.core.models import Region, RegionKind


def check_row(row: dict[str, str], townships: set[str]) -> str | None:
    code, kind, parent = (
        (row.get("code") or "").strip(),
        (row.get("kind") or "").strip(),
        (row.get("parent_code") or "").strip(),
    )
    if len(code) != 12 or not code.isdigit():
        return f"code '{code}' is not a 12-digit statistical code"
    if parent not in townships:
        return f"parent_code '{parent}' is not a known township-level region"
    if code[:9] != parent[:9]:
        return f"code '{code}' does not lie under its parent '{parent}'"
    number = int(code[9:])
    if kind == RegionKind.COMMUNITY and not 1 <= number <= 199:
        return f"community code '{code}' must end in 001–199"
    if kind == RegionKind.VILLAGE and not 200 <= number <= 399:
        return f"village code '{code}' must end in 200–399"
    if kind not in (RegionKind.VILLAGE, RegionKind.COMMUNITY):
        return f"kind '{kind}' must be 'village' or 'community'"
    if not (row.get("name") or "").strip():
        return "name is empty"
    return None


class Command(BaseCommand):
    help = "Load real village-level regions from an NBS-format CSV (code,name,kind,parent_code)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        townships = set(
            Region.objects.filter(kind__in=["subdistrict", "town", "township"]).values_list("code", flat=True)
        )
        problems = [(i + 2, p) for i, row in enumerate(rows) if (p := check_row(row, townships))]
        if problems:
            for line, p in problems[:50]:
                self.stderr.write(f"line {line}: {p}")
            raise CommandError(f"{len(problems)} invalid row(s); nothing loaded")
        created = updated = 0
        with transaction.atomic():
            for row in rows:
                _, was_created = Region.objects.update_or_create(
                    code=row["code"].strip(),
                    defaults={
                        "name": row["name"].strip(),
                        "kind": row["kind"].strip(),
                        "parent_id": row["parent_code"].strip(),
                        "is_demo": False,
                    },
                )
                created += was_created
                updated += not was_created
        self.stdout.write(f"villages loaded: {created} new, {updated} updated")
