"""Set-based writing of the grandparents (R1.1) and of the carer and entrusted guardian (R1.3) of children
just registered in bulk (the ledger import, R1.9): the twin of `services.grandparents_set` and
`services.guardian_set` for many children at once.

`bulk_register` writes the children, their parents, status and events; this writes their family members
with a constant number of queries whatever the number of children, and one timeline event per child per
kind with the same verbs, summaries and snapshots as the services ("grandparents.set", "guardian.set"), so
a family imported in bulk reads on the timeline exactly as one entered on the form. It is for children
that have no grandparents or guardians on file yet: existing files go through the services.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.bulkcopy import bulk_insert
from shouhu.core.crypto import blind_index
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import User
from shouhu.registry.family_validation import grandparent_recorded, validate_guardian
from shouhu.registry.models import Child, Grandparent, Guardian
from shouhu.registry.services import _gp, _guardian_snapshot, child_event
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


def bulk_family(*, actor: User, pairs: list[tuple[Child, dict[str, Any]]]) -> None:
    """Write the family members of freshly registered children in one transaction.

    Each pair is a saved child and its family data: "grandparents" (a list of {side, relation, name,
    birth_date, deceased}), "carer" and "entrusted" (a dict as `guardian_set` takes it, or None); any key
    may be absent. Raises ValidationError if a guardian is invalid (nothing is written then).
    """
    now = timezone.now()
    grandparents: list[Grandparent] = []
    guardians: list[Guardian] = []
    events: list[EventSpec] = []
    for child, family in pairs:
        rows = [r for r in family.get("grandparents") or [] if grandparent_recorded(r)]
        if rows:
            built = [
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
            built.sort(key=lambda g: (g.side, g.relation))  # Grandparent.Meta.ordering, as the service reads
            grandparents += built
            after = [_gp(g) for g in built]
            events.append(child_event("grandparents.set", child, actor, _("祖辈信息"), [], after, at=now))
        for role in GUARDIAN_ROLES:
            data = family.get(role)
            if not data:
                continue
            g = _guardian(child, role, data)
            guardians.append(g)
            label = str(Guardian.Role(role).label)
            events.append(child_event("guardian.set", child, actor, label, {}, _guardian_snapshot(g), at=now))
    if not events:
        return
    with transaction.atomic():
        bulk_insert(Grandparent, grandparents)
        bulk_insert(Guardian, guardians)
        record_events(events)
