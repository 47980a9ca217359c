"""The steps of `run_scan`, in order. Each step is `run(at: datetime) -> dict` (a JSON summary), must be
idempotent for the same moment, deterministic for a past moment, and set-based (no query per child)."""

from __future__ import annotations

from datetime import datetime
from importlib import import_module
from typing import Any

STEPS = [
    "shouhu.registry.scan",  # left-behind status: age-outs, dated departures (R1.6)
    "shouhu.care.scan",  # contacts, meetings, visits, agreements, designated workers, escalations (R2, R3)
    "shouhu.protection.scan",  # protection-case time limits (R6.6)
    "shouhu.ledger.scan",  # uploaded ledgers deleted when kept too long, stalled jobs ended (issue 10)
    "shouhu.core.accesslog",  # access-log retention and its checkpoint in the event chain (R11.2)
]


def run_all(at: datetime) -> dict[str, Any]:
    summary: dict[str, Any] = {"at": at.isoformat()}
    for dotted in STEPS:
        try:
            module = import_module(dotted)
        except ModuleNotFoundError as exc:
            if exc.name == dotted:
                continue  # a module without a scan step yet
            raise
        summary[dotted.split(".")[1]] = module.run(at)
    return summary
