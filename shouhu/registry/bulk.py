"""Set-based registration of many children at once (DESIGN principle 5): demo seeding, benchmarks and
bulk paths that already hold validated data.

`bulk_register` takes rows in the shape that `validation.validate_child` returns (village a Region,
id_number normalised or None, parents a list of dicts) and writes them with a fixed number of queries
whatever the number of rows: the children, their parents (and grandparents, carer and entrusted
guardian when a row gives them, recorded in the `child.created` event), the first status period, the
timeline events and (through the CHILDREN_SAVED subscribers (care.hooks.children_saved), the set-based twin of what child_create calls) the
`unattended` alerts of R2.2. The derived fields come from the same pure rules (`rules.evaluate_left_behind`,
`rules.evaluate_key_target`) with the same policy parameters as `services.child_create`, so a child
registered here is indistinguishable from one registered through the form (tested).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.access import can
from shouhu.core.bulkcopy import bulk_insert
from shouhu.core.crypto import blind_index
from shouhu.core.dispatch import CHILDREN_SAVED, publish
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import Organisation, User
from shouhu.core.policy import param
from shouhu.registry import rules
from shouhu.registry.bulk_family import build_family
from shouhu.registry.duplicates import DuplicateChild
from shouhu.registry.models import Child, Grandparent, Guardian, Parent, StatusPeriod
from shouhu.registry.services import (
    PARENT_FIELDS,
    _apply,
    child_event,
    child_snapshot,
    facts_of,
    status_entered_event,
)


def _school_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, Organisation):
        return value.pk
    return int(value)


def _build_parents(child: Child, rows: Iterable[dict[str, Any]]) -> list[Parent]:
    """The same fields and blind indexes as services._write_parents, without saving."""
    out: list[Parent] = []
    for data in rows:
        p = Parent(child=child, relation=data["relation"])
        for f in PARENT_FIELDS:
            if f in data:
                setattr(p, f, data[f])
        p.id_number = data.get("id_number") or None
        p.id_number_index = blind_index("id", p.id_number) if p.id_number else None
        p.phone = data.get("phone") or ""
        p.phone_index = blind_index("phone", p.phone) if p.phone else ""
        out.append(p)
    return out


def _check_scope(actor: User, rows: list[dict[str, Any]]) -> None:
    for code in sorted({r["village"].code for r in rows}):
        if not can(actor, "child.create", code):
            raise ValidationError({"village": [_("您无权在该村（居）建立档案。")]})


def _check_duplicates(children: list[Child]) -> None:
    """R1.7 for the batch: an ID number already on file or repeated in the rows (chunked IN queries)."""
    seen: dict[str, Child] = {}
    for c in children:
        if c.id_number_index:
            if c.id_number_index in seen:
                raise DuplicateChild(seen[c.id_number_index])
            seen[c.id_number_index] = c
    keys = list(seen)
    for i in range(0, len(keys), 900):  # below SQLite's variable limit on old builds
        existing = (
            Child.objects.select_related("village").filter(id_number_index__in=keys[i : i + 900]).first()
        )
        if existing is not None:
            raise DuplicateChild(existing)


def bulk_register(*, actor: User, rows: list[dict[str, Any]], today: date) -> list[Child]:
    """Register already-validated children in one transaction with a constant number of queries.

    A row may carry the child's family beside the file's fields ("grandparents", "carer", "entrusted":
    see `bulk_family.build_family`); it is written with the child and recorded in its `child.created`
    event. Raises ValidationError if a village is outside the actor's edit scope or a guardian is
    invalid, DuplicateChild if an ID number is already on file (or twice in `rows`); nothing is written
    then. Returns the saved children, in the order of `rows`.
    """
    if not rows:
        return []
    _check_scope(actor, rows)
    limit = int(param("left_behind_age_limit"))
    hardship = param("hardship_assistance_codes")
    now = timezone.now()

    children: list[Child] = []
    parents: list[Parent] = []
    periods: list[StatusPeriod] = []
    grandparents: list[Grandparent] = []
    guardians: list[Guardian] = []
    events: list[EventSpec] = []
    for data in rows:
        child = Child(created_by=actor, created_at=now, updated_at=now)
        _apply(child, data)
        child.school_id = _school_id(data.get("school"))
        plist = _build_parents(child, data.get("parents") or [])
        gps, gds, family = build_family(child, data)
        grandparents += gps
        guardians += gds

        facts = facts_of(child, plist)
        decision = rules.evaluate_left_behind(facts, today, age_limit=limit)
        key = rules.evaluate_key_target(facts, decision, today, hardship_codes=hardship, age_limit=limit)
        reasons = [r.text for r in decision.reasons]
        start = (decision.since or today) if decision.left_behind else today
        child.lb_status = decision.left_behind
        child.lb_type = decision.type or ""
        child.lb_reasons = reasons
        child.lb_since = start if decision.left_behind else None
        child.key_target = key.is_key_target
        child.key_target_reasons = list(key.reasons)
        child.status_on = today

        children.append(child)
        parents += plist
        periods.append(
            StatusPeriod(
                child=child,
                left_behind=decision.left_behind,
                type=decision.type or "",
                start=start,
                reasons=reasons,
                recorded_at=now,
            )
        )
        created = child_snapshot(child, plist) | family
        events.append(child_event("child.created", child, actor, _("建立档案"), None, created, at=now))
        if decision.left_behind:
            events.append(status_entered_event(child, actor, child.lb_type, start, reasons, at=now))

    with transaction.atomic():
        _check_duplicates(children)
        bulk_insert(Child, children)
        bulk_insert(Parent, parents)
        bulk_insert(StatusPeriod, periods)
        bulk_insert(Grandparent, grandparents)
        bulk_insert(Guardian, guardians)
        record_events(events)
        publish(CHILDREN_SAVED, children=children, actor=actor)  # care: unattended children are alerts (R2.2)
    return children
