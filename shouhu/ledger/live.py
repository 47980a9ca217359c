"""Progress and cancel requests of a running import job, kept outside the database (R1.9, issue 3).

Why not on the job's row: a committing import holds one transaction from the first row to the last,
so whatever it writes to the row stays invisible to the status page until the end (the bar stood
still through the whole write), and on PostgreSQL the row lock it takes would make a cancel request
wait for the import it is meant to stop; on SQLite any other writer waits for the import's lock.
Huey's key-value store is shared by the web process and the worker and is not part of that
transaction: SQLite file of its own for a pilot, Redis for a province, memory in tests (immediate mode).
"""

from __future__ import annotations

from typing import Any, TypedDict, cast

from huey.contrib.djhuey import HUEY


class Live(TypedDict):
    progress: int
    stage: str


def _key(job_id: Any, what: str) -> str:
    return f"shouhu:ledger-job:{job_id}:{what}"


def report(job_id: Any, progress: int, stage: str) -> None:
    """Replace the job's live progress (0–99) and stage (read, validate, write)."""
    HUEY.put(_key(job_id, "live"), Live(progress=progress, stage=stage))


def current(job_id: Any) -> Live | None:
    value = HUEY.get(_key(job_id, "live"), peek=True)
    return cast(Live, value) if isinstance(value, dict) else None


def request_cancel(job_id: Any) -> None:
    HUEY.put(_key(job_id, "cancel"), True)


def cancel_requested(job_id: Any) -> bool:
    return bool(HUEY.get(_key(job_id, "cancel"), peek=True))


def clear(job_id: Any) -> None:
    """Forget a finished job's live state (its row holds the outcome)."""
    for what in ("live", "cancel"):
        HUEY.delete(_key(job_id, what))
