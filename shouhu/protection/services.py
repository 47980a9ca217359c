"""Every write of the protection chain (DESIGN principle 2): keyword-only, atomic, recorded as events
on the child's timeline. Refusals are ValidationError({field: [message]}) in the active language; the
API answers them with 400, the pages show them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.care.alerts import resolve_alert
from shouhu.care.models import AlertKind
from shouhu.core.access import can
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import Organisation, OrganisationKind, User
from shouhu.core.policy import param
from shouhu.protection import rules, selectors
from shouhu.protection.intake import (  # noqa: F401 (the report intake, re-exported for callers of services)
    ORG_REPORTER_KIND,
    _err,
    _event,
    _int_pk,
    _lock,
    _receive_reports,
    _require,
    _text,
    case_confirm_child,
    public_reports_in_last_hour,
    report_submit,
    reporter_kind_of,
    reports_receive,
    station_for,
)
from shouhu.protection.models import (
    ENDED,
    Assessment,
    Case,
    CaseMeasure,
    CaseState,
    DimensionRating,
    Finding,
    FollowUp,
    GuardianMeasure,
    Measure,
    MissingSearch,
    Petition,
    Placement,
    Referral,
    ReferralState,
    Report,
    ServiceKind,
    Situation,
    StationChange,
    Transition,
)
from shouhu.protection.workflow import step as workflow_step
from shouhu.protection.workflow import steps_from
from shouhu.registry.models import Child


@transaction.atomic
def case_reassign(*, actor: User, case_id: Any, station_id: Any, reason: str) -> Case:
    """Routing correction: a case moves to another station; the move is recorded (who, when, why)."""
    case = _lock(case_id)
    if not selectors.may_act(actor, case, ("case.reassign",)):
        raise _err("detail", _("只有承办派出所或县民政局可以改派。"))
    if not case.is_open:
        raise _err("detail", _("已结束的个案不能改派。"))
    new = Organisation.objects.filter(pk=_int_pk(station_id), kind=OrganisationKind.POLICE_STATION).first()
    if new is None or new.pk == case.station_id:
        raise _err("station", _("请选择另一个派出所。"))
    if not _text(reason, "reason").strip():
        raise _err("reason", _("请说明改派原因。"))
    StationChange.objects.create(
        case=case,
        from_station=case.station,
        to_station=new,
        actor=actor,
        reason=_text(reason, "reason")[:300],
    )
    old = case.station
    case.station = new
    case.save(update_fields=["station"])
    record_events(
        [
            _event(
                "case.reassigned",
                case,
                actor,
                _("由%(a)s改派至%(b)s") % {"a": old.name, "b": new.name},
                {"from": old.pk, "to": new.pk, "reason": reason},
            )
        ]
    )
    return case


# --- the workflow ----------------------------------------------------------------------------------


def _state_label(state: str) -> str:
    return str(CaseState(state).label) if state in CaseState.values else state


def _record_measures(case: Case, actor: User, codes: Any, note: str, at: datetime) -> list[str]:
    if codes in (None, ""):
        return []
    if not isinstance(codes, list | tuple):
        raise _err("measures", _("措施应为代码列表。"))
    sits = dict(Situation.objects.filter(code__in=case.situations).values_list("code", "measures"))
    allowed = rules.allowed_measures(case.situations, sits)
    bad = [c for c in codes if c not in allowed]
    if bad:
        raise _err(
            "measures",
            _("措施“%(c)s”不在本案情形的处置清单中（二(二)2）。") % {"c": "、".join(map(str, bad))},
        )
    done = set(case.measures.values_list("measure_id", flat=True))
    new = [c for c in dict.fromkeys(codes) if c not in done]
    measures = {m.code: m for m in Measure.objects.filter(code__in=new)}
    CaseMeasure.objects.bulk_create(
        [CaseMeasure(case=case, measure=measures[c], done_at=at, note=note[:300], actor=actor) for c in new]
    )
    if "rapid_search" in new and not case.searches.exists():
        MissingSearch.objects.create(case=case, started_at=at, actor=actor)
    return new


def _placement(case: Case, actor: User, data: Any) -> Placement:
    if not isinstance(data, dict):
        raise _err("placement", _("安置信息格式不正确。"))
    errors: dict[str, list[str]] = {}
    kind = data.get("place_kind") or ""
    if kind not in Placement.PlaceKind.values:
        errors["place_kind"] = [_("请选择安置类别。")]
    if not _text(data.get("place"), "place").strip():
        errors["place"] = [_("请填写安置地点。")]
    if not _text(data.get("notified"), "notified").strip():
        errors["notified"] = [_("请填写已告知的父母或其他人员。")]
    start = _dt(data.get("start"), "start", errors) or timezone.now()
    end = _dt(data.get("end"), "end", errors) if data.get("end") else None
    if end and end < start:
        errors["end"] = [_("结束时间不能早于开始时间。")]
    if errors:
        raise ValidationError(errors)
    return Placement.objects.create(
        case=case,
        place_kind=kind,
        place=_text(data["place"], "place").strip()[:200],
        start=start,
        end=end,
        notified=_text(data["notified"], "notified").strip()[:200],
        actor=actor,
    )


def _dt(value: Any, field: str, errors: dict[str, list[str]]) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(str(value))
    if parsed is None:
        errors[field] = [_("时间格式应为 YYYY-MM-DDTHH:MM。")]
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    from django.utils.dateparse import parse_date

    try:
        parsed = parse_date(str(value or ""))
    except ValueError:
        parsed = None
    if parsed is None:
        raise _err(field, _("日期格式应为 YYYY-MM-DD。"))
    return parsed


def _assessment(case: Case, actor: User, data: Any, at: datetime) -> Assessment:
    if not isinstance(data, dict):
        raise _err("assessment", _("请填写联合评估（参与人员、安全、监护、身心健康）。"))
    errors: dict[str, list[str]] = {}
    participants = data.get("participants") or []
    if isinstance(participants, str):
        participants = [
            p.strip() for p in participants.replace("，", ",").replace("、", ",").split(",") if p.strip()
        ]
    if not participants:
        errors["participants"] = [_("请填写参加评估的人员和单位（乡镇、民政、公安等）。")]
    ratings: dict[str, str] = {}
    for d in rules.DIMENSIONS:
        value = data.get(d)
        if value in DimensionRating.values:
            ratings[d] = value
        else:
            errors[d] = [_("请选择评估结论：良好、存在隐患或严重。")]
    if errors:
        raise ValidationError(errors)
    level, reasons = rules.risk_level(ratings)
    return Assessment.objects.create(
        case=case,
        cycle=case.cycle,
        at=at,
        participants=list(participants),
        risk_level=level,
        risk_reasons=reasons,
        summary=_text(data.get("summary"), "summary")[:5000],
        actor=actor,
        **ratings,
    )


def _provider(value: Any) -> Organisation | None:
    if value in (None, ""):
        return None
    qs = Organisation.objects.exclude(kind__in=[OrganisationKind.POLICE_STATION])
    if isinstance(value, int) or str(value).isdigit():
        return qs.filter(pk=_int_pk(value)).first()
    return qs.filter(name=str(value)).first()


def _referral(case: Case, actor: User, data: Any, at: datetime) -> Referral:
    if not isinstance(data, dict):
        raise _err("referrals", _("转介格式不正确。"))
    kind = ServiceKind.objects.filter(code=data.get("service_kind"), active=True).first()
    if kind is None:
        raise _err("referrals", _("请选择服务类别。"))
    provider = _provider(data.get("provider"))
    if provider is None:
        raise _err("referrals", _("请选择承接服务的机构。"))
    due = _date(data.get("due_date") or (timezone.localdate(at) + timedelta(days=30)), "referrals")
    return Referral.objects.create(
        case=case,
        service_kind=kind,
        provider=provider,
        need=_text(data.get("need"), "need")[:2000],
        due_date=due,
        created_at=at,
        created_by=actor,
    )


@transaction.atomic
def case_transition(
    *,
    actor: User,
    case_id: Any,
    to: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Case:
    """The one way a case moves (workflow.TABLE). Refuses an illegal or unauthorised move with the reason."""
    at = at or timezone.now()
    data = data or {}
    note = _text(note, "note").strip()
    case = _lock(case_id)
    s = workflow_step(case.state, to)
    if s is None:
        nexts = [_state_label(x.dst) for x in steps_from(case.state)]
        raise _err(
            "to",
            _("不能从“%(a)s”转为“%(b)s”。可以转为：%(n)s。")
            % {"a": _state_label(case.state), "b": _state_label(to), "n": "、".join(nexts) or _("无")},
        )
    if not selectors.may_act(actor, case, s.capabilities):
        who = "、".join(
            {"case.respond": _("承办派出所"), "case.assist": _("乡镇儿童督导员或县民政局")}[c]
            for c in s.capabilities
        )
        raise _err("to", _("您无权执行“%(step)s”：该步骤由%(who)s办理。") % {"step": s.label, "who": who})
    if "note" in s.needs and not note:
        raise _err("note", _("请说明理由。"))
    if case.child_id is None and to in (CaseState.ASSESSED, CaseState.ASSISTING):
        raise _err("to", _("报告所述儿童尚待乡镇确认：请先确认儿童（关联已有档案或建立档案）再评估帮扶。"))
    if to == CaseState.REOPENED:
        _no_other_open_case(case)
    payload: dict[str, Any] = {}
    events: list[EventSpec] = []
    if to == CaseState.RECEIVED:
        acked = _receive_reports(case, at)
        payload["acknowledged_reports"] = len(acked)
    elif to == CaseState.RESPONDED:
        new = _record_measures(case, actor, data.get("measures"), note, at)
        if not case.measures.exists():
            raise _err("measures", _("请勾选已采取的处置措施（二(二)2）。"))
        if "missing" in case.situations and not case.searches.exists():
            raise _err("measures", _("失踪情形须启动儿童失踪快速查找机制。"))
        if data.get("placement"):
            p = _placement(case, actor, data["placement"])
            payload["placement"] = p.pk
        payload["measures"] = new
    elif to == CaseState.ASSESSED:
        a = _assessment(case, actor, data.get("assessment"), at)
        case.risk_level = a.risk_level
        payload.update(risk_level=a.risk_level, reasons=a.risk_reasons, participants=a.participants)
    elif to == CaseState.ASSISTING:
        plan = (_text(data.get("plan"), "plan") or note).strip()
        if not plan:
            raise _err("plan", _("请填写帮扶方案。"))
        refs = data.get("referrals") or []
        if not isinstance(refs, list) or not refs:
            raise _err("referrals", _("帮扶方案至少包括一项转介（监护指导、心理疏导等）。"))
        created = [_referral(case, actor, r, at) for r in refs]
        case.plan = plan
        payload["referrals"] = [str(r.pk) for r in created]
    elif to == CaseState.CLOSED and "referrals_settled" in s.needs:
        open_refs = selectors.unsettled_referrals(case)
        if open_refs:
            raise _err(
                "to",
                _("还有 %(n)d 项转介未完成（%(k)s）：须完成或说明理由撤回后才能结案。")
                % {"n": len(open_refs), "k": "、".join(r.service_kind.name_zh for r in open_refs)},
            )
    if to == CaseState.REOPENED:
        case.cycle += 1
        case.closed_at = None
    if to in (CaseState.CLOSED, CaseState.UNFOUNDED):
        case.closed_at = at
    holder = selectors.holder(case)
    Transition.objects.create(
        case=case,
        cycle=case.cycle,
        from_state=case.state,
        to_state=to,
        actor=actor,
        unit=holder,
        at=at,
        note=note[:5000],
        data=payload,
    )
    before = case.state
    case.state, case.state_since = to, at
    case.save()
    events.append(
        _event(
            "case.transition",
            case,
            actor,
            _("%(a)s → %(b)s") % {"a": _state_label(before), "b": _state_label(to)}
            + (f"：{note[:120]}" if note else ""),
            {"from": before, "to": to, **payload},
            at,
        )
    )
    record_events(events)
    resolve_alert(kind=AlertKind.DEADLINE_BREACHED, key=f"case:{case.pk}:{case.cycle}:{to}", at=at, by=actor)
    return case


# --- police response -------------------------------------------------------------------------------


def _police_open(actor: User, case: Case, what: str) -> None:
    _require(actor, case, ("case.respond",), what)
    if not case.is_open:
        raise _err("detail", _("个案已结束。"))


@transaction.atomic
def measures_record(*, actor: User, case_id: Any, measures: list[str], note: str = "") -> list[str]:
    case = _lock(case_id)
    _police_open(actor, case, _("登记处置措施"))
    at = timezone.now()
    new = _record_measures(case, actor, measures, note, at)
    if new:
        labels = dict(Measure.objects.filter(code__in=new).values_list("code", "name_zh"))
        record_events(
            [
                _event(
                    "case.measures",
                    case,
                    actor,
                    "、".join(labels[c] for c in new)[:200],
                    {"measures": new},
                    at,
                )
            ]
        )
    return new


@transaction.atomic
def placement_add(*, actor: User, case_id: Any, data: dict[str, Any]) -> Placement:
    case = _lock(case_id)
    _police_open(actor, case, _("登记临时安置"))
    p = _placement(case, actor, data)
    record_events(
        [
            _event(
                "case.placement",
                case,
                actor,
                _("临时安置：%(p)s") % {"p": p.place},
                {"place": p.place, "kind": p.place_kind, "notified": p.notified},
            )
        ]
    )
    return p


@transaction.atomic
def placement_end(*, actor: User, placement_id: Any, end: datetime | None = None) -> Placement:
    p = Placement.objects.select_related("case").filter(pk=_int_pk(placement_id)).first()
    if p is None:
        raise _err("detail", _("安置记录不存在。"))
    case = _lock(p.case_id)
    _require(actor, case, ("case.respond", "case.assist"), _("结束临时安置"))
    p.end = end or timezone.now()
    p.save(update_fields=["end"])
    record_events([_event("case.placement_ended", case, actor, _("结束临时安置：%(p)s") % {"p": p.place})])
    return p


@transaction.atomic
def search_start(*, actor: User, case_id: Any) -> MissingSearch:
    case = _lock(case_id)
    _police_open(actor, case, _("启动失踪查找"))
    if case.searches.filter(ended_at__isnull=True).exists():
        raise _err("detail", _("快速查找已在进行中。"))
    s = MissingSearch.objects.create(case=case, started_at=timezone.now(), actor=actor)
    record_events([_event("case.search_started", case, actor, _("启动儿童失踪快速查找"))])
    return s


@transaction.atomic
def search_end(*, actor: User, case_id: Any, outcome: str) -> MissingSearch:
    case = _lock(case_id)
    _require(actor, case, ("case.respond",), _("结束失踪查找"))
    s = case.searches.filter(ended_at__isnull=True).first()
    if s is None:
        raise _err("detail", _("没有进行中的快速查找。"))
    if not _text(outcome, "outcome").strip():
        raise _err("outcome", _("请填写查找结果。"))
    s.ended_at, s.outcome = timezone.now(), _text(outcome, "outcome").strip()[:300]
    s.save(update_fields=["ended_at", "outcome"])
    record_events([_event("case.search_ended", case, actor, _("结束快速查找：%(o)s") % {"o": s.outcome})])
    return s


# --- referrals and follow-up -----------------------------------------------------------------------


@transaction.atomic
def referral_add(*, actor: User, case_id: Any, data: dict[str, Any]) -> Referral:
    case = _lock(case_id)
    _require(actor, case, ("case.assist",), _("发出转介"))
    if case.state != CaseState.ASSISTING:
        raise _err("detail", _("只有帮扶中的个案可以增加转介。"))
    r = _referral(case, actor, data, timezone.now())
    record_events(
        [
            _event(
                "referral.created",
                case,
                actor,
                _("转介：%(k)s → %(p)s") % {"k": r.service_kind.name_zh, "p": r.provider.name},
            )
        ]
    )
    return r


@transaction.atomic
def referral_respond(
    *, actor: User, referral_id: Any, action: str, reason: str = "", outcome: str = ""
) -> Referral:
    """The provider accepts, refuses (with a reason) or completes its referral (R6.5)."""
    r = Referral.objects.select_for_update().filter(pk=referral_id).first()
    if r is None or not can(actor, "referral.respond", r):
        raise _err("detail", _("该转介不是发给您所在机构的。"))
    at = timezone.now()
    moves = {
        "accept": ((ReferralState.PENDING,), ReferralState.ACCEPTED),
        "refuse": ((ReferralState.PENDING, ReferralState.ACCEPTED), ReferralState.REFUSED),
        "done": ((ReferralState.ACCEPTED,), ReferralState.DONE),
    }
    if action not in moves:
        raise _err("action", _("操作应为 accept（接收）、refuse（拒绝）或 done（完成）。"))
    src, dst = moves[action]
    if r.state not in src:
        raise _err(
            "action",
            _("转介当前为“%(s)s”，不能%(a)s。")
            % {
                "s": ReferralState(r.state).label,
                "a": {"accept": _("接收"), "refuse": _("拒绝"), "done": _("标记完成")}[action],
            },
        )
    if action == "refuse" and not _text(reason, "reason").strip():
        raise _err("reason", _("拒绝转介须说明理由。"))
    r.state = dst
    if action in ("accept", "refuse"):
        r.answered_at = at
    if action == "refuse":
        r.reason = _text(reason, "reason").strip()[:300]
    if action == "done":
        r.done_at, r.outcome = at, _text(outcome, "outcome").strip()[:5000]
    r.save()
    case = Case.objects.select_related("child", "village").get(pk=r.case_id)
    record_events(
        [
            _event(
                f"referral.{action}",
                case,
                actor,
                _("%(p)s：%(k)s %(s)s")
                % {"p": r.provider.name, "k": r.service_kind.name_zh, "s": ReferralState(dst).label},
                {"referral": str(r.pk), "state": dst, "reason": r.reason},
                at,
            )
        ]
    )
    return r


@transaction.atomic
def referral_close(*, actor: User, referral_id: Any, reason: str) -> Referral:
    """The township withdraws a referral that will not be done (refused, no longer needed) with a reason."""
    r = Referral.objects.select_for_update().filter(pk=referral_id).first()
    if r is None:
        raise _err("detail", _("转介不存在。"))
    case = _lock(r.case_id)
    _require(actor, case, ("case.assist",), _("撤回转介"))
    if r.state in (ReferralState.DONE, ReferralState.CLOSED):
        raise _err("detail", _("该转介已完成或已撤回。"))
    if not _text(reason, "reason").strip():
        raise _err("reason", _("撤回转介须说明理由。"))
    r.state, r.reason = ReferralState.CLOSED, _text(reason, "reason").strip()[:300]
    r.save(update_fields=["state", "reason"])
    record_events(
        [
            _event(
                "referral.closed",
                case,
                actor,
                _("撤回转介：%(k)s（%(r)s）") % {"k": r.service_kind.name_zh, "r": r.reason},
            )
        ]
    )
    return r


@transaction.atomic
def followup_add(*, actor: User, case_id: Any, note: str, next_due: date | None = None) -> FollowUp:
    case = _lock(case_id)
    if not selectors.may_act(actor, case, ("case.follow_up",)):
        raise _err("detail", _("您无权登记该个案的跟踪情况。"))
    if not _text(note, "note").strip():
        raise _err("note", _("请填写跟踪情况。"))
    f = FollowUp.objects.create(
        case=case, note=_text(note, "note").strip()[:5000], next_due=next_due, actor=actor
    )
    record_events([_event("case.follow_up", case, actor, _("跟踪回访：%(n)s") % {"n": f.note[:80]})])
    return f


# --- guardianship intervention (R7) ----------------------------------------------------------------


@transaction.atomic
def guardian_measure_add(*, actor: User, case_id: Any, data: dict[str, Any]) -> GuardianMeasure:
    case = _lock(case_id)
    _require(actor, case, ("case.respond", "case.assist"), _("登记监护干预措施"))
    errors: dict[str, list[str]] = {}
    if data.get("kind") not in GuardianMeasure.Kind.values:
        errors["kind"] = [_("请选择措施：批评教育、治安管理处罚或立案侦查。")]
    if data.get("conduct") not in GuardianMeasure.Conduct.values:
        errors["conduct"] = [_("请选择监护人的行为。")]
    if not _text(data.get("guardian_name"), "guardian_name").strip():
        errors["guardian_name"] = [_("请填写监护人姓名。")]
    if errors:
        raise ValidationError(errors)
    m = GuardianMeasure.objects.create(
        case=case,
        guardian_name=_text(data["guardian_name"], "guardian_name").strip()[:50],
        guardian_relation=_text(data.get("guardian_relation"), "guardian_relation")[:20],
        conduct=data["conduct"],
        kind=data["kind"],
        decided_on=_date(data.get("decided_on") or timezone.localdate(), "decided_on"),
        outcome=_text(data.get("outcome"), "outcome")[:300],
        corrected=data.get("corrected"),
        serious_harm=bool(data.get("serious_harm")),
        actor=actor,
    )
    record_events(
        [
            _event(
                "guardianship.measure",
                case,
                actor,
                _("监护干预：%(k)s（%(c)s）") % {"k": m.get_kind_display(), "c": m.get_conduct_display()},
                {"kind": m.kind, "conduct": m.conduct, "on": m.decided_on, "corrected": m.corrected},
            )
        ]
    )
    return m


def _no_other_open_case(case: Case) -> None:
    """Reopening may not give the child a second open case (issue 10 part 7; the constraint backs it)."""
    if case.child_id is None:
        return
    Child.objects.select_for_update(no_key=True).filter(pk=case.child_id).exists()
    other = Case.objects.filter(child_id=case.child_id).exclude(pk=case.pk).exclude(state__in=ENDED).first()
    if other is not None:
        raise _err(
            "to",
            _("该儿童已有未结个案 %(n)s：请在该个案中继续办理，不能同时重新启动本个案。")
            % {"n": other.number},
        )


def grounds_for(case: Case, today: date | None = None) -> list[rules.Ground]:
    """The three revocation grounds evaluated from the child's records (R7.2)."""
    today = today or timezone.localdate()
    child = case.child
    if child is None:  # the child awaits the township's confirmation: no records to weigh
        return []
    labels = dict(Situation.objects.values_list("code", "name_zh"))
    reports = tuple(
        rules.ReportFact(
            timezone.localdate(r.reported_at),
            frozenset(r.situations),
            _("报告（%(n)s）：%(s)s")
            % {"n": r.case.number, "s": "、".join(labels.get(x, x) for x in r.situations)},
        )
        for r in Report.objects.filter(case__child_id=child.pk).select_related("case")
    )
    conduct = tuple(
        rules.GuardianConduct(
            m.decided_on,
            m.kind,
            m.conduct,
            m.corrected,
            m.serious_harm,
            _("%(k)s：%(g)s %(c)s%(o)s")
            % {
                "k": m.get_kind_display(),
                "g": m.guardian_name,
                "c": m.get_conduct_display(),
                "o": f"（{m.outcome}）" if m.outcome else "",
            },
        )
        for m in GuardianMeasure.objects.filter(case__child_id=child.pk)
    )
    latest = Assessment.objects.filter(case__child_id=child.pk).order_by("-at").first()
    facts = rules.GroundsFacts(
        child_birth=child.birth_date,
        reports=reports,
        conduct=conduct,
        assessment_guardianship_serious=bool(latest and latest.guardianship == DimensionRating.SERIOUS),
        assessment_health_serious=bool(
            latest and DimensionRating.SERIOUS in (latest.physical_health, latest.mental_health)
        ),
        assessment_on=timezone.localdate(latest.at) if latest else None,
    )
    return rules.revocation_grounds(
        facts, today=today, months_limit=int(param("protection_revocation_nonperformance_months"))
    )


@transaction.atomic
def petition_file(*, actor: User, case_id: Any, data: dict[str, Any]) -> Petition:
    """Civil affairs files (or records a relative's or the village committee's) petition to the court."""
    case = _lock(case_id)
    _require(actor, case, ("case.assist",), _("登记撤销监护资格申请"))
    errors: dict[str, list[str]] = {}
    if data.get("petitioner") not in Petition.Petitioner.values:
        errors["petitioner"] = [_("申请人应为近亲属、村（居）民委员会或民政部门。")]
    grounds = data.get("grounds") or []
    met = {g.code for g in grounds_for(case) if g.met}
    if not grounds or any(g not in ("a", "b", "c") for g in grounds):
        errors["grounds"] = [_("请选择申请事由（二(二)4 的三种情形 a、b、c）。")]
    elif not set(grounds) <= met and not data.get("override_reason"):
        errors["grounds"] = [
            _("记录尚不能证明所选事由（%(g)s）：请补充记录或说明理由。")
            % {"g": "、".join(sorted(set(grounds) - met))}
        ]
    for f, msg in (("guardian_name", _("请填写被申请的监护人。")), ("court", _("请填写受理法院。"))):
        if not _text(data.get(f), f).strip():
            errors[f] = [msg]
    if errors:
        raise ValidationError(errors)
    p = Petition.objects.create(
        case=case,
        petitioner=data["petitioner"],
        petitioner_name=_text(data.get("petitioner_name"), "petitioner_name")[:100]
        or str(Petition.Petitioner(data["petitioner"]).label),
        guardian_name=_text(data["guardian_name"], "guardian_name").strip()[:50],
        grounds=sorted(set(grounds)),
        court=_text(data["court"], "court").strip()[:100],
        filed_on=_date(data.get("filed_on") or timezone.localdate(), "filed_on"),
        actor=actor,
    )
    record_events(
        [
            _event(
                "guardianship.petition",
                case,
                actor,
                _("向%(c)s申请撤销%(g)s的监护人资格") % {"c": p.court, "g": p.guardian_name},
                {"grounds": p.grounds, "override": data.get("override_reason", "")},
            )
        ]
    )
    return p


@transaction.atomic
def petition_update(*, actor: User, petition_id: Any, data: dict[str, Any]) -> Petition:
    """Hearing date, decision; a revocation with a new guardian updates the child's file (registry)."""
    from shouhu.registry.services import guardian_set

    p = Petition.objects.select_for_update().filter(pk=_int_pk(petition_id)).first()
    if p is None:
        raise _err("detail", _("申请不存在。"))
    case = _lock(p.case_id)
    _require(actor, case, ("case.assist",), _("登记诉讼进展"))
    events = []
    if data.get("hearing_on"):
        p.hearing_on = _date(data["hearing_on"], "hearing_on")
        events.append(_event("guardianship.hearing", case, actor, _("开庭：%(d)s") % {"d": p.hearing_on}))
    decision = data.get("decision")
    if decision:
        if decision not in (Petition.Decision.REVOKED, Petition.Decision.REJECTED):
            raise _err("decision", _("判决结果应为 revoked（撤销）或 rejected（驳回）。"))
        p.decision = decision
        p.decided_on = _date(data.get("decided_on") or timezone.localdate(), "decided_on")
        events.append(
            _event(
                "guardianship.decision",
                case,
                actor,
                _("判决：%(d)s") % {"d": Petition.Decision(decision).label},
            )
        )
        new = data.get("new_guardian")
        if decision == Petition.Decision.REVOKED:
            if not isinstance(new, dict) or not _text(new.get("name"), "new_guardian").strip():
                raise _err("new_guardian", _("撤销监护人资格的，请填写法院指定的新监护人。"))
            role = new.get("role") or "carer"
            if case.child is None:
                raise _err("new_guardian", _("报告所述儿童尚待乡镇确认，请先确认儿童。"))
            guardian_set(
                actor=actor, child=case.child, role=role, data={k: v for k, v in new.items() if k != "role"}
            )
            p.new_guardian_name = _text(new["name"], "new_guardian").strip()[:50]
    p.save()
    record_events(events)
    return p


# --- findings and accountability -------------------------------------------------------------------


@transaction.atomic
def finding_record(
    *,
    unit: Organisation,
    child: Child,
    source: str,
    situations: list[str],
    found_at: datetime,
    source_ref: str = "",
) -> Finding:
    """Called by visits and school records when they find a reportable situation (R5.3 missed reports)."""
    f = Finding.objects.create(
        unit=unit,
        child=child,
        source=source[:40],
        source_ref=source_ref[:64],
        situations=list(situations),
        found_at=found_at,
    )
    record_events(
        [
            EventSpec(
                verb="protection.finding",
                subject_type="protection.finding",
                subject_id=str(f.pk),
                child_id=str(child.pk),
                region_code=child.village_id,
                summary=_("%(u)s发现应报告情形") % {"u": unit.name},
                occurred_at=found_at,
            )
        ]
    )
    return f
