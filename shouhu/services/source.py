"""Writes for reducing left-behind children at the source (R9.1, R9.2; issue 17 parts 5–6): a migrant
parent's wishes, referrals to employment, entrepreneurship, training, housing, hukou and school-admission
help with their outcomes, and the household's 建档立卡 status and 六个一批 category.

A parent's return (`returned`) closes the loop through the registry: the parent is no longer away for
work from that date, so the file's dated status changes there (and the child leaves the left-behind
ledger with the reason 父母返乡就业, counted in selectors_overview)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from shouhu.core.access import can
from shouhu.core.events import record_event
from shouhu.core.models import User
from shouhu.core.visibility import CARE, FAMILY
from shouhu.registry.models import Child, Parent
from shouhu.registry.services import StaleVersion, child_update
from shouhu.services.models import ParentReferral, ParentWish, Poverty, PovertyCategory

POVERTY_CODE = "poverty_registered"  # the assistance code the key-target rule's policy list names
RELATIONS = ("father", "mother")


def _bad(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _require(actor: User, capability: str, child: Child) -> None:
    if not can(actor, capability, child):
        raise _bad("detail", _("您无权为该儿童登记。"))


def _choice(value: Any, allowed: Any, field: str) -> str:
    if value not in allowed:
        raise _bad(
            field, _("“%(v)s”不是有效的选项。可选：%(all)s。") % {"v": value, "all": "、".join(allowed)}
        )
    return str(value)


def _date(value: Any, field: str) -> date:
    d = value if isinstance(value, date) else parse_date(str(value or ""))
    if d is None:
        raise _bad(field, _("请填写日期，格式 YYYY-MM-DD。"))
    if d > timezone.localdate():
        raise _bad(field, _("日期不能晚于今天。"))
    return d


@transaction.atomic
def wish_record(*, actor: User, child: Child, data: dict[str, Any]) -> ParentWish:
    """The parent's wish, heard in a visit or on the parent's own call (R9.1)."""
    _require(actor, "care.record", child)
    wish = ParentWish.objects.create(
        child=child,
        parent=_choice(data.get("parent"), RELATIONS, "parent"),
        kind=_choice(data.get("kind"), ParentWish.Kind.values, "kind"),
        source=_choice(data.get("source") or "visit", ParentWish.Source.values, "source"),
        note=str(data.get("note") or "")[:300],
        recorded_by=actor,
    )
    record_event(
        verb="service.parent_wish",
        subject_type="services.parentwish",
        subject_id=str(wish.pk),
        actor=actor,
        child_id=str(child.pk),
        region_code=child.village_id,
        summary=f"{wish.get_parent_display()}：{wish.get_kind_display()}",
        after={"parent": wish.parent, "kind": wish.kind, "source": wish.source},
        visibility=CARE,
    )
    return wish


@transaction.atomic
def referral_create(*, actor: User, child: Child, data: dict[str, Any]) -> ParentReferral:
    """Refer a parent to the agency that helps (the county human-resources bureau's job list …)."""
    _require(actor, "care.record", child)
    agency = str(data.get("agency") or "").strip()
    if not agency:
        raise _bad("agency", _("请填写承接单位，如县人力社保局。"))
    ref = ParentReferral.objects.create(
        child=child,
        parent=_choice(data.get("parent"), RELATIONS, "parent"),
        kind=_choice(data.get("kind"), ParentReferral.Kind.values, "kind"),
        agency=agency[:100],
        note=str(data.get("note") or "")[:300],
        created_by=actor,
    )
    record_event(
        verb="service.parent_referred",
        subject_type="services.parentreferral",
        subject_id=str(ref.pk),
        actor=actor,
        child_id=str(child.pk),
        region_code=child.village_id,
        summary=f"{ref.get_parent_display()}转介：{ref.get_kind_display()}（{agency}）",
        after={"parent": ref.parent, "kind": ref.kind, "agency": agency},
        visibility=CARE,
    )
    return ref


@transaction.atomic
def referral_outcome(
    *, actor: User, referral: ParentReferral, outcome: str, on: Any, note: str = ""
) -> ParentReferral:
    """The outcome of a parent's referral, dated. `returned`: the parent came home on that date — the
    registry records it (no longer away for work from `on`), so the left-behind status ends there."""
    ref = ParentReferral.objects.select_for_update(of=("self",)).select_related("child").get(pk=referral.pk)
    _require(actor, "care.record", ref.child)
    if ref.outcome != ParentReferral.Outcome.PENDING:
        raise _bad("outcome", _("该转介已有结果。"))
    outcome = _choice(outcome, [o for o in ParentReferral.Outcome.values if o != "pending"], "outcome")
    when = _date(on, "on")
    if when < timezone.localtime(ref.created_at).date():
        raise _bad("on", _("结果日期不能早于转介日期。"))
    ref.outcome, ref.outcome_on = outcome, when
    ref.note = (ref.note + ("；" if ref.note and note else "") + note)[:300]
    ref.save(update_fields=["outcome", "outcome_on", "note"])
    if outcome == ParentReferral.Outcome.RETURNED:
        _parent_home(actor, ref.child, ref.parent, when)
    record_event(
        verb="service.parent_outcome",
        subject_type="services.parentreferral",
        subject_id=str(ref.pk),
        actor=actor,
        child_id=str(ref.child_id),
        region_code=ref.child.village_id,
        summary=f"{ref.get_parent_display()}转介结果：{ref.get_outcome_display()}（{when:%Y-%m-%d}）",
        after={"outcome": outcome, "on": when.isoformat()},
        visibility=CARE,
    )
    return ref


def _parent_home(actor: User, child: Child, relation: str, on: date) -> None:
    """The registry's own edit of the file (dated facts, status periods, events): the parent is home."""
    if not can(actor, "child.edit", child):
        raise _bad("outcome", _("登记父母返乡须有修改该儿童档案的权限。"))
    parents: list[dict[str, Any]] = []
    found = False
    for p in Parent.objects.filter(child=child):
        row = _parent_row(p)
        if p.relation == relation:
            found = True
            row.update(away_for_work=False, away_since=None, work_province="", work_city="", abroad=False)
        parents.append(row)
    if not found:
        raise _bad("parent", _("档案中没有登记该父母。"))
    child = Child.objects.get(pk=child.pk)
    try:
        child_update(
            actor=actor, child_id=child.pk, data={"parents": parents}, version=child.version, effective=on
        )
    except StaleVersion as exc:  # not expected inside one transaction; said clearly if it happens
        raise _bad("detail", str(exc)) from exc


def _parent_row(p: Parent) -> dict[str, Any]:
    from shouhu.registry.services import PARENT_FIELDS

    row: dict[str, Any] = {f: getattr(p, f) for f in PARENT_FIELDS}
    row.update(relation=p.relation, id_number=p.id_number or None, phone=p.phone or "")
    return row


@transaction.atomic
def poverty_set(*, actor: User, child: Child, data: dict[str, Any]) -> Poverty:
    """建档立卡 and 六个一批 (R9.2). A registered household's child carries the assistance code
    `poverty_registered`, which the key-target rule counts as 生活困难 when the county's policy list
    `hardship_assistance_codes` names it."""
    _require(actor, "child.edit", child)
    registered = data.get("registered") in (True, "true", "on", "1", 1)
    category = str(data.get("category") or "")
    if category:
        _choice(category, PovertyCategory.values, "category")
    if category and not registered:
        raise _bad("category", _("只有建档立卡贫困户才有“六个一批”帮扶类别。"))
    since = _date(data["since"], "since") if data.get("since") else None
    row, _created = Poverty.objects.get_or_create(child=child)
    before = {"registered": row.registered, "category": row.category}
    row.registered, row.category, row.since = registered, category, since
    row.updated_at, row.updated_by = timezone.now(), actor
    row.save()
    codes = list(child.assistance or [])
    wanted = [c for c in codes if c != POVERTY_CODE] + ([POVERTY_CODE] if registered else [])
    if wanted != codes:
        fresh = Child.objects.get(pk=child.pk)
        child_update(actor=actor, child_id=child.pk, data={"assistance": wanted}, version=fresh.version)
    record_event(
        verb="service.poverty_set",
        subject_type="services.poverty",
        subject_id=str(child.pk),
        actor=actor,
        child_id=str(child.pk),
        region_code=child.village_id,
        summary=f"建档立卡：{'是' if registered else '否'} {row.get_category_display() if category else ''}",
        before=before,
        after={"registered": registered, "category": category},
        visibility=FAMILY,
    )
    return row
