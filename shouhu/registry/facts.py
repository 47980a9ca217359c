"""Dated facts about the parents (R1.11, DESIGN principle 9; issue 12 part 2).

A parent's departure (`away_since`), return (`returned_on`) and changes of guardianship capacity are
kept as `ParentFact` rows, each true from its date. What the file said on a past date — `?as_of=`,
counts at a date — is read from the latest fact on or before that date, never from today's columns
applied to the past. Files written before facts were kept (or by a bulk path that wrote none) fall
back to the parent's own columns, which carry one stint: away from `away_since` until `returned_on`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from shouhu.registry import rules
from shouhu.registry.models import Child, Parent, ParentFact

AWAY, CAPACITY, DECEASED = ParentFact.Kind.AWAY, ParentFact.Kind.CAPACITY, ParentFact.Kind.DECEASED


def _state(p: Any) -> dict[str, Any]:
    return {
        "away": bool(p.away_for_work),
        "away_since": p.away_since,
        "returned_on": p.returned_on,
        "capacity": bool(p.guardianship_capacity),
        "deceased": bool(p.deceased),
    }


def states_of(parents: Iterable[Parent]) -> dict[str, dict[str, Any]]:
    """The parents' recorded states before a write, to compare with after (`facts_for_write`)."""
    return {p.relation: _state(p) for p in parents}


def initial_facts(child: Child, p: Parent) -> list[ParentFact]:
    """What a new parent entry says about the past: away since `away_since` (or since birth when the
    date is unknown) and home again from `returned_on`; capacity as recorded, from birth."""
    origin = child.birth_date
    out: list[ParentFact] = []

    def fact(kind: str, value: bool, on: date | None, note: str = "") -> None:
        out.append(
            ParentFact(child=child, relation=p.relation, kind=kind, value=value, on=on or origin, note=note)
        )

    if p.away_for_work:
        fact(AWAY, True, p.away_since)
    elif p.returned_on:
        fact(AWAY, True, p.away_since, "away_since")
        fact(AWAY, False, p.returned_on, "returned_on")
    else:
        fact(AWAY, False, origin)
    fact(CAPACITY, p.guardianship_capacity and not p.deceased, origin)
    if p.deceased:
        fact(DECEASED, True, origin)
    return out


def facts_for_write(
    child: Child, before: dict[str, dict[str, Any]], after: list[Parent], effective: date
) -> list[ParentFact]:
    """The facts a write adds: a departure dated `away_since`, a return dated `returned_on`, other
    changes dated `effective` (the date the worker gives for the change, default today)."""
    out: list[ParentFact] = []
    for p in after:
        old = before.get(p.relation)
        if old is None:
            out += initial_facts(child, p)
            continue
        new = _state(p)

        def fact(
            kind: str, value: bool, on: date | None, note: str = "", rel: str = p.relation
        ) -> ParentFact:
            return ParentFact(
                child=child, relation=rel, kind=kind, value=value, on=on or effective, note=note
            )

        if new["away"] and (not old["away"] or new["away_since"] != old["away_since"]):
            out.append(fact(AWAY, True, new["away_since"], "away_since"))
        elif not new["away"] and old["away"]:
            out.append(fact(AWAY, False, new["returned_on"], "returned_on" if new["returned_on"] else ""))
        elif not new["away"] and new["returned_on"] and new["returned_on"] != old["returned_on"]:
            out.append(fact(AWAY, False, new["returned_on"], "returned_on"))
        if new["capacity"] != old["capacity"]:
            out.append(fact(CAPACITY, new["capacity"], effective))
        if new["deceased"] != old["deceased"]:
            out.append(fact(DECEASED, new["deceased"], effective))
    return out


def _latest(rows: list[ParentFact], kind: str, on: date) -> ParentFact | None:
    found = [f for f in rows if f.kind == kind and f.on <= on]
    return max(found, key=lambda f: (f.on, f.recorded_at, f.pk or 0)) if found else None


def parents_at(child: Child, on: date, parents: list[Parent] | None = None) -> tuple[rules.ParentFacts, ...]:
    """The parents as the facts recorded them on `on` (one query: the child's facts)."""
    plist = parents if parents is not None else list(child.parents.all())
    facts = list(ParentFact.objects.filter(child=child))
    out: list[rules.ParentFacts] = []
    for p in plist:
        mine = [f for f in facts if f.relation == p.relation]
        if not mine:
            away = bool(
                (p.away_for_work or p.returned_on)
                and (p.away_since is None or p.away_since <= on)
                and (p.returned_on is None or on < p.returned_on)
            )
            out.append(
                rules.ParentFacts(
                    relation=p.relation,
                    away_for_work=away and not p.deceased,
                    away_since=p.away_since if away else None,
                    guardianship_capacity=p.guardianship_capacity,
                    incapacity_reason=p.incapacity_reason,
                    deceased=p.deceased,
                )
            )
            continue
        away_f = _latest(mine, AWAY, on)
        cap_f = _latest(mine, CAPACITY, on)
        dead_f = _latest(mine, DECEASED, on)
        away = bool(away_f and away_f.value)
        capacity = cap_f.value if cap_f else p.guardianship_capacity
        out.append(
            rules.ParentFacts(
                relation=p.relation,
                away_for_work=away,
                away_since=away_f.on if away and away_f else None,
                guardianship_capacity=capacity,
                incapacity_reason="" if capacity else p.incapacity_reason,
                deceased=bool(dead_f and dead_f.value),
            )
        )
    return tuple(out)


def last_return(child: Child, on: date) -> date | None:
    """The latest date on or before `on` from which a parent is recorded home again (an exit's date)."""
    row = (
        ParentFact.objects.filter(child=child, kind=AWAY, value=False, on__lte=on)
        .exclude(note="")
        .order_by("-on")
        .values_list("on", flat=True)
        .first()
    )
    return row
