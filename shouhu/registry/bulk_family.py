"""The grandparents (R1.1) and the carer and entrusted guardian (R1.3) of children registered in bulk
(the ledger import, R1.9), built as `services.grandparents_set` and `services.guardian_set` build them:
the same validation (`family_validation`), blind indexes and snapshots.

`bulk_register` writes them with the children, set-based, and records them in each child's
`child.created` event: the file was created with its family in one write, so one event says so. (With
an event per family member kind, a ledger row gave four events instead of two, and events were about a
third of a 100,000-row import's time.) Existing files go through the services, whose own events follow.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from shouhu.registry.family_validation import validate_guardian
from shouhu.registry.models import Child, Grandparent, Guardian
from shouhu.registry.services import _gp, _guardian_snapshot, build_grandparents, fill_guardian

GUARDIAN_ROLES = ("carer", "entrusted")


def _guardian(child: Child, role: str, data: dict[str, Any]) -> Guardian:
    """A Guardian as `guardian_set` would save it: validated by the same function, filled by the same
    function. Raises ValidationError (field names prefixed by the role) when invalid."""
    clean, errors = validate_guardian(data, role=role)
    if errors:
        raise ValidationError({f"{role}.{field}": msgs for field, msgs in errors.items()})
    g = Guardian(child=child, role=role)
    fill_guardian(g, clean)
    return g


def build_family(
    child: Child, family: dict[str, Any]
) -> tuple[list[Grandparent], list[Guardian], dict[str, Any]]:
    """The grandparents and guardians of a child being registered, unsaved, and their snapshot for the
    child's `child.created` event (the same `_gp` / `_guardian_snapshot` shapes the services record).

    `family` may carry "grandparents" (a list of {side, relation, name, birth_date, deceased}), "carer"
    and "entrusted" (a dict as `guardian_set` takes it, or None). Raises ValidationError (field names
    prefixed by the role) if a guardian is invalid."""
    grandparents = build_grandparents(child, family.get("grandparents") or [])
    snapshot: dict[str, Any] = {}
    if grandparents:
        snapshot["grandparents"] = [_gp(g) for g in grandparents]
    guardians: list[Guardian] = []
    for role in GUARDIAN_ROLES:
        data = family.get(role)
        if data:
            g = _guardian(child, role, data)
            guardians.append(g)
            snapshot[role] = _guardian_snapshot(g)
    return grandparents, guardians, snapshot
