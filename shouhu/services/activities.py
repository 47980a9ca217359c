"""Writes for activities (issue 17 part 4): sessions of a programme and attendance taken on a phone,
with service hours per child and feedback from the child or the guardian (R8.3 "activities with
attendance")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from shouhu.core.access import can
from shouhu.core.events import record_event
from shouhu.core.models import User
from shouhu.core.visibility import ADMIN
from shouhu.services.models import Attendance, Programme, Session


def _bad(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


@transaction.atomic
def session_create(*, actor: User, programme: Programme, data: Mapping[str, Any]) -> Session:
    """A session of a programme (by its provider or the county office), optionally led by a volunteer."""
    if not can(actor, "service.manage", programme):
        raise _bad("detail", _("您无权为该项目安排活动。"))
    starts = data.get("starts_at")
    starts_at = starts if isinstance(starts, datetime) else parse_datetime(str(starts or ""))
    if starts_at is None:
        raise _bad("starts_at", _("请填写开始时间，格式如 2026-12-01T16:30+08:00。"))
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    try:
        hours = Decimal(str(data.get("hours") or "2"))
    except InvalidOperation:
        raise _bad("hours", _("时长须为数字（小时）。")) from None
    if not Decimal("0") < hours <= Decimal("12"):
        raise _bad("hours", _("时长须在 0 到 12 小时之间。"))
    volunteer = None
    if data.get("volunteer"):
        volunteer = User.objects.filter(
            username=str(data["volunteer"]), organisation_id=programme.provider_id, is_active=True
        ).first()
        if volunteer is None:
            raise _bad("volunteer", _("本机构没有这名志愿者（请填写其登录名）。"))
    session = Session.objects.create(
        programme=programme,
        starts_at=starts_at,
        hours=hours,
        topic=str(data.get("topic") or "")[:200],
        volunteer=volunteer,
    )
    record_event(
        verb="service.session_created",
        subject_type="services.session",
        subject_id=str(session.pk),
        actor=actor,
        region_code=programme.village_id,
        summary=f"安排活动 {programme.name} {starts_at:%Y-%m-%d %H:%M}",
        after={"volunteer": volunteer.username if volunteer else None, "hours": str(hours)},
        visibility=ADMIN,
    )
    return session


@transaction.atomic
def attendance_take(
    *, actor: User, session: Session, present: Iterable[Any], feedback: Mapping[str, str] | None = None
) -> list[Attendance]:
    """Attendance for every child enrolled in the session's programme: present ones get the session's
    hours. Taking it again replaces the earlier list (the volunteer corrects a tap)."""
    if not can(actor, "activity.attend", session):
        raise _bad("detail", _("您无权为该场活动签到。"))
    if session.starts_at > timezone.now():
        raise _bad("detail", _("活动尚未开始，不能签到。"))
    enrolled = {
        str(e.child_id): e.child_id
        for e in session.programme.enrolments.filter(until__isnull=True).only("child_id")
    }
    here = {str(c) for c in present}
    strangers = sorted(here - set(enrolled))
    if strangers:
        raise _bad("present", _("有 %(n)s 名儿童未参加本项目，不能签到。") % {"n": len(strangers)})
    feedback = feedback or {}
    Attendance.objects.filter(session=session).delete()
    rows = Attendance.objects.bulk_create(
        Attendance(
            session=session,
            child_id=child_id,
            present=key in here,
            hours=session.hours if key in here else Decimal("0"),
            feedback=str(feedback.get(key) or "")[:300],
        )
        for key, child_id in enrolled.items()
    )
    session.taken_at = timezone.now()
    session.save(update_fields=["taken_at"])
    record_event(
        verb="service.attendance_taken",
        subject_type="services.session",
        subject_id=str(session.pk),
        actor=actor,
        region_code=session.programme.village_id,
        summary=f"活动签到 {session.programme.name}：到 {len(here)} / {len(enrolled)} 人",
        after={"present": len(here), "enrolled": len(enrolled)},
        visibility=ADMIN,
    )
    return rows
