"""Reports in (R5): a mandated reporter's or a citizen's report opens a case or joins the child's open
one, is routed at once to the station, and is answered in writing when the station receives it
(R5.3, R5.4). A report that joins a case the station already holds waits to be received like a first
one: the reporter learns only their own report's progress (issue 9 part 8). Also the helpers every
protection service shares (errors, events, locking, the capability check).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.access import can, restrict, restriction_q
from shouhu.core.crypto import blind_index
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import Organisation, OrganisationKind, Region, RegionKind, User
from shouhu.core.policy import param
from shouhu.protection import rules, selectors
from shouhu.protection.models import (
    ENDED,
    Accountability,
    AccountabilityKind,
    Case,
    Report,
    ReporterKind,
    Situation,
    StationChange,
)
from shouhu.registry.duplicates import lock_village
from shouhu.registry.models import Child
from shouhu.registry.services import child_create_provisional

ORG_REPORTER_KIND = {
    OrganisationKind.SCHOOL: ReporterKind.SCHOOL,
    OrganisationKind.KINDERGARTEN: ReporterKind.KINDERGARTEN,
    OrganisationKind.CLINIC: ReporterKind.MEDICAL,
    OrganisationKind.VILLAGE_COMMITTEE: ReporterKind.VILLAGE_COMMITTEE,
    OrganisationKind.SOCIAL_WORK: ReporterKind.SOCIAL_WORK,
}


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _text(value: Any, field: str) -> str:
    """A text input as text: absent is empty; a number, list or object is refused with the field's name
    (a JSON body can hold anything: issue 10 part 9, never a 500)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _err(field, _("“%(f)s”应为文本。") % {"f": field})
    if "\x00" in value:
        raise _err(field, _("“%(f)s”不能包含空字符（\\u0000）。") % {"f": field})
    return value


def _int_pk(value: Any) -> int:
    """A row number from a form or a body, or 0 (no row) for anything else: "x" or 10**30 would raise
    in the query (ValueError, or DataError on PostgreSQL) instead of answering "not found"."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**63 else 0


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _event(
    verb: str, case: Case, actor: User | None, summary: str, after: Any = None, at: datetime | None = None
) -> EventSpec:
    return EventSpec(
        verb=verb,
        subject_type="protection.case",
        subject_id=str(case.pk),
        actor=actor,
        child_id=str(case.child_id or ""),
        region_code=case.village_id,
        summary=summary,
        after=after,
        occurred_at=at or timezone.now(),
    )


def _lock(case_id: Any) -> Case:
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise _err("case", _("个案不存在。"))
    return Case.objects.select_related("child", "village__parent", "station").get(pk=case.pk)


def _require(actor: User, case: Case, capabilities: tuple[str, ...], what: str) -> None:
    if not selectors.may_act(actor, case, capabilities):
        raise _err("detail", _("您无权%(what)s：该个案不由您所在的单位办理。") % {"what": what})


# --- reports and routing ---------------------------------------------------------------------------


def station_for(village: Region) -> Organisation | None:
    """R5.3 routing: the police station whose jurisdiction (its region) covers the village."""
    township = village.parent
    return (
        Organisation.objects.filter(kind=OrganisationKind.POLICE_STATION, region=township)
        .order_by("pk")
        .first()
        if township is not None
        else None
    )


def _situations(codes: Any) -> list[str]:
    if not isinstance(codes, list | tuple) or not codes:
        raise _err("situations", _("请至少选择一种情形。"))
    valid = set(Situation.objects.filter(active=True).values_list("code", flat=True))
    unknown = [c for c in codes if c not in valid]
    if unknown:
        raise _err("situations", _("情形代码无效：%(c)s。") % {"c": "、".join(map(str, unknown))})
    return list(dict.fromkeys(codes))


def reporter_kind_of(actor: User | None) -> tuple[str, bool, Organisation | None]:
    """A mandated reporter is identified by their unit (二(二)1); anyone else is a citizen."""
    org = getattr(actor, "organisation", None) if actor is not None else None
    if org is not None:
        if org.kind in ORG_REPORTER_KIND:
            return ORG_REPORTER_KIND[org.kind], True, org
        if "救助管理" in org.name:
            return ReporterKind.RELIEF, True, org
    return ReporterKind.CITIZEN, False, org


def _provisional_child(
    *, actor: User | None, name: str, village: Region, at: datetime, age: int | None
) -> Child:
    """A provisional file for a child not yet on file, written by the registry (DESIGN principle 2):
    the birth date is estimated from the reported age (without one, the registry's default estimate)."""
    today = timezone.localdate(at)
    if age is not None and 0 <= age < 18:
        return child_create_provisional(
            actor=actor,
            name=name,
            village=village,
            birth_date=date(today.year - age, 1, 1),
            today=today,
            note=_("出生日期按报告所述年龄估计。"),
        )
    return child_create_provisional(actor=actor, name=name, village=village, today=today)


def _lock_region(region: Region) -> None:
    """Serialise the writes that match or create a child in one village (registry's lock)."""
    lock_village(region.pk)


def _find_open(child: Child | None, pending_name: str, village: Region) -> Case | None:
    qs = Case.objects.exclude(state__in=ENDED)
    if child is not None:
        return qs.filter(child=child).first()
    return qs.filter(child__isnull=True, village=village, pending_name=pending_name).first()


def _open_case(
    *,
    child: Child | None,
    pending_name: str,
    village: Region,
    station: Organisation,
    situations: list[str],
    actor: User | None,
    at: datetime,
) -> tuple[Case, bool]:
    """The child's open case, joined, or a new one (issue 10 part 7: one per child under concurrency).

    The child's row (or, for a child awaiting confirmation, the village's) is locked before looking, so
    simultaneous reports queue and the later ones join; the conditional unique constraints are the
    backstop, and losing that race also joins the winner's case instead of answering 500."""
    if child is not None:
        Child.objects.select_for_update(no_key=True).filter(pk=child.pk).exists()
    else:
        _lock_region(village)
    case = _find_open(child, pending_name, village)
    if case is None:
        case_id = uuid.uuid4()
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    id=case_id,
                    number=f"BH{timezone.localtime(at):%Y%m%d}-{case_id.hex[:6].upper()}",
                    child=child,
                    pending_name=pending_name,
                    village=village,
                    station=station,
                    situations=situations,
                    opened_at=at,
                    state_since=at,
                )
        except IntegrityError:
            case = _find_open(child, pending_name, village)
            if case is None:
                raise
        else:
            StationChange.objects.create(
                case=case, to_station=station, at=at, actor=actor, reason=_("按辖区自动分派")
            )
            return case, False
    case = Case.objects.select_for_update().get(pk=case.pk)
    case.situations = list(dict.fromkeys([*case.situations, *situations]))
    case.save(update_fields=["situations"])
    return case, True


def _acknowledgement(report: Report, case: Case, at: datetime) -> str:
    local = timezone.localtime(at)
    return _(
        "您于 %(reported)s 报告的情况已由%(station)s于 %(received)s 受理，报告编号 %(number)s。"
        "公安机关将依法调查处置，并通报乡镇人民政府（街道办事处）开展评估帮扶。感谢您履行报告义务。"
        "（《未成年人保护法》第十一条）"
    ) % {
        "reported": timezone.localtime(report.reported_at).strftime("%Y-%m-%d %H:%M"),
        "station": case.station.name,
        "received": local.strftime("%Y-%m-%d %H:%M"),
        "number": report.number,
    }


def _receive_reports(case: Case, at: datetime) -> list[Report]:
    """The written answer to each reporter (R5.4), a tracked step: received and acknowledged times."""
    pending = list(case.reports.filter(received_at__isnull=True))
    for r in pending:
        r.received_at = r.acknowledged_at = at
        r.acknowledgement = _acknowledgement(r, case, at)
        r.save(update_fields=["received_at", "acknowledged_at", "acknowledgement"])
    return pending


def _late_report_record(report: Report, case: Case) -> EventSpec | None:
    reason = rules.late_report(
        mandated=report.mandated,
        discovered_at=report.discovered_at,
        reported_at=report.reported_at,
        limit_hours=float(param("protection_late_report_hours")),
    )
    if reason is None or report.reporter_unit is None:
        return None
    row, created = Accountability.objects.get_or_create(
        key=f"report:{report.pk}:late",
        defaults=dict(
            kind=AccountabilityKind.LATE_REPORT,
            unit=report.reporter_unit,
            region=case.village,
            case=case,
            occurred_at=report.reported_at,
            detail=reason[:300],
        ),
    )
    if not created:
        return None
    return _event(
        "accountability.recorded",
        case,
        None,
        _("迟报追责：%(unit)s") % {"unit": report.reporter_unit.name},
        {"kind": row.kind, "unit": row.unit_id, "detail": row.detail},
    )


@transaction.atomic
def report_submit(
    *, actor: User | None, data: dict[str, Any], ip: str | None = None, at: datetime | None = None
) -> Report:
    """R5.1–R5.4: a report opens a case (or joins the child's open one), routed at once to the station."""
    at = at or timezone.now()
    errors: dict[str, list[str]] = {}
    try:
        situations = _situations(data.get("situations"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        situations = []
    description = _text(data.get("description"), "description").strip()
    if not description:
        errors.setdefault("description", []).append(_("请描述发现的情况。"))
    discovered = data.get("discovered_at")
    if not isinstance(discovered, datetime):
        errors.setdefault("discovered_at", []).append(_("请填写发现时间。"))
    elif discovered > at + timedelta(minutes=5):
        errors.setdefault("discovered_at", []).append(_("发现时间不能晚于现在。"))
    child: Child | None = None
    village: Region | None = None
    child_name = _text(data.get("child_name"), "child_name").strip()
    if data.get("child") and not _is_uuid(data["child"]):
        errors.setdefault("child", []).append(_("找不到该儿童档案：请改填儿童姓名和所在村（居）。"))
    elif data.get("child"):
        # A child the reporter may open, or (police) has found by number or exact name to start a case.
        reachable = restriction_q(Child, actor, "child.view") | restriction_q(Child, actor, "child.lookup")
        child = (
            Child.objects.filter(reachable, pk=data["child"]).select_related("village").first()
            if actor
            else None
        )
        if child is None:
            errors.setdefault("child", []).append(_("找不到该儿童档案：请改填儿童姓名和所在村（居）。"))
        else:
            village, child_name = child.village, child.name
    else:
        code = str(data.get("village") or "").strip().replace("\x00", "?")
        village = Region.objects.filter(
            code=code, kind__in=[RegionKind.VILLAGE, RegionKind.COMMUNITY]
        ).first()
        if village is None or not code.startswith("500229"):
            errors.setdefault("village", []).append(_("请选择儿童所在的村（居）（12位区划代码）。"))
        if not child_name:
            errors.setdefault("child_name", []).append(_("请填写儿童姓名（不知道可填“不详”及特征）。"))
        elif len(child_name) > 50:
            errors.setdefault("child_name", []).append(_("姓名过长（最多50个字）。"))
    kind, mandated, unit = reporter_kind_of(actor)
    if not mandated and data.get("reporter_kind") in (ReporterKind.CITIZEN, ReporterKind.ORGANISATION):
        kind = data["reporter_kind"]
    station = station_for(village) if village is not None else None
    if village is not None and station is None:
        errors.setdefault("village", []).append(_("没有找到管辖该村（居）的派出所，请联系县民政局。"))
    if errors:
        raise ValidationError(errors)
    assert village is not None and station is not None and isinstance(discovered, datetime)
    events: list[EventSpec] = []
    pending_name = ""
    if child is None:
        # One file per reported child even when reports arrive together (issue 10 part 7): the
        # village's row serialises the match-or-create; a public report never creates a file — the
        # township confirms who the child is first (part 8), the case goes to the police meanwhile.
        _lock_region(village)
        matches = list(Child.objects.filter(village=village, name=child_name)[:2])
        if len(matches) == 1:
            child = matches[0]
        elif actor is None:
            pending_name = child_name
        else:
            age = data.get("child_age")
            child = _provisional_child(
                actor=actor,
                name=child_name,
                village=village,
                at=at,
                age=int(age) if age not in (None, "") else None,
            )
    case, joined = _open_case(
        child=child,
        pending_name=pending_name,
        village=village,
        station=station,
        situations=situations,
        actor=actor,
        at=at,
    )
    case = Case.objects.select_related("child", "village__parent", "station").get(pk=case.pk)
    anonymous = bool(data.get("anonymous")) and actor is None
    report = Report.objects.create(
        case=case,
        reporter_kind=kind,
        mandated=mandated,
        reporter=actor,
        reporter_unit=unit if mandated else None,
        anonymous=anonymous,
        reporter_name=""
        if anonymous
        else (data.get("reporter_name") or (actor.full_name if actor else "") or "")[:50],
        reporter_phone="" if anonymous else _text(data.get("reporter_phone"), "reporter_phone")[:30],
        child_name=child_name,
        village=village,
        situations=situations,
        description=description,
        discovered_at=discovered,
        reported_at=at,
        token=secrets.token_urlsafe(24),
        source_digest=blind_index("ip", ip) if ip else "",
    )
    labels = dict(Situation.objects.filter(code__in=situations).values_list("code", "name_zh"))
    summary = _("收到报告（%(s)s），分派至%(station)s") % {
        "s": "、".join(labels.get(s, s) for s in situations),
        "station": case.station.name,
    }
    events.append(
        _event(
            "case.report_joined" if joined else "case.opened",
            case,
            actor,
            summary,
            {"case": case.number, "situations": situations, "station": case.station_id, "mandated": mandated},
            at,
        )
    )
    late = _late_report_record(report, case)
    if late:
        events.append(late)
    record_events(events)
    return report


def public_reports_in_last_hour(ip: str | None, at: datetime | None = None) -> int:
    if not ip:
        return 0
    at = at or timezone.now()
    return Report.objects.filter(
        source_digest=blind_index("ip", ip), reporter__isnull=True, reported_at__gt=at - timedelta(hours=1)
    ).count()


@transaction.atomic
def reports_receive(*, actor: User, case_id: Any, at: datetime | None = None) -> list[Report]:
    """The station receives the reports that joined a case it already holds and answers each reporter
    in writing (R5.4). A joined report waits for this step like a first one: a reporter learns only
    their own report's progress, never that a case was already open (issue 9 part 8)."""
    at = at or timezone.now()
    case = _lock(case_id)
    _require(actor, case, ("case.respond",), _("受理报告"))
    received = _receive_reports(case, at)
    if not received:
        raise _err("detail", _("没有待受理的报告。"))
    record_events(
        [
            _event(
                "case.reports_received",
                case,
                actor,
                _("受理新报告 %(n)d 份并书面回复") % {"n": len(received)},
                {"reports": len(received)},
                at,
            )
        ]
    )
    return received


@transaction.atomic
def case_confirm_child(
    *,
    actor: User,
    case_id: Any,
    child_id: Any = None,
    birth_date: date | None = None,
    sex: str | None = None,
) -> Case:
    """The township confirms who a public report is about (issue 10 part 8): a file it can open, or a
    new provisional file with the reported name in the reported village. Only now is a file created;
    the police have held the case since it was reported."""
    case = _lock(case_id)
    _require(actor, case, ("case.assist",), _("确认报告所述儿童"))
    if case.child_id is not None:
        raise _err("child", _("该个案的儿童已经确认。"))
    child: Child | None = None
    if child_id not in (None, ""):
        if _is_uuid(child_id):
            child = (
                restrict(Child.objects.select_related("village"), actor, "child.view")
                .filter(pk=child_id)
                .first()
            )
        if child is None:
            raise _err("child", _("找不到该儿童档案：请填写您可查看的档案，或不填以建立临时档案。"))
        Child.objects.select_for_update(no_key=True).filter(pk=child.pk).exists()
        other = Case.objects.filter(child=child).exclude(state__in=ENDED).first()
        if other is not None:
            raise _err(
                "child",
                _("该儿童已有未结个案 %(n)s：请由县民政局合并办理，不能再关联本个案。") % {"n": other.number},
            )
    else:
        if not can(actor, "child.create", case.village_id):
            raise _err("child", _("您无权在该村（居）建立档案。"))
        _lock_region(case.village)
        child = child_create_provisional(
            actor=actor,
            name=case.pending_name,
            village=case.village,
            sex=sex,
            birth_date=birth_date,
            note=_("由公众举报建立，经乡镇确认。"),
        )
    case.child, case.pending_name = child, ""
    case.save(update_fields=["child", "pending_name"])
    record_events(
        [
            _event(
                "case.child_confirmed",
                case,
                actor,
                _("乡镇确认报告所述儿童：%(name)s") % {"name": child.name},
                {"child": str(child.pk), "provisional": child.is_provisional},
            )
        ]
    )
    return case
