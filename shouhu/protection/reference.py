"""Seed the situation list, the police checklists and the service kinds from data/protection.json
where missing (after migrate). Existing rows are never overwritten: an administrator's edits stay."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import models, transaction

DATA = Path(__file__).resolve().parent / "data" / "protection.json"


def load_protection_data(*, using: str = "default") -> None:
    from shouhu.protection.models import Measure, ServiceKind, Situation

    data = json.loads(DATA.read_text(encoding="utf-8"))
    lists: tuple[tuple[type[models.Model], str, Callable[[dict[str, Any]], dict[str, Any]]], ...] = (
        (Measure, "measures", lambda i: {"clause": i.get("clause", "")}),
        (Situation, "situations", lambda i: {"source": i["source"], "measures": i["measures"]}),
        (ServiceKind, "service_kinds", lambda i: {"clause": i.get("clause", "")}),
    )
    with transaction.atomic(using=using):
        for model, key, extra in lists:
            manager = model._default_manager.using(using)
            existing = set(manager.values_list("code", flat=True))
            manager.bulk_create(
                model(code=i["code"], name_zh=i["zh"], name_en=i.get("en", ""), sort=n, **extra(i))
                for n, i in enumerate(data[key])
                if i["code"] not in existing
            )
