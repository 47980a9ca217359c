"""Scan step of the registry: re-derive left-behind status where a date alone changes it (R1.6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from shouhu.registry.services import refresh_statuses


def run(at: datetime) -> dict[str, Any]:
    changes = refresh_statuses(on=timezone.localdate(at))
    return {
        "status_changes": len(changes),
        "exits": sum(1 for c in changes if not c.after[0]),
        "entries": sum(1 for c in changes if c.after[0]),
    }
