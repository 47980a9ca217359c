"""Every write to a child's file (DESIGN principle 2): keyword-only, atomic, and recorded as an event.

The web form, the API and the ledger import all call these, so the status history and the timeline
follow whatever the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.access import OutOfScope, can
from shouhu.core.crypto import blind_index
from shouhu.core.dispatch import CHILD_SAVED, publish
from shouhu.core.events import EventSpec, record_events
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.models import Region, User
from shouhu.core.pinyin import name_pinyin
from shouhu.core.policy import param
from shouhu.registry import facts as dated
from shouhu.registry import rules
from shouhu.registry.duplicates import (  # noqa: F401 (re-exported: callers catch services.DuplicateChild)
    DuplicateChild,
    check_duplicate_budget,
    find_duplicate,
    lock_village,
    saved_or_duplicate,
    similar_names,
)
from shouhu.registry.family_validation import grandparent_recorded, validate_guardian
from shouhu.registry.models import (
    Child,
    FileState,
    Grandparent,
    Guardian,
    Parent,
    ParentFact,
    Sex,
    StatusPeriod,
)
from shouhu.registry.validation import clean_name, validate_child

CHILD_FIELDS = [
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "hukou_registered",
    "hukou_rural",
    "hukou_place",
    "address",
    "health",
    "disability_type",
    "disability_grade",
    "illness",
    "boarding",
    "schooling",
    "care_arrangement",
    "guardianship_rating",
    "moved_with_parents",
    "income_sources",
    "assistance",
    "distress_categories",
    "village_contact_name",
    "notes",
]
PARENT_FIELDS = [
    "name",
    "birth_date",
    "away_for_work",
    "away_since",
    "returned_on",
    "work_province",
    "work_city",
    "abroad",
    "work_country",
    "guardianship_capacity",
    "incapacity_reason",
    "deceased",
]


class StaleVersion(Exception):
    """Someone saved the file after this user loaded it (optimistic concurrency, 409)."""

    def __init__(self, current: int):
        super().__init__(_("该档案已被他人修改（当前版本 %(v)d），请刷新后重新编辑。") % {"v": current})
        self.current = current


@dataclass(frozen=True)
class StatusChange:
    child_id: str
    before: tuple[bool, str]
    after: tuple[bool, str]
    effective: date


# --- snapshots for the timeline (identifiers masked: the audit trail must not undo encryption) -----


def child_snapshot(child: Child, parents: list[Parent] | None = None) -> dict[str, Any]:
    snap: dict[str, Any] = {f: getattr(child, f) for f in CHILD_FIELDS}
    snap["village"] = child.village_id
    snap["school"] = child.school_id
    snap["id_number"] = mask_id_number(child.id_number)
    snap["village_contact_phone"] = mask_phone(child.village_contact_phone or None)
    plist = parents if parents is not None else list(child.parents.all())
    snap["parents"] = [
        {
            **{f: getattr(p, f) for f in PARENT_FIELDS},
            "relation": p.relation,
            "id_number": mask_id_number(p.id_number),
            "phone": mask_phone(p.phone or None),
        }
        for p in plist
    ]
    return snap


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, so the timeline says what happened."""
    if before is None:
        return {}, after
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


# --- facts for the rules ---------------------------------------------------------------------------


def facts_of(child: Child, parents: list[Parent] | None = None) -> rules.ChildFacts:
    plist = parents if parents is not None else list(child.parents.all())
    return rules.ChildFacts(
        birth_date=child.birth_date,
        sex=child.sex,
        hukou_rural=child.hukou_rural,
        moved_with_parents=child.moved_with_parents,
        care_arrangement=child.care_arrangement,
        health=child.health,
        assistance=frozenset(child.assistance or []),
        parents=tuple(
            rules.ParentFacts(
                relation=p.relation,
                away_for_work=p.away_for_work,
                away_since=p.away_since,
                guardianship_capacity=p.guardianship_capacity,
                incapacity_reason=p.incapacity_reason,
                deceased=p.deceased,
            )
            for p in plist
        ),
    )


def evaluate(
    child: Child, on: date, parents: list[Parent] | None = None
) -> tuple[rules.LeftBehindDecision, rules.KeyTargetDecision]:
    facts = facts_of(child, parents)
    limit = int(param("left_behind_age_limit"))
    decision = rules.evaluate_left_behind(facts, on, age_limit=limit)
    key = rules.evaluate_key_target(
        facts, decision, on, hardship_codes=param("hardship_assistance_codes"), age_limit=limit
    )
    return decision, key


# --- writes ----------------------------------------------------------------------------------------


def _apply(child: Child, data: dict[str, Any]) -> None:
    for f in CHILD_FIELDS:
        if f in data:
            setattr(child, f, data[f])
    child.village = data["village"]
    if "school" in data:
        child.school = data["school"]
    child.id_number = data.get("id_number")
    child.id_number_index = blind_index("id", child.id_number) if child.id_number else None
    if "village_contact_phone" in data:
        child.village_contact_phone = data["village_contact_phone"] or ""
    child.name_pinyin, child.name_initials = name_pinyin(child.name)


def evaluate_at(
    child: Child, on: date, parents: list[Parent] | None = None
) -> tuple[rules.LeftBehindDecision, rules.KeyTargetDecision]:
    """The decisions as they were on `on`: the parents from the dated facts (`?as_of=`, R1.11)."""
    plist = parents if parents is not None else list(child.parents.all())
    facts = replace(facts_of(child, plist), parents=dated.parents_at(child, on, plist))
    limit = int(param("left_behind_age_limit"))
    decision = rules.evaluate_left_behind(facts, on, age_limit=limit)
    key = rules.evaluate_key_target(
        facts, decision, on, hardship_codes=param("hardship_assistance_codes"), age_limit=limit
    )
    return decision, key


def _write_parents(child: Child, parents: list[dict[str, Any]], *, effective: date) -> list[Parent]:
    """Write the parent entries and the dated facts their changes make (R1.11)."""
    existing = {p.relation: p for p in child.parents.all()}
    before = dated.states_of(existing.values())
    keep: list[Parent] = []
    for data in parents:
        p = existing.pop(data["relation"], None) or Parent(child=child, relation=data["relation"])
        for f in PARENT_FIELDS:
            if f in data:
                setattr(p, f, data[f])
        p.id_number = data.get("id_number") or None
        p.id_number_index = blind_index("id", p.id_number) if p.id_number else None
        p.phone = data.get("phone") or ""
        p.phone_index = blind_index("phone", p.phone) if p.phone else ""
        p.save()
        keep.append(p)
    for stale in existing.values():
        stale.delete()
    ParentFact.objects.bulk_create(dated.facts_for_write(child, before, keep, effective))
    return keep


def child_event(
    verb: str, child: Child, actor: User | None, summary: str, before: Any, after: Any, at: Any = None
) -> EventSpec:
    return EventSpec(
        verb=verb,
        subject_type="registry.child",
        subject_id=str(child.pk),
        actor=actor,
        child_id=str(child.pk),
        region_code=child.village_id,
        summary=summary,
        before=before,
        after=after,
        occurred_at=at or timezone.now(),
    )


def status_entered_event(
    child: Child, actor: User | None, lb_type: str, since: date, reasons: list[str], at: Any = None
) -> EventSpec:
    """The first status period of a new file opening as left-behind (R1.6): `child_create`'s and
    `bulk_register`'s timeline entry."""
    return child_event(
        "child.status_entered",
        child,
        actor,
        _("认定为农村留守儿童"),
        None,
        {"type": lb_type, "since": since, "reasons": reasons},
        at=at,
    )


@transaction.atomic
def child_create(*, actor: User, data: dict[str, Any], today: date | None = None) -> Child:
    """Register a child (R1.1). Refuses a duplicate with a link to the existing file (R1.7)."""
    today = today or timezone.localdate()
    clean = validate_child(data, today=today)
    if not can(actor, "child.create", clean["village"].code):
        raise ValidationError({"village": [_("您无权在该村（居）建立档案。")]})
    check_duplicate_budget(actor, clean.get("id_number"))
    lock_village(clean["village"].code)
    dup = find_duplicate(
        id_number=clean.get("id_number"),
        name=clean["name"],
        birth_date=clean["birth_date"],
        village_code=clean["village"].code,
    )
    if dup is not None:
        raise DuplicateChild(dup)
    child = Child(created_by=actor)
    _apply(child, clean)
    saved_or_duplicate(child, village_code=clean["village"].code)
    parents = _write_parents(child, clean.get("parents") or [], effective=today)
    after = child_snapshot(child, parents)
    events = [child_event("child.created", child, actor, _("建立档案"), None, after)]
    events += _refresh(child, parents, on=today, effective=today, actor=actor)
    record_events(events)
    publish(CHILD_SAVED, child=child, actor=actor)  # care: an unattended child is an alert at once (R2.2)
    return child


PROVISIONAL_DEFAULT_AGE = 10  # years, when a report does not say how old the child is
UNKNOWN_SEX = ("", "0", "9")  # GB/T 2261.1: 0 未知的性别, 9 未说明的性别


@transaction.atomic
def child_create_provisional(
    *,
    actor: User | None,
    name: str,
    village: Region | str,
    sex: str | None = None,
    birth_date: date | None = None,
    today: date | None = None,
    note: str = "",
) -> Child:
    """A provisional file (is_provisional) for a child a mandatory report names but who is not on file.

    It holds only what a report can know: the name, the village, and the sex and birth date if known
    (without a birth date, 1 January of the year the child turns PROVISIONAL_DEFAULT_AGE — an estimate
    the note says is one). The rest is left at conservative values (no ID number, hukou not registered,
    schooling and care arrangement blank), so its derived status is "not left-behind" and it counts in
    no statistic until the village worker completes it through `child_update`, which clears the flag.

    The actor's edit scope is deliberately NOT checked, unlike `child_create`: the Minors Protection
    Law (art. 11) lets anyone report, and obliges schools, clinics and other mandated units to report, a
    child in danger wherever the child lives — a citizen has no scope at all and a school's pupils
    live in villages outside it. Refusing the file would refuse the report. The file gives the
    reporter no access: who may see or edit it is decided by the village, as for any other file.
    No duplicate check either: the caller matches a child already on file before calling this.
    """
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    clean = clean_name(name)
    if not clean:
        errors.setdefault("name", []).append(_("请填写儿童姓名。"))
    elif len(clean) > 50:
        errors.setdefault("name", []).append(_("姓名过长（最多50个字）。"))
    region = village if isinstance(village, Region) else Region.objects.filter(code=village).first()
    if region is None:
        errors.setdefault("village", []).append(_("请选择儿童所在的村（居）委会（12位区划代码）。"))
    elif not region.is_village_level:
        errors.setdefault("village", []).append(
            _("“%(name)s”不是村（居）委会，请选择到村一级。") % {"name": region.name}
        )
    sex = (sex or "").strip()
    if sex in UNKNOWN_SEX:
        sex = ""
    elif sex not in Sex.values:
        errors.setdefault("sex", []).append(_("性别须为“1”（男）或“2”（女），不清楚的可不填。"))
    notes = [_("由报告建立的临时档案，请村（居）儿童主任核实并补全。")]
    if birth_date is None:
        birth_date = date(today.year - PROVISIONAL_DEFAULT_AGE, 1, 1)
        notes.append(_("出生日期不详，暂按%(age)d周岁估计。") % {"age": PROVISIONAL_DEFAULT_AGE})
    elif birth_date > today:
        errors.setdefault("birth_date", []).append(
            _("出生日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()}
        )
    if errors:
        raise ValidationError(errors)
    assert region is not None
    if note.strip():
        notes.append(note.strip())
    child = Child(
        name=clean,
        sex=sex,
        birth_date=birth_date,
        village=region,
        hukou_registered=False,
        id_number=None,
        id_number_index=None,
        schooling="",
        care_arrangement="",
        is_provisional=True,
        created_by=actor,
        notes="".join(notes),
    )
    child.name_pinyin, child.name_initials = name_pinyin(clean)
    child.save()
    after = {**child_snapshot(child, []), "is_provisional": True}
    events = [child_event("child.created_provisional", child, actor, _("根据报告建立临时档案"), None, after)]
    events += _refresh(child, [], on=today, effective=today, actor=actor)
    record_events(events)
    publish(CHILD_SAVED, child=child, actor=actor)  # care: an unattended child is an alert at once (R2.2)
    return child


@transaction.atomic
def child_update(
    *,
    actor: User,
    child_id: Any,
    data: dict[str, Any],
    version: int,
    today: date | None = None,
    effective: date | None = None,
) -> Child:
    """Edit a file with optimistic concurrency; `effective` dates a status change (default today)."""
    today = today or timezone.localdate()
    child = Child.objects.select_for_update().filter(pk=child_id).first()
    if child is None or not can(actor, "child.edit", child):
        raise OutOfScope()
    if child.version != version:
        raise StaleVersion(child.version)
    if child.state != FileState.ACTIVE:
        raise ValidationError({"state": [_("该档案已归档，只能查看；请先恢复档案再修改。")]})
    merged = {
        **child_snapshot(child),
        "id_number": child.id_number,
        "village_contact_phone": child.village_contact_phone,
        "village": child.village_id,
    }
    merged.pop("parents")
    merged.update(data)
    if "parents" not in data:
        merged["parents"] = None
    clean = validate_child(merged, today=today)
    if clean.get("parents") is None:
        clean.pop("parents", None)
    if not can(actor, "child.edit", clean["village"].code):
        raise ValidationError({"village": [_("您无权把档案转到该村（居）。")]})
    if clean.get("id_number") != child.id_number:
        check_duplicate_budget(actor, clean.get("id_number"))
    lock_village(clean["village"].code)
    dup = find_duplicate(
        id_number=clean.get("id_number"),
        name=clean["name"],
        birth_date=clean["birth_date"],
        village_code=clean["village"].code,
        exclude=child.pk,
    )
    if dup is not None:
        raise DuplicateChild(dup)
    if effective is not None and effective > today:
        raise ValidationError({"effective": [_("变化日期不能晚于今天。")]})
    before = child_snapshot(child)
    completed = child.is_provisional  # the full form validated: the provisional file is now complete
    _apply(child, clean)
    child.is_provisional = False
    child.version += 1
    child.updated_at = timezone.now()
    saved_or_duplicate(child, village_code=clean["village"].code)
    parents = (
        _write_parents(child, clean["parents"], effective=effective or today)
        if "parents" in clean
        else list(child.parents.all())
    )
    b, a = diff(before, child_snapshot(child, parents))
    if completed:
        b["is_provisional"], a["is_provisional"] = True, False
    events = []
    if a:
        summary = _("补全临时档案") if completed else _("修改档案")
        events.append(child_event("child.updated", child, actor, summary, b, a))
    events += _refresh(child, parents, on=today, effective=effective or today, actor=actor)
    record_events(events)
    publish(CHILD_SAVED, child=child, actor=actor)  # care: an unattended child is an alert at once (R2.2)
    return child


def _refresh(
    child: Child, parents: list[Parent], *, on: date, effective: date, actor: User | None
) -> list[EventSpec]:
    """Re-derive status as of `on`; keep the dated history; return the events to record (R1.6)."""
    decision, key = evaluate(child, on, parents)
    reasons = [r.text for r in decision.reasons]
    snapshot = dict(
        lb_status=decision.left_behind,
        lb_type=decision.type or "",
        lb_reasons=reasons,
        key_target=key.is_key_target,
        key_target_reasons=list(key.reasons),
        status_on=on,
    )
    current = StatusPeriod.objects.filter(child=child, end__isnull=True).first()
    events: list[EventSpec] = []
    new_state = (decision.left_behind, decision.type or "")
    if current is None:
        start = (decision.since or on) if decision.left_behind else on
        StatusPeriod.objects.create(
            child=child, left_behind=new_state[0], type=new_state[1], start=start, reasons=reasons
        )
        snapshot["lb_since"] = start if decision.left_behind else None
        if decision.left_behind:
            events.append(status_entered_event(child, actor, new_state[1], start, reasons))
    elif (current.left_behind, current.type) != new_state:
        when = effective
        back = None if decision.left_behind else dated.last_return(child, on)
        if any(r.code == "age_out" for r in decision.reasons):
            when = rules.age_out_date(child.birth_date, int(param("left_behind_age_limit")))
        elif back is not None and current.start < back <= on:  # exit on the day a parent came home
            when = back
        elif decision.left_behind and decision.since and current.start < decision.since <= on:
            when = decision.since
        when = max(when, current.start)
        before_state = {"left_behind": current.left_behind, "type": current.type, "since": current.start}
        if when <= current.start:  # a correction on the day the period began: rewrite it
            current.left_behind, current.type, current.reasons = new_state[0], new_state[1], reasons
            current.save(update_fields=["left_behind", "type", "reasons"])
        else:
            current.end = when
            current.save(update_fields=["end"])
            StatusPeriod.objects.create(
                child=child, left_behind=new_state[0], type=new_state[1], start=when, reasons=reasons
            )
        snapshot["lb_since"] = when if decision.left_behind else None
        verb = "child.status_entered" if decision.left_behind else "child.status_exited"
        summary = _("认定为农村留守儿童") if decision.left_behind else _("退出农村留守儿童")
        events.append(
            child_event(
                verb,
                child,
                actor,
                summary,
                before_state,
                {"left_behind": new_state[0], "type": new_state[1], "date": when, "reasons": reasons},
            )
        )
    else:
        current.reasons = reasons
        current.save(update_fields=["reasons"])
    Child.objects.filter(pk=child.pk).update(**snapshot)
    for k, v in snapshot.items():
        setattr(child, k, v)
    return events


@transaction.atomic
def refresh_statuses(*, on: date, actor: User | None = None) -> list[StatusChange]:
    """Age-outs and other date-driven changes as of `on`, for the whole county at once (the scan).

    Only children whose status can have changed by date are evaluated: those on the ledger who turned
    16 on or before `on`, and those whose snapshot is older than a recorded departure date.
    """
    limit = int(param("left_behind_age_limit"))
    # Born on or before this date ⇒ 16th birthday is before `on` (a day's margin for 29 February).
    latest_birth = rules.anniversary(on, -limit)
    candidates = list(
        Child.objects.filter(
            lb_status=True, state=FileState.ACTIVE, birth_date__lte=latest_birth + timedelta(days=1)
        ).prefetch_related("parents")
    )
    candidates += list(
        Child.objects.filter(
            lb_status=False,
            state=FileState.ACTIVE,
            parents__away_for_work=True,
            parents__away_since__gt=F("status_on"),
            parents__away_since__lte=on,
        )
        .distinct()
        .prefetch_related("parents")
    )
    changes: list[StatusChange] = []
    events: list[EventSpec] = []
    for child in {c.pk: c for c in candidates}.values():
        before = (child.lb_status, child.lb_type)
        evs = _refresh(child, list(child.parents.all()), on=on, effective=on, actor=actor)
        if (child.lb_status, child.lb_type) != before:
            changes.append(StatusChange(str(child.pk), before, (child.lb_status, child.lb_type), on))
        events += evs
    record_events(events)
    return changes


# --- guardians, grandparents -----------------------------------------------------------------------


@transaction.atomic
def guardian_set(*, actor: User, child: Child, role: str, data: dict[str, Any]) -> Guardian:
    """Record the carer or the entrusted guardian (R1.3); identifiers encrypted with blind indexes.
    Validated by `family_validation.validate_guardian`, the rules the ledger import checks rows with."""
    clean, errors = validate_guardian(data, role=role)
    if errors:
        raise ValidationError(errors)
    g = Guardian.objects.filter(child=child, role=role).first()
    before = _guardian_snapshot(g) if g else None
    g = g or Guardian(child=child, role=role)
    fill_guardian(g, clean)
    g.save()
    b, a = diff(before, _guardian_snapshot(g))
    record_events([child_event("guardian.set", child, actor, str(Guardian.Role(role).label), b, a)])
    return g


GUARDIAN_ATTRS = (
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


def fill_guardian(g: Guardian, clean: dict[str, Any]) -> None:
    """Validated guardian data onto `g` (`guardian_set`, `bulk_family`): the fields given, the encrypted
    identifiers and their blind indexes."""
    for f in GUARDIAN_ATTRS:
        if f in clean:
            setattr(g, f, clean[f])
    g.id_number = clean["id_number"]
    g.id_number_index = blind_index("id", g.id_number) if g.id_number else None
    g.phone = clean["phone"]
    g.phone_index = blind_index("phone", g.phone) if g.phone else ""


def _guardian_snapshot(g: Guardian) -> dict[str, Any]:
    return {
        "role": g.role,
        "name": g.name,
        "relationship": g.relationship,
        "birth_date": g.birth_date,
        "id_number": mask_id_number(g.id_number),
        "phone": mask_phone(g.phone or None),
        "address": g.address,
        "full_civil_capacity": g.full_civil_capacity,
        "no_violence_history": g.no_violence_history,
        "no_addiction": g.no_addiction,
        "no_prior_neglect": g.no_prior_neglect,
        "checked_on": g.checked_on,
    }


@transaction.atomic
def grandparents_set(*, actor: User, child: Child, rows: list[dict[str, Any]]) -> None:
    before = [_gp(g) for g in child.grandparents.all()]
    child.grandparents.all().delete()
    Grandparent.objects.bulk_create(build_grandparents(child, rows))
    after = [_gp(g) for g in child.grandparents.all()]
    if before != after:
        record_events([child_event("grandparents.set", child, actor, _("祖辈信息"), before, after)])


def build_grandparents(child: Child, rows: list[dict[str, Any]]) -> list[Grandparent]:
    """The grandparents a list of rows records (`grandparents_set`, `bulk_family`), unsaved, in the
    model's order; a row with neither a name nor "deceased" records nothing (R1.1)."""
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
        if grandparent_recorded(r)
    ]
    built.sort(key=lambda g: (g.side, g.relation))  # Grandparent.Meta.ordering
    return built


def _gp(g: Grandparent) -> dict[str, Any]:
    return {
        "side": g.side,
        "relation": g.relation,
        "name": g.name,
        "birth_date": g.birth_date,
        "deceased": g.deceased,
    }
