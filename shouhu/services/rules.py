"""Pure rules of the services module (DESIGN principle 3): matching a need with providers (R8.3),
and when a waiting need is overdue. (R9.2's 建档立卡 status feeds the key-target rule of the registry as
the assistance code `poverty_registered`, listed in the policy parameter `hardship_assistance_codes`.)"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Candidate:
    """What matching knows of one provider for one need."""

    provider_id: int
    name: str
    approved: bool
    serves_village: bool
    offers_type: bool
    capacity: int  # 0: no stated limit
    load: int  # needs offered or accepted now, plus children enrolled in its programmes


@dataclass(frozen=True)
class Match:
    provider_id: int
    name: str
    free: int | None  # places left (None: no stated limit)
    reason: str


def match_providers(candidates: Iterable[Candidate]) -> list[Match]:
    """R8.3 需求与服务有效对接: the approved providers that serve the child's village and offer the
    service, with a place left; those with the most places left first, then by name (stable)."""
    out: list[Match] = []
    for c in candidates:
        if not (c.approved and c.serves_village and c.offers_type):
            continue
        free = None if c.capacity == 0 else c.capacity - c.load
        if free is not None and free <= 0:
            continue
        reason = "服务本村、提供该项服务" + ("" if free is None else f"、尚余 {free} 个名额")
        out.append(Match(c.provider_id, c.name, free, reason))
    # unlimited first, then most places left; the name keeps the order stable
    return sorted(out, key=lambda m: (m.free is not None, -(m.free or 0), m.name, m.provider_id))


def unmet_since(created_at: datetime, days: float) -> datetime:
    """The moment a need still waiting for its service joins the unmet list (R8.3, policy days)."""
    return created_at + timedelta(days=days)


def is_overdue(created_at: datetime, state: str, now: datetime, days: float, waiting: Sequence[str]) -> bool:
    """A need is overdue when it still waits (open, offered, accepted) `days` after it was recorded."""
    return state in waiting and now >= unmet_since(created_at, days)
