"""Writes for the entrusted-guardianship agreement (R1.4) and the household with its plan (R1.5).

Same contract as services.py: keyword-only, atomic, validated with messages that say what to fix,
and recorded on the child's timeline.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu.core import codes
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import User
from shouhu.registry.models import Agreement, Child, Guardian, Household, HouseholdMember, HouseholdPlanItem
from shouhu.registry.rules import GuardianFacts, guardian_eligibility
from shouhu.registry.services import child_event


def _event(child: Child, actor: User, verb: str, summary: str, before: Any, after: Any) -> EventSpec:
    return child_event(verb, child, actor, summary, before, after)


def agreement_status(agreement: Agreement, on: date) -> str:
    """ "valid", "expired" or "not_started" on `on` (the scan raises agreement_expired from this)."""
    if on < agreement.valid_from:
        return "not_started"
    return "valid" if on <= agreement.valid_to else "expired"


@transaction.atomic
def agreement_add(*, actor: User, child: Child, data: dict[str, Any], today: date) -> Agreement:
    """Record a signed 委托监护协议 (R1.4). The entrusted guardian must be on file and eligible under
    art. 22 of the Minors Protection Law; lists are codes of agreement_responsibility/agreement_negative."""
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    guardian = Guardian.objects.filter(child=child, role=Guardian.Role.ENTRUSTED).first()
    if guardian is None:
        err("guardian", _("请先登记受委托监护人，再录入委托监护协议。"))
    else:
        ok, problems = guardian_eligibility(
            GuardianFacts(
                birth_date=guardian.birth_date,
                full_civil_capacity=guardian.full_civil_capacity,
                no_violence_history=guardian.no_violence_history,
                no_addiction=guardian.no_addiction,
                no_prior_neglect=guardian.no_prior_neglect,
            ),
            today,
        )
        if not ok:
            for p in problems:
                err("guardian", _("受委托监护人资格未通过核实：%(problem)s") % {"problem": p})
    if not (data.get("principals") or "").strip():
        err("principals", _("请填写委托方（父母）姓名。"))
    signed, start, end = data.get("signed_on"), data.get("valid_from"), data.get("valid_to")
    for field, value in (("signed_on", signed), ("valid_from", start), ("valid_to", end)):
        if value is None:
            err(field, _("请填写日期（格式：2026-01-31）。"))
    if signed and signed > today:
        err("signed_on", _("签订日期不能晚于今天。"))
    if start and end and end < start:
        err("valid_to", _("到期日期不能早于生效日期。"))
    for field, list_name in (
        ("responsibilities", "agreement_responsibility"),
        ("negatives", "agreement_negative"),
    ):
        values = list(dict.fromkeys(data.get(field) or []))
        bad = [v for v in values if not codes.is_valid(list_name, v)]
        if bad:
            err(field, _("清单项目代码无效：%(codes)s。") % {"codes": "、".join(bad)})
        if not values:
            err(field, _("请至少勾选一项。"))
        data[field] = values
    for field in ("notice_school_on", "notice_village_on", "verified_on"):
        value = data.get(field)
        if value and value > today:
            err(field, _("日期不能晚于今天。"))
    if errors:
        raise ValidationError(errors)
    assert guardian is not None and signed is not None and start is not None and end is not None
    agreement = Agreement.objects.create(
        child=child,
        guardian=guardian,
        principals=data["principals"].strip(),
        signed_on=signed,
        valid_from=start,
        valid_to=end,
        responsibilities=data["responsibilities"],
        negatives=data["negatives"],
        notice_school_on=data.get("notice_school_on"),
        notice_village_on=data.get("notice_village_on"),
        verified_on=data.get("verified_on"),
        verified_by=(data.get("verified_by") or "").strip(),
    )
    record_events(
        [
            _event(
                child,
                actor,
                "agreement.added",
                _("委托监护协议"),
                None,
                {
                    "guardian": guardian.name,
                    "principals": agreement.principals,
                    "valid_from": start,
                    "valid_to": end,
                    "responsibilities": agreement.responsibilities,
                    "negatives": agreement.negatives,
                    "notice_school_on": agreement.notice_school_on,
                    "notice_village_on": agreement.notice_village_on,
                    "verified_on": agreement.verified_on,
                },
            )
        ]
    )
    return agreement


@transaction.atomic
def household_attach(*, actor: User, child: Child, head_name: str, address: str = "") -> Household:
    """Put the child in a household (created in the child's village when it has none)."""
    if not head_name.strip():
        raise ValidationError({"head_name": [_("请填写户主姓名。")]})
    household = child.household
    before = {"head_name": household.head_name, "address": household.address} if household else None
    if household is None:
        household = Household.objects.create(
            village=child.village, head_name=head_name.strip(), address=address
        )
        Child.objects.filter(pk=child.pk).update(household=household)
        child.household = household
    else:
        household.head_name, household.address = head_name.strip(), address
        household.version += 1
        household.save()
    record_events(
        [
            _event(
                child,
                actor,
                "household.set",
                _("家庭户"),
                before,
                {"head_name": household.head_name, "address": household.address},
            )
        ]
    )
    return household


@transaction.atomic
def household_member_add(*, actor: User, child: Child, data: dict[str, Any]) -> HouseholdMember:
    household = child.household
    if household is None:
        raise ValidationError({"household": [_("请先建立家庭户。")]})
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError({"name": [_("请填写成员姓名。")]})
    relationship = data.get("relationship") or ""
    if relationship and not codes.is_valid("relationship", relationship):
        raise ValidationError({"relationship": [_("与户主关系代码无效（GB/T 4761）。")]})
    member = HouseholdMember.objects.create(
        household=household,
        name=name,
        relationship=relationship,
        birth_date=data.get("birth_date"),
        notes=data.get("notes", ""),
    )
    record_events(
        [
            _event(
                child,
                actor,
                "household.member_added",
                _("家庭成员"),
                None,
                {"name": name, "relationship": relationship},
            )
        ]
    )
    return member


@transaction.atomic
def plan_item_add(*, actor: User, child: Child, data: dict[str, Any], today: date) -> HouseholdPlanItem:
    """一户一策: a measure with its owner and due date."""
    household = child.household
    errors: dict[str, list[str]] = {}
    if household is None:
        errors["household"] = [_("请先建立家庭户，再制定一户一策。")]
    if not (data.get("measure") or "").strip():
        errors["measure"] = [_("请填写帮扶措施。")]
    if not (data.get("owner") or "").strip():
        errors["owner"] = [_("请填写责任人或责任单位。")]
    if errors:
        raise ValidationError(errors)
    assert household is not None
    item = HouseholdPlanItem.objects.create(
        household=household,
        measure=data["measure"].strip(),
        owner=data["owner"].strip(),
        due_date=data.get("due_date"),
    )
    record_events(
        [
            _event(
                child,
                actor,
                "plan.item_added",
                _("一户一策措施"),
                None,
                {"measure": item.measure, "owner": item.owner, "due_date": item.due_date},
            )
        ]
    )
    return item


@transaction.atomic
def plan_item_done(
    *, actor: User, child: Child, item_id: int, done_on: date, today: date
) -> HouseholdPlanItem:
    item = HouseholdPlanItem.objects.filter(pk=item_id, household=child.household).first()
    if item is None or child.household is None:
        raise ValidationError({"item": [_("该措施不存在。")]})
    if done_on > today:
        raise ValidationError({"done_on": [_("完成日期不能晚于今天。")]})
    before = {"done_on": item.done_on}
    item.done_on = done_on
    item.save(update_fields=["done_on"])
    record_events(
        [
            _event(
                child,
                actor,
                "plan.item_done",
                _("一户一策措施完成"),
                before,
                {"measure": item.measure, "done_on": done_on},
            )
        ]
    )
    return item
