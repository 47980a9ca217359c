"""Writes of the schooling module (DESIGN principle 2): keyword-only, atomic, validated with a Chinese
message that says what to fix, and recorded as events (class `schooling`, on the child's timeline for
readers of the schooling group).

A school's staff write only their own school's rows (the SCHOOL reach of their role); a region's users
act on dropout cases of pupils living in their region (persuasion with the school, R4.2). The roster
import is in `roster.py`, the dropout chain in `dropout.py`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.access import access_of, can
from shouhu.core.capabilities import SCHOOL
from shouhu.core.crypto import blind_index
from shouhu.core.events import EventSpec, record_events
from shouhu.core.identity import IdentityError, validate_id_number
from shouhu.core.models import Organisation, OrganisationKind, Region, User
from shouhu.registry.models import Child
from shouhu.schooling.models import Absence, Catchment, Enrolment, Match, Pairing, SchoolContact, Wellbeing

SCHOOL_KINDS = (OrganisationKind.SCHOOL, OrganisationKind.KINDERGARTEN)


class OutOfScope(Exception):
    """The actor may not reach the record: callers answer 404 exactly like missing."""


def school_ids(user: Any, capability: str) -> tuple[int, ...]:
    """The schools where `user` holds `capability` by the SCHOOL reach (their own school)."""
    return access_of(user).holding(capability).org_ids(SCHOOL)


def own_school(user: Any, capability: str, school: Any) -> Organisation:
    """The school named by id (or the user's only school when None), if `user` holds `capability` there;
    a school that is not theirs is out of reach (404 like missing)."""
    ids = school_ids(user, capability)
    if school in (None, ""):
        if len(ids) != 1:
            raise ValidationError({"school": [_("请指定学校。")]})
        school = ids[0]
    try:
        pk = int(getattr(school, "pk", school))
    except (TypeError, ValueError) as exc:
        raise OutOfScope() from exc
    if pk not in ids:
        raise OutOfScope()
    org = Organisation.objects.filter(pk=pk, kind__in=SCHOOL_KINDS).first()
    if org is None:
        raise OutOfScope()
    return org


def event(
    verb: str,
    subject: Any,
    actor: User | None,
    summary: str,
    after: Any = None,
    *,
    child_id: Any = "",
    region: str = "",
    at: datetime | None = None,
    before: Any = None,
) -> EventSpec:
    return EventSpec(
        verb=verb,
        subject_type=f"schooling.{subject._meta.model_name}",
        subject_id=str(subject.pk),
        actor=actor,
        child_id=str(child_id or ""),
        region_code=region,
        summary=summary,
        before=before,
        after=after,
        occurred_at=at or timezone.now(),
    )


def set_child_school(child: Child, school: Organisation | None) -> None:
    """The file's 就读学校 follows the pupil's current enrolment (the SCHOOL reach of the file, R11.1)."""
    if child.school_id != (school.pk if school else None):
        Child.objects.filter(pk=child.pk).update(school=school, version=F("version") + 1)
        child.school = school


# --- enrolments (R4.1) ---------------------------------------------------------------------------


def id_index(number: str | None) -> str | None:
    return blind_index("id", number) if number else None


def catchment_village(school: Organisation) -> Region | None:
    """The school's only catchment village, when it has exactly one (a village school)."""
    rows = list(Catchment.objects.filter(school=school).select_related("village")[:2])
    return rows[0].village if len(rows) == 1 else None


ENROLMENT_FIELDS = ("student_number", "grade", "class_name", "boarding", "since", "until")


def _snapshot(e: Enrolment) -> dict[str, Any]:
    return {f: getattr(e, f) for f in ENROLMENT_FIELDS} | {"school": e.school_id, "match": e.match}


@transaction.atomic
def enrolment_create(*, actor: User, data: dict[str, Any], today: date | None = None) -> Enrolment:
    """Enrol a pupil at the actor's school (API.md): a ledger child by `child` (a file the actor sees),
    or by `id_number` + `name` + `birth_date`. A pupil not on the ledger opens a provisional file for the
    village to confirm (R4.1)."""
    from shouhu.registry.services import child_create_provisional

    today = today or timezone.localdate()
    school = own_school(actor, "roster.edit", data.get("school"))
    errors: dict[str, list[str]] = {}
    child: Child | None = None
    number = None
    if data.get("child"):
        child = Child.objects.filter(pk=data["child"]).first() if _uuid(data["child"]) else None
        if child is None or not can(actor, "child.view", child):
            errors["child"] = [_("找不到该儿童档案。未在本校就读的学生请按身份证号码、姓名和出生日期登记。")]
    else:
        name = (data.get("name") or "").strip()
        birth = data.get("birth_date")
        if not name:
            errors["name"] = [_("请填写学生姓名。")]
        if not isinstance(birth, date):
            errors["birth_date"] = [_("请填写出生日期（YYYY-MM-DD）。")]
        raw = (data.get("id_number") or "").strip()
        if raw:
            try:
                number = validate_id_number(raw, birth_date=birth if isinstance(birth, date) else None)
            except IdentityError as exc:
                errors["id_number"] = [str(exc)]
        if not errors:
            child = Child.objects.filter(id_number_index=id_index(number)).first() if number else None
            if child is None:
                village = _village(data.get("village")) or catchment_village(school)
                if village is None:
                    errors["village"] = [
                        _("该学生不在台账中：请填写学生居住的村（居）12位区划代码，以便建立临时档案。")
                    ]
                else:
                    child = child_create_provisional(
                        actor=actor,
                        name=name,
                        village=village,
                        sex=data.get("sex") or None,
                        birth_date=birth,
                        today=today,
                        note=_("由%(school)s登记学籍时建立。") % {"school": school.name},
                    )
    if child is not None and not errors:
        other = Enrolment.objects.filter(child=child, until__isnull=True).select_related("school").first()
        if other is not None:
            errors["child"] = [
                _("该学生在%(school)s已有在读学籍，请先办理转出。") % {"school": other.school.name}
            ]
    _check_fields(data, school, None, errors)
    if errors:
        raise ValidationError(errors)
    assert child is not None
    e = Enrolment(
        child=child,
        match=Match.ID if number or data.get("child") else Match.NONE,
        school=school,
        village=child.village,
        name=child.name,
        sex=child.sex,
        birth_date=child.birth_date,
        id_number=number,
        id_number_index=id_index(number),
        **{f: data.get(f) for f in ENROLMENT_FIELDS if f in data and data.get(f) is not None},
    )
    if child.is_provisional:
        e.match = Match.NONE
    e.save()
    set_child_school(child, school)
    record_events(
        [
            event(
                "schooling.enrolled",
                e,
                actor,
                _("%(school)s登记学籍") % {"school": school.name},
                _snapshot(e),
                child_id=child.pk,
                region=child.village_id,
            )
        ]
    )
    return e


def _uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _village(code: Any) -> Region | None:
    if not code:
        return None
    region = Region.objects.filter(code=str(code)).first()
    return region if region is not None and region.is_village_level else None


def _check_fields(
    data: dict[str, Any], school: Organisation, e: Enrolment | None, errors: dict[str, list[str]]
) -> None:
    number = (data.get("student_number") or "").strip() if "student_number" in data else None
    if number:
        clash = Enrolment.objects.filter(school=school, student_number=number)
        if e is not None:
            clash = clash.exclude(pk=e.pk)
        if clash.exists():
            errors["student_number"] = [_("学籍号 %(n)s 在本校已被其他学生使用。") % {"n": number}]
    since = data.get("since", e.since if e else None)
    until = data.get("until", e.until if e else None)
    if since and until and until < since:
        errors["until"] = [_("离校日期不能早于入学日期。")]


@transaction.atomic
def enrolment_update(
    *, actor: User, enrolment: Enrolment, data: dict[str, Any], version: Any = None
) -> Enrolment:
    """Change a pupil's grade, class, boarding or dates (the school's own rows only; stale version: 409)."""
    if not can(actor, "roster.edit", enrolment):
        raise PermissionDenied(_("只有学生所在学校可以修改学籍。"))
    e = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if version is not None and str(version) != str(e.version):
        from shouhu.core.api import Conflict

        raise Conflict(_("该学籍已被他人修改，请刷新后重试。"))
    errors: dict[str, list[str]] = {}
    _check_fields(data, e.school, e, errors)
    if errors:
        raise ValidationError(errors)
    before = _snapshot(e)
    for f in ENROLMENT_FIELDS:
        if f in data:
            setattr(e, f, data[f] if data[f] is not None or f in ("since", "until") else getattr(e, f))
    if before == _snapshot(e):
        return e
    e.version += 1
    e.save()
    if e.child_id and e.until is not None and e.child is not None and e.child.school_id == e.school_id:
        set_child_school(e.child, None)
    record_events(
        [
            event(
                "schooling.enrolment_changed",
                e,
                actor,
                _("修改学籍"),
                _snapshot(e),
                before=before,
                child_id=e.child_id or "",
                region=e.child.village_id if e.child else "",
            )
        ]
    )
    return e


@transaction.atomic
def enrolment_confirm(*, actor: User, enrolment: Enrolment) -> Enrolment:
    """The school or the village confirms that a roster pupil matched by name, birth date and village is
    the ledger child (R4.1)."""
    if not (can(actor, "roster.edit", enrolment) or can(actor, "child.edit", enrolment.candidate)):
        raise PermissionDenied(_("只有学生所在学校或儿童所在村（居）可以确认。"))
    if enrolment.match != Match.PENDING or enrolment.candidate is None:
        raise ValidationError({"match": [_("该学生没有待确认的对应档案。")]})
    child = enrolment.candidate
    if Enrolment.objects.filter(child=child, until__isnull=True).exclude(pk=enrolment.pk).exists():
        raise ValidationError({"match": [_("该儿童已在其他学校有在读学籍。")]})
    enrolment.child, enrolment.candidate, enrolment.match = child, None, Match.CONFIRMED
    enrolment.version += 1
    enrolment.save()
    set_child_school(child, enrolment.school)
    record_events(
        [
            event(
                "schooling.enrolment_confirmed",
                enrolment,
                actor,
                _("确认学籍与台账为同一人"),
                _snapshot(enrolment),
                child_id=child.pk,
                region=child.village_id,
            )
        ]
    )
    return enrolment


# --- absences (R4.2) -------------------------------------------------------------------------------


def parse_days(value: Any) -> Decimal | None:
    try:
        d = Decimal(str(value if value not in (None, "") else "1"))
    except (InvalidOperation, ValueError):
        return None
    return d if Decimal("0.5") <= d <= Decimal("1") and (d * 2) == (d * 2).to_integral_value() else None


@transaction.atomic
def absence_record(
    *, actor: User, enrolment: Enrolment, data: dict[str, Any], now: datetime | None = None
) -> tuple[Absence, Any]:
    """One pupil's absence on one day (a second record of the same day replaces it). Unexcused absence
    that reaches the policy threshold opens a dropout case and a `dropout` alert at once (R4.2).
    Returns (absence, the dropout case opened or None)."""
    from shouhu.schooling.dropout import check_dropout

    now = now or timezone.now()
    if not can(actor, "attendance.record", enrolment):
        raise PermissionDenied(_("只有学生所在学校可以登记缺勤。"))
    errors: dict[str, list[str]] = {}
    on = data.get("date")
    if not isinstance(on, date):
        errors["date"] = [_("请填写缺勤日期（YYYY-MM-DD）。")]
    elif on > timezone.localdate(now):
        errors["date"] = [_("不能登记今天以后的缺勤。")]
    days = parse_days(data.get("days"))
    if days is None:
        errors["days"] = [_("缺勤天数须为 0.5 或 1（按半天计）。")]
    if enrolment.child_id is None:
        errors["child"] = [_("该学生尚未与台账档案对应，请先确认或登记档案。")]
    elif isinstance(on, date) and (
        (enrolment.since and on < enrolment.since) or (enrolment.until and on > enrolment.until)
    ):
        errors["date"] = [_("该日期学生不在本校就读。")]
    if errors:
        raise ValidationError(errors)
    assert isinstance(on, date) and days is not None and enrolment.child is not None
    child = enrolment.child
    absence, _created = Absence.objects.update_or_create(
        child=child,
        date=on,
        defaults={
            "enrolment": enrolment,
            "school": enrolment.school,
            "days": days,
            "excused": bool(data.get("excused")),
            "reason": (data.get("reason") or "")[:200],
            "recorded_by": actor,
            "recorded_at": now,
        },
    )
    label = _("请假") if absence.excused else _("无故缺课")
    record_events(
        [
            event(
                "schooling.absence_recorded",
                absence,
                actor,
                _("%(date)s %(label)s %(days)s天")
                % {"date": on.isoformat(), "label": label, "days": f"{days:g}"},
                {"date": on, "days": str(days), "excused": absence.excused, "reason": absence.reason},
                child_id=child.pk,
                region=child.village_id,
                at=now,
            )
        ]
    )
    case = None if absence.excused else check_dropout(enrolment=enrolment, on=on, now=now, actor=actor)
    return absence, case


@transaction.atomic
def attendance_take(
    *,
    actor: User,
    school: Organisation,
    on: date,
    enrolments: list[Enrolment],
    absent: dict[int, dict[str, Any]],
    now: datetime | None = None,
) -> list[Any]:
    """A class's attendance for one day, as the class teacher ticks it: `absent` maps enrolment id →
    {days, excused, reason}; a pupil of the class not ticked has no absence that day (a tick taken back
    removes the day's record). Returns the dropout cases opened."""
    now = now or timezone.now()
    opened = []
    present = [e.child_id for e in enrolments if e.pk not in absent and e.child_id]
    removed = list(Absence.objects.filter(child_id__in=present, date=on, school=school))
    if removed:
        record_events(
            [
                event(
                    "schooling.absence_removed",
                    a,
                    actor,
                    _("撤销%(date)s的缺勤登记") % {"date": on.isoformat()},
                    None,
                    child_id=a.child_id,
                    at=now,
                )
                for a in removed
            ]
        )
        Absence.objects.filter(pk__in=[a.pk for a in removed]).delete()
    for e in enrolments:
        if e.pk in absent:
            _a, case = absence_record(actor=actor, enrolment=e, data={"date": on, **absent[e.pk]}, now=now)
            if case is not None:
                opened.append(case)
    return opened


# --- pairing and school–family contact (R4.3, R4.4) -------------------------------------------------


@transaction.atomic
def pairing_add(*, actor: User, enrolment: Enrolment, data: dict[str, Any]) -> Pairing:
    if not can(actor, "school.care", enrolment) or enrolment.child is None:
        raise PermissionDenied(_("只有学生所在学校可以登记结对帮扶。"))
    errors: dict[str, list[str]] = {}
    name = (data.get("teacher_name") or "").strip()
    if not name:
        errors["teacher_name"] = [_("请填写帮扶教师姓名。")]
    if data.get("position") not in Pairing.Position.values:
        errors["position"] = [_("职务须为学校领导、班主任或任课教师。")]
    starts = data.get("starts_on") or timezone.localdate()
    if not isinstance(starts, date):
        errors["starts_on"] = [_("请填写开始日期（YYYY-MM-DD）。")]
    if errors:
        raise ValidationError(errors)
    p = Pairing.objects.create(
        child=enrolment.child,
        school=enrolment.school,
        teacher_name=name[:50],
        position=data["position"],
        starts_on=starts,
        recorded_by=actor,
    )
    record_events(
        [
            event(
                "schooling.paired",
                p,
                actor,
                _("结对帮扶：%(t)s") % {"t": p.teacher_name},
                {"teacher": p.teacher_name, "position": p.position},
                child_id=p.child_id,
                region=enrolment.child.village_id,
            )
        ]
    )
    return p


@transaction.atomic
def school_contact_add(
    *, actor: User, enrolment: Enrolment, data: dict[str, Any], now: datetime | None = None
) -> SchoolContact:
    now = now or timezone.now()
    if not can(actor, "school.care", enrolment) or enrolment.child is None:
        raise PermissionDenied(_("只有学生所在学校可以登记家校联系。"))
    errors: dict[str, list[str]] = {}
    if data.get("kind") not in SchoolContact.Kind.values:
        errors["kind"] = [_("方式须为谈心、学业辅导、电话联系家长、家访或家长会。")]
    when = data.get("occurred_at") or now
    if not isinstance(when, datetime):
        errors["occurred_at"] = [_("请填写时间。")]
    elif when > now:
        errors["occurred_at"] = [_("不能登记将来的时间。")]
    if errors:
        raise ValidationError(errors)
    pairing = Pairing.objects.filter(
        child=enrolment.child, school=enrolment.school, ends_on__isnull=True
    ).first()
    c = SchoolContact.objects.create(
        child=enrolment.child,
        school=enrolment.school,
        pairing=pairing,
        kind=data["kind"],
        with_whom=(data.get("with_whom") or "")[:50],
        occurred_at=when,
        note=(data.get("note") or "")[:300],
        recorded_by=actor,
    )
    record_events(
        [
            event(
                "schooling.contact_logged",
                c,
                actor,
                _("家校联系：%(k)s") % {"k": c.get_kind_display()},
                {"kind": c.kind, "occurred_at": when},
                child_id=c.child_id,
                region=enrolment.child.village_id,
                at=now,
            )
        ]
    )
    return c


@transaction.atomic
def wellbeing_record(
    *, actor: User, enrolment: Enrolment, data: dict[str, Any], now: datetime | None = None
) -> Wellbeing:
    """A teacher flags a psychological concern, bad behaviour or a dormitory note (R4.5). Naming a
    reportable situation records a protection finding: the school's report clock starts, as a visit's
    does for the village (R5.3; the scan holds the school accountable if no report follows)."""
    from shouhu.protection.models import Situation
    from shouhu.protection.services import finding_record

    now = now or timezone.now()
    if not can(actor, "school.care", enrolment) or enrolment.child is None:
        raise PermissionDenied(_("只有学生所在学校可以登记心理关爱记录。"))
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in Wellbeing.Kind.values:
        errors["kind"] = [_("类别须为心理问题、不良行为或宿舍记录。")]
    elif kind == Wellbeing.Kind.DORMITORY and not enrolment.boarding:
        errors["kind"] = [_("该学生不寄宿，不能登记宿舍记录。")]
    note = (data.get("note") or "").strip()
    if not note:
        errors["note"] = [_("请写明情况。")]
    situations = list(data.get("situations") or [])
    known = set(Situation.objects.filter(code__in=situations, active=True).values_list("code", flat=True))
    unknown = [s for s in situations if s not in known]
    if unknown:
        errors["situations"] = [_("没有这些应报告情形：%(s)s。") % {"s": "、".join(map(str, unknown))}]
    when = data.get("occurred_at") or now
    if not isinstance(when, datetime) or when > now:
        errors["occurred_at"] = [_("请填写不晚于现在的发现时间。")]
    if errors:
        raise ValidationError(errors)
    w = Wellbeing.objects.create(
        child=enrolment.child,
        school=enrolment.school,
        kind=str(kind),
        note=note[:500],
        situations=situations,
        counselling=bool(data.get("counselling")),
        occurred_at=when,
        recorded_by=actor,
    )
    record_events(
        [
            event(
                "schooling.wellbeing_recorded",
                w,
                actor,
                _("心理关爱：%(k)s") % {"k": w.get_kind_display()},
                {"kind": w.kind, "counselling": w.counselling, "situations": situations},
                child_id=w.child_id,
                region=enrolment.child.village_id,
                at=now,
            )
        ]
    )
    if situations:
        finding_record(
            unit=enrolment.school,
            child=enrolment.child,
            source="school_wellbeing",
            situations=situations,
            found_at=when,
            source_ref=str(w.pk),
        )
    return w
