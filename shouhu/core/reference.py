"""Reference data inserted where missing after migrate: Chengkou's regions (official codes), the code
lists and the policy defaults. Existing rows are never overwritten: an administrator's edits stay."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction

DATA = Path(__file__).resolve().parent / "data"


def load_reference_data(sender: Any = None, **kwargs: Any) -> None:
    using = kwargs.get("using", "default")
    with transaction.atomic(using=using):
        load_regions(DATA / "chengkou_townships.csv", using=using)
        load_code_lists(using=using)
        load_policy_defaults(using=using)


def load_regions(path: Path, *, using: str = "default", is_demo: bool = False) -> int:
    """Load `code,name,kind,parent_code` rows (the NBS layout of shared/data); returns rows added."""
    from shouhu.core.models import Region

    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    existing = set(Region.objects.using(using).values_list("code", flat=True))
    added = 0
    for row in rows:  # parents come before children in the file
        code = row["code"].strip()
        if code in existing:
            continue
        Region.objects.using(using).create(
            code=code,
            name=row["name"].strip(),
            kind=row["kind"].strip(),
            parent_id=(row.get("parent_code") or "").strip() or None,
            is_demo=is_demo,
            valid_from=date(2016, 1, 1),
        )
        existing.add(code)
        added += 1
    return added


def load_code_lists(*, using: str = "default") -> None:
    from shouhu.core.models import Code

    path = DATA / "code_lists.json"
    if not path.exists():
        return
    lists: dict[str, list[dict[str, str]]] = json.loads(path.read_text(encoding="utf-8"))
    existing = set(Code.objects.using(using).values_list("list", "code"))
    new = [
        Code(
            list=name,
            code=item["code"],
            name_zh=item["zh"],
            name_en=item.get("en", ""),
            note=item.get("note", ""),
            sort=i,
        )
        for name, items in lists.items()
        for i, item in enumerate(items)
        if (name, item["code"]) not in existing
    ]
    Code.objects.using(using).bulk_create(new)


def load_policy_defaults(*, using: str = "default") -> None:
    from shouhu.core.models import PolicyParameter
    from shouhu.core.policy import DEFAULTS

    existing = set(PolicyParameter.objects.using(using).values_list("key", flat=True))
    PolicyParameter.objects.using(using).bulk_create(
        PolicyParameter(key=k, value=v, description=d, source=s)
        for k, (v, d, s) in DEFAULTS.items()
        if k not in existing
    )
