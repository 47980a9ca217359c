"""Seed the service types from data/services.json where missing (after migrate). Existing rows are
never overwritten: the county's edits stay (R8.2, "all data, not code")."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

DATA = Path(__file__).resolve().parent / "data" / "services.json"


def load_service_types(*, using: str = "default") -> None:
    from shouhu.services.models import ServiceType

    data = json.loads(DATA.read_text(encoding="utf-8"))
    with transaction.atomic(using=using):
        manager = ServiceType._default_manager.using(using)
        existing = set(manager.values_list("code", flat=True))
        manager.bulk_create(
            ServiceType(code=i["code"], name_zh=i["zh"], name_en=i.get("en", ""), clause=i["clause"], sort=n)
            for n, i in enumerate(data["service_types"])
            if i["code"] not in existing
        )
