"""Seed the situation list, the police checklists and the service kinds from data/protection.json
where missing (after migrate). Existing rows are never overwritten: an administrator's edits stay."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

DATA = Path(__file__).resolve().parent / "data" / "protection.json"


def load_protection_data(*, using: str = "default") -> None:
    from shouhu.protection.models import Measure, ServiceKind, Situation

    data = json.loads(DATA.read_text(encoding="utf-8"))
    with transaction.atomic(using=using):
        for model, key, extra in (
            (Measure, "measures", lambda i: {"clause": i.get("clause", "")}),
            (Situation, "situations", lambda i: {"source": i["source"], "measures": i["measures"]}),
            (ServiceKind, "service_kinds", lambda i: {"clause": i.get("clause", "")}),
        ):
            existing = set(model.objects.using(using).values_list("code", flat=True))
            model.objects.using(using).bulk_create(
                model(code=i["code"], name_zh=i["zh"], name_en=i.get("en", ""), sort=n, **extra(i))
                for n, i in enumerate(data[key])
                if i["code"] not in existing
            )
