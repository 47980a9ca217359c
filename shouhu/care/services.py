"""Every write of the care module (DESIGN principle 2): keyword-only, atomic, validated with a message
that says what to fix, and recorded on the child's timeline.

Who may write: those who may edit the child's file (village worker, township supervisor, county); a
school may also log the calls it helped a pupil make (R2.4). Out of scope answers like a missing record.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.care import notify, rules, selectors
from shouhu.care.alerts import AlertSpec, open_alert, resolve_alert
from shouhu.care.models import (
    Admonition,
    Alert,
    AlertKind,
    CareAssignment,
    GuidanceSession,
    ParentContact,
    Visit,
)
from shouhu.core.access import OutOfScope, can
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import Region, User
from shouhu.core.policy import param
from shouhu.registry import services as registry_services
from shouhu.registry.models import Child, Rating

FINDING_FIELDS = {
    "safety_hazards": gettext_lazy("安全隐患"),
    "living_conditions": gettext_lazy("生活状况"),
    "study": gettext_lazy("学习情况"),
    "health": gettext_lazy("身体健康"),
    "psychology": gettext_lazy("心理状况"),
    "guardian_performance": gettext_lazy("监护人履责情况"),
    "needs": gettext_lazy("发现的需求"),
}


class FileChanged(Exception):
    """Issue 16 (DESIGN principle 6): a record typed against an older version of the file would change
    the file, and the file changed meanwhile (another device, another worker). Nothing is written; the
    worker sees what happened and decides. `version` is the file's version now."""

    def __init__(self, message: str, version: int) -> None:
        super().__init__(message)
        self.message = message
        self.version = version


def _client_key(data: dict[str, Any], errors: dict[str, list[str]]) -> uuid.UUID | None:
    """The browser's idempotency key (a UUID), or None when the caller sent none."""
    raw = data.get("client_key")
    if raw in (None, ""):
        return None
    try:
        return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
    except ValueError:
        errors.setdefault("client_key", []).append(_("幂等键须为 UUID。"))
        return None


def _replayed(model: Any, key: uuid.UUID | None, actor: User, child: Child) -> Any:
    """The record this key already made, when a post is sent again (issue 16). A key that belongs to
    another child or another user is refused, so a guessed key neither reveals nor hijacks a record."""
    if key is None:
        return None
    row = model.objects.filter(client_key=key).first()
    if row is None:
        return None
    if row.child_id != child.pk or row.recorded_by_id != actor.pk:
        raise ValidationError({"client_key": [_("该幂等键已被另一条记录使用，请刷新页面后重新填写。")]})
    return row


def _create_once(model: Any, key: uuid.UUID | None, actor: User, child: Child, **fields: Any) -> Any:
    """Create the row, or — when the same key won a race a moment earlier — answer the row it made.
    The savepoint keeps the outer transaction usable after the unique index refuses the second insert."""
    try:
        with transaction.atomic():
            return model.objects.create(child=child, client_key=key, recorded_by=actor, **fields)
    except IntegrityError:
        row = _replayed(model, key, actor, child)
        if row is None:
            raise
        row.replayed = True
        return row


def _event(
    child: Child,
    actor: User | None,
    verb: str,
    subject: Any,
    summary: str,
    after: Any,
    at: datetime | None = None,
) -> EventSpec:
    return EventSpec(
        verb=verb,
        subject_type=f"care.{subject.__class__.__name__.lower()}",
        subject_id=str(subject.pk),
        actor=actor,
        child_id=str(child.pk),
        region_code=child.village_id,
        summary=summary,
        after=after,
        occurred_at=at or timezone.now(),
    )


def may_edit(actor: User, child: Child) -> bool:
    return can(actor, "care.record", child)


def may_log_contact(actor: User, child: Child) -> bool:
    """The village's workers, and a school for its pupils (R2.4: calls the school helped make)."""
    return can(actor, "care.contact", child)


def _require(actor: User, child: Child, allowed: bool) -> None:
    if not can(actor, "child.view", child):
        raise OutOfScope()
    if not allowed:
        raise PermissionDenied(_("您可以查看该儿童的记录，但无权录入。"))
    if child.state != "active":  # API.md: archived files are read-only until reactivated
        raise ValidationError({"state": [_("该档案已归档，只能查看；请先恢复档案再登记。")]})


def _when(value: Any, field: str, now: datetime, errors: dict[str, list[str]]) -> datetime | None:
    if not isinstance(value, datetime):
        errors.setdefault(field, []).append(_("请填写时间。"))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now:
        errors.setdefault(field, []).append(_("时间不能晚于当前时间（不能登记尚未发生的事）。"))
    return value


@transaction.atomic
def contact_log(
    *, actor: User, child: Child, data: dict[str, Any], now: datetime | None = None
) -> ParentContact:
    """R2.1/R2.4: a parent's call, video call or meeting; calls the village or school set up count too."""
    now = now or timezone.now()
    _require(actor, child, may_log_contact(actor, child))
    errors: dict[str, list[str]] = {}
    if data.get("parent") not in ("father", "mother"):
        errors.setdefault("parent", []).append(_("请选择父亲或母亲。"))
    if data.get("channel") not in ParentContact.Channel.values:
        errors.setdefault("channel", []).append(_("联系方式须为电话、视频或见面。"))
    facilitated = data.get("facilitated_by") or "self"
    if facilitated not in ParentContact.Facilitator.values:
        errors.setdefault("facilitated_by", []).append(_("协助方须为家庭自行、村（居）或学校。"))
    when = _when(data.get("occurred_at"), "occurred_at", now, errors)
    key = _client_key(data, errors)
    if errors or when is None:  # `_when` gives None only after recording an error
        raise ValidationError(errors)
    earlier = _replayed(ParentContact, key, actor, child)
    if earlier is not None:
        earlier.replayed = True
        return earlier
    contact = _create_once(
        ParentContact,
        key,
        actor,
        child,
        parent=data["parent"],
        channel=data["channel"],
        facilitated_by=facilitated,
        occurred_at=when,
        note=(data.get("note") or "")[:200],
        recorded_at=now,
    )
    if getattr(contact, "replayed", False):
        return contact
    summary = _("登记亲子联系：%(c)s") % {"c": contact.get_channel_display()}
    record_events(
        [
            _event(
                child,
                actor,
                "care.contact_logged",
                contact,
                summary,
                {
                    "parent": contact.parent,
                    "channel": contact.channel,
                    "facilitated_by": facilitated,
                    "occurred_at": when,
                },
                now,
            )
        ]
    )
    return contact


@transaction.atomic
def visit_log(
    *, actor: User, child: Child, data: dict[str, Any], now: datetime | None = None
) -> tuple[Visit, Alert | None]:
    """R3.1/R3.2: a visit with structured findings. A new rating updates the file through the registry's
    `child_update` (history and timeline follow); finding the child living alone records the child as
    unattended — which raises the `unattended` alert at once (R2.2) — and the alert is returned."""
    now = now or timezone.now()
    _require(actor, child, may_edit(actor, child))
    errors: dict[str, list[str]] = {}
    kind = data.get("kind") or Visit.Kind.ROUTINE
    if kind not in Visit.Kind.values:
        errors.setdefault("kind", []).append(_("走访类型须为定期走访排查、重点对象核查或随访。"))
    role = data.get("visitor_role") or Visit.VisitorRole.CHILD_DIRECTOR
    if role not in Visit.VisitorRole.values:
        errors.setdefault("visitor_role", []).append(_("走访人身份无效。"))
    rating = data.get("guardianship_rating") or ""
    if rating and rating not in Rating.values:
        errors.setdefault("guardianship_rating", []).append(_("监护情况评估须为较好、一般或差。"))
    findings = data.get("findings") or {}
    if not isinstance(findings, dict):
        errors.setdefault("findings", []).append(_("发现情况应为对象（字段：安全隐患、生活状况等）。"))
        findings = {}
    unknown = [k for k in findings if k not in FINDING_FIELDS and k != "living_alone"]
    if unknown:
        errors.setdefault("findings", []).append(
            _("未知的发现项：%(k)s。可用：%(ok)s、living_alone")
            % {"k": "、".join(unknown), "ok": "、".join(FINDING_FIELDS)}
        )
    when = _when(data.get("occurred_at"), "occurred_at", now, errors)
    key = _client_key(data, errors)
    if errors or when is None:  # `_when` gives None only after recording an error
        raise ValidationError(errors)
    earlier = _replayed(Visit, key, actor, child)
    if earlier is not None:
        earlier.replayed = True
        return earlier, None
    living_alone = bool(data.get("living_alone") or findings.get("living_alone"))
    _check_version(child, data.get("base_version"), rating=rating, living_alone=living_alone)
    clean: dict[str, str | bool] = {
        k: str(v)[:1000] for k, v in findings.items() if k in FINDING_FIELDS and v not in (None, "")
    }
    if living_alone:
        clean["living_alone"] = True
    visit = _create_once(
        Visit,
        key,
        actor,
        child,
        occurred_at=when,
        kind=kind,
        visitor_role=role,
        visitor_name=(data.get("visitor_name") or str(actor))[:50],
        findings=clean,
        guardianship_rating=rating,
        living_alone=living_alone,
        recorded_at=now,
    )
    if getattr(visit, "replayed", False):
        return visit, None
    record_events(
        [
            _event(
                child,
                actor,
                "care.visit_logged",
                visit,
                _("走访：%(k)s") % {"k": visit.get_kind_display()},
                {
                    "kind": kind,
                    "visitor_role": role,
                    "findings": clean,
                    "rating": rating,
                    "occurred_at": when,
                },
                now,
            )
        ]
    )
    if living_alone:  # the visit's own clock first: the file edit below then starts no second one
        _report_duty(actor, child, visit, when)
    changes: dict[str, Any] = {}
    if rating and rating != child.guardianship_rating:
        changes["guardianship_rating"] = rating
    if living_alone and child.care_arrangement != "unattended":
        changes["care_arrangement"] = "unattended"
    if changes:
        fresh = Child.objects.get(pk=child.pk)
        registry_services.child_update(
            actor=actor, child_id=child.pk, data=changes, version=fresh.version, today=timezone.localdate(now)
        )
    alert = None
    if living_alone:
        alert = Alert.objects.filter(
            kind=AlertKind.UNATTENDED, key=f"child:{child.pk}", resolved_at__isnull=True
        ).first()
    return visit, alert


def _check_version(child: Child, base: Any, *, rating: str, living_alone: bool) -> None:
    """A visit that would change the file (a new rating, "living alone") typed against an older version
    of the file is refused with FileChanged (issue 16: nothing overwritten silently). A visit that
    changes nothing on the file is only added to the record, whatever happened to the file meanwhile."""
    if base in (None, ""):
        return
    try:
        base_version = int(base)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"base_version": [_("档案版本号须为整数。")]}) from exc
    current = Child.objects.filter(pk=child.pk).values_list("version", flat=True).first()
    if current is None or current == base_version:
        return
    changes_file = (rating and rating != child.guardianship_rating) or (
        living_alone and child.care_arrangement != "unattended"
    )
    if changes_file:
        raise FileChanged(
            _(
                "您填写期间，%(name)s 的档案已被修改（版本 %(old)s → %(new)s）。本次走访会改动档案"
                "（监护评估或无人监护），请先查看档案的最新情况，再决定是否仍然保存。"
            )
            % {"name": child.name, "old": base_version, "new": current},
            current,
        )


@transaction.atomic
def _report_duty(actor: User, child: Child, visit: Visit, when: datetime) -> None:
    """R5.3: a visit that finds a child living alone starts the mandatory-report clock for the visitor's
    unit (the village committee when the visitor belongs to none); a report not made within the limit
    becomes an accountability record (protection scan)."""
    from shouhu.care.hooks import report_duty_starts

    report_duty_starts(child=child, actor=actor, source="visit", found_at=when, ref=str(visit.pk))


@transaction.atomic
def assignment_add(
    *, actor: User, child: Child, data: dict[str, Any], today: date | None = None
) -> CareAssignment:
    """R3.3: pair a party member, cadre, proxy parent or volunteer with the child."""
    today = today or timezone.localdate()
    _require(actor, child, may_edit(actor, child))
    errors: dict[str, list[str]] = {}
    if data.get("kind") not in CareAssignment.Kind.values:
        errors.setdefault("kind", []).append(_("请选择结对方式。"))
    name = (data.get("person_name") or "").strip()
    organisation = (data.get("organisation") or "").strip()
    if not name:
        errors.setdefault("person_name", []).append(_("请填写结对人姓名。"))
    elif len(name) > 50:
        errors.setdefault("person_name", []).append(_("结对人姓名不能超过50个字。"))
    if len(organisation) > 100:
        errors.setdefault("organisation", []).append(_("单位名称不能超过100个字。"))
    starts = data.get("starts_on") or today
    ends = data.get("ends_on")
    if ends and ends < starts:
        errors.setdefault("ends_on", []).append(_("结束日期不能早于开始日期。"))
    if errors:
        raise ValidationError(errors)
    a = CareAssignment.objects.create(
        child=child,
        kind=data["kind"],
        person_name=name,
        organisation=organisation,
        starts_on=starts,
        ends_on=ends,
        recorded_by=actor,
    )
    record_events(
        [
            _event(
                child,
                actor,
                "care.assignment_added",
                a,
                _("关爱结对：%(k)s %(n)s") % {"k": a.get_kind_display(), "n": name},
                {"kind": a.kind, "person_name": name, "starts_on": starts, "ends_on": ends},
            )
        ]
    )
    return a


@transaction.atomic
def assignment_end(*, actor: User, assignment: CareAssignment, on: date) -> CareAssignment:
    child = assignment.child
    _require(actor, child, may_edit(actor, child))
    if on < assignment.starts_on:
        raise ValidationError({"ends_on": [_("结束日期不能早于开始日期。")]})
    assignment.ends_on = on
    assignment.save(update_fields=["ends_on"])
    record_events(
        [_event(child, actor, "care.assignment_ended", assignment, _("结束关爱结对"), {"ends_on": on})]
    )
    return assignment


@transaction.atomic
def admonition_add(
    *, actor: User, child: Child, data: dict[str, Any], now: datetime | None = None
) -> tuple[Admonition, Alert | None]:
    """R2.3: 劝诫/制止 of a guardian. Repeated (policy `admonitions_before_escalation` within
    `admonition_window_days`) or serious ones open `guardian_admonished`, assigned to the township
    supervisor for guardianship intervention (R7). Police may record too (they see the child)."""
    now = now or timezone.now()
    _require(actor, child, can(actor, "care.admonish", child))
    errors: dict[str, list[str]] = {}
    if data.get("kind") not in Admonition.Kind.values:
        errors.setdefault("kind", []).append(_("措施须为劝诫或制止。"))
    if data.get("by_body") not in Admonition.Body.values:
        errors.setdefault("by_body", []).append(_("实施单位须为村（居）民委员会或公安机关。"))
    for f in ("guardian_name", "reason"):
        if not (data.get(f) or "").strip():
            errors.setdefault(f, []).append(_("请填写此项。"))
    when = _when(data.get("occurred_at"), "occurred_at", now, errors)
    if errors or when is None:  # `_when` gives None only after recording an error
        raise ValidationError(errors)
    adm = Admonition.objects.create(
        child=child,
        kind=data["kind"],
        by_body=data["by_body"],
        guardian_name=data["guardian_name"].strip()[:50],
        reason=data["reason"].strip()[:300],
        serious=bool(data.get("serious")),
        occurred_at=when,
        recorded_by=actor,
        recorded_at=now,
    )
    record_events(
        [
            _event(
                child,
                actor,
                "care.admonition_recorded",
                adm,
                _("监护人%(k)s：%(n)s") % {"k": adm.get_kind_display(), "n": adm.guardian_name},
                {"kind": adm.kind, "by_body": adm.by_body, "serious": adm.serious, "occurred_at": when},
                now,
            )
        ]
    )
    window = timedelta(days=int(param("admonition_window_days")))
    recent = Admonition.objects.filter(child=child, occurred_at__gt=now - window, occurred_at__lte=now)
    alert = None
    if rules.admonitions_escalate(
        recent.count(), recent.filter(serious=True).exists(), int(param("admonitions_before_escalation"))
    ):
        alert = open_admonition_alert(child, recent.count(), now)
    return adm, alert


def admonition_message(name: str, count: int) -> str:
    return _("%(name)s：监护人一年内被劝诫、制止%(n)d次或情节严重，请启动监护干预") % {
        "name": name,
        "n": count,
    }


def open_admonition_alert(child: Child, count: int, at: datetime) -> Alert:
    sup = selectors.supervisors(at).get(child.village_id[:9])
    spec = AlertSpec(
        key=f"child:{child.pk}",
        region_id=child.village_id,
        message=admonition_message(child.name, count),
        child_id=child.pk,
        assignee_id=sup,
    )
    alert, created = open_alert(kind=AlertKind.GUARDIAN_ADMONISHED, spec=spec, at=at)
    if created:
        notify.notify([alert.pk], reason="opened", at=at)
    return alert


@transaction.atomic
def session_add(*, actor: User, data: dict[str, Any], children: list[Child] | None = None) -> GuidanceSession:
    """R3.5: a guardian-guidance or legal-publicity session with its attendance."""
    errors: dict[str, list[str]] = {}
    village = data.get("village")
    if isinstance(village, str):
        village = Region.objects.filter(code=village).first()
    if village is None or not can(actor, "care.record", village.code):
        errors.setdefault("village", []).append(_("请选择您负责的村（居）。"))
    if data.get("kind") not in GuidanceSession.Kind.values:
        errors.setdefault("kind", []).append(_("请选择活动类型。"))
    if not data.get("held_on"):
        errors.setdefault("held_on", []).append(_("请填写日期。"))
    elif data["held_on"] > timezone.localdate():
        errors.setdefault("held_on", []).append(_("日期不能晚于今天。"))
    for f in ("topic", "held_by"):
        if not (data.get(f) or "").strip():
            errors.setdefault(f, []).append(_("请填写此项。"))
    if errors or village is None:  # a missing village is already among the errors
        raise ValidationError(errors)
    s = GuidanceSession.objects.create(
        village=village,
        kind=data["kind"],
        held_on=data["held_on"],
        topic=data["topic"].strip()[:200],
        held_by=data["held_by"].strip()[:100],
        attendance=int(data.get("attendance") or 0),
        recorded_by=actor,
    )
    visible = [c for c in children or [] if can(actor, "care.record", c)]
    s.children.set(visible)
    record_events(
        [
            EventSpec(
                verb="care.session_recorded",
                subject_type="care.guidancesession",
                subject_id=str(s.pk),
                actor=actor,
                region_code=village.code,
                summary=s.topic[:200],
                after={
                    "kind": s.kind,
                    "held_on": s.held_on,
                    "attendance": s.attendance,
                    "children": [str(c.pk) for c in visible],
                },
            )
        ]
    )
    return s


@transaction.atomic
def alert_resolve(*, actor: User, alert_id: Any, note: str, now: datetime | None = None) -> Alert:
    """Close an alert by hand with what was done (the scan reopens it if the condition persists)."""
    alert = Alert.objects.restrict(actor, "alert.view").filter(pk=alert_id).first()
    if alert is None:
        raise OutOfScope()
    if not can(actor, "care.record", alert):
        raise PermissionDenied(_("您可以查看该预警，但无权处理。"))
    if not note.strip():
        raise ValidationError({"note": [_("请说明处理情况。")]})
    if alert.resolved_at is not None:
        return alert
    done = resolve_alert(
        kind=alert.kind, key=alert.key, at=now or timezone.now(), by=actor, note=note.strip()
    )
    return done or alert
