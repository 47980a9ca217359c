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

from shouhu.core.crypto import blind_index
from shouhu.registry.family_validation import grandparent_recorded, validate_guardian
from shouhu.registry.models import Child, Grandparent, Guardian
from shouhu.registry.services import _gp, _guardian_snapshot
from shouhu.registry.validation import clean_name

GUARDIAN_ROLES = ("carer", "entrusted")
_GUARDIAN_ATTRS = (
    "name",
    "relationship",
    "birth_date",
    "address",
    "full_civil_capacity",
    "no_violence_history",
    "no_addiction",
    "no_prior_neglect",
    "checked_on",
)


def _guardian(child: Child, role: str, data: dict[str, Any]) -> Guardian:
    """A Guardian as `guardian_set` would save it: validated by the same function, identifiers with
    their blind indexes. Raises ValidationError (field names prefixed by the role) when invalid."""
    clean, errors = validate_guardian(data, role=role)
    if errors:
        raise ValidationError({f"{role}.{field}": msgs for field, msgs in errors.items()})
    g = Guardian(child=child, role=role)
    for f in _GUARDIAN_ATTRS:
        if f in clean:
            setattr(g, f, clean[f])
    g.id_number = clean["id_number"]
    g.id_number_index = blind_index("id", g.id_number) if g.id_number else None
    g.phone = clean["phone"]
    g.phone_index = blind_index("phone", g.phone) if g.phone else ""
    return g


def build_family(
    child: Child, family: dict[str, Any]
) -> tuple[list[Grandparent], list[Guardian], dict[str, Any]]:
    """The grandparents and guardians of a child being registered, unsaved, and their snapshot for the
    child's `child.created` event (the same `_gp` / `_guardian_snapshot` shapes the services record).

    `family` may carry "grandparents" (a list of {side, relation, name, birth_date, deceased}), "carer"
    and "entrusted" (a dict as `guardian_set` takes it, or None). Raises ValidationError (field names
    prefixed by the role) if a guardian is invalid."""
    rows = [r for r in family.get("grandparents") or [] if grandparent_recorded(r)]
    grandparents = [
        Grandparent(
            child=child,
            side=r["side"],
            relation=r["relation"],
            name=clean_name(r.get("name") or ""),
            birth_date=r.get("birth_date"),
            deceased=bool(r.get("deceased")),
        )
        for r in rows
    ]
    grandparents.sort(key=lambda g: (g.side, g.relation))  # Grandparent.Meta.ordering, as the service reads
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
