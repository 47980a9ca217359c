"""Every read of the protection chain, starting from what the user may reach (R11.1, DESIGN 1).

Who sees which case is the capability table's answer (core/capabilities.py) through `restrict`:
the station's police and the region's civil affairs see its cases and the reporter's identity; the
village's worker sees the cases of the village (assists the assessment) without the reporter; a
reporter sees only their own reports' progress, never the case file; a provider sees only the
referrals sent to it, with what serving them needs. Anything else answers 404 like a missing record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from shouhu.core.access import can, get_or_404, restrict, restriction_q
from shouhu.core.models import Organisation, OrganisationKind
from shouhu.core.policy import param
from shouhu.protection import rules
from shouhu.protection.models import (
    Accountability,
    Case,
    CaseState,
    Measure,
    Referral,
    ReferralState,
    Report,
    Situation,
    Transition,
)
from shouhu.protection.workflow import TIMED, holder_of, steps_from


def visible_cases(user: Any) -> QuerySet[Case]:
    return restrict(Case.objects.select_related("child", "village__parent", "station"), user, "case.view")


def get_case(user: Any, case_id: Any) -> Case:
    return get_or_404(
        Case.objects.select_related("child", "village__parent", "station"), user, "case.view", pk=case_id
    )


def sees_reporter(user: Any, case: Case) -> bool:
    """R11.1/R5.1: the reporter's identity only for police of the station and civil affairs."""
    return can(user, "case.reporter", case)


def may_act(user: Any, case: Case, capabilities: tuple[str, ...]) -> bool:
    """The user holds one of `capabilities` on this case (police: its station; civil affairs: its region)."""
    return any(can(user, c, case) for c in capabilities)


def allowed_transitions(user: Any, case: Case) -> list[str]:
    return [s.dst for s in steps_from(case.state) if may_act(user, case, s.capabilities)]


def own_reports(user: Any) -> QuerySet[Report]:
    if not getattr(user, "is_authenticated", False):
        return Report.objects.none()
    return Report.objects.filter(reporter=user).select_related("case", "village__parent")


def get_own_report(user: Any, report_id: Any) -> Report:
    try:
        return own_reports(user).get(pk=report_id)
    except Exception as exc:
        raise Http404("not found") from exc


def visible_referrals(user: Any) -> QuerySet[Referral]:
    """A provider's referrals, plus the referrals of the cases the user sees."""
    q = restriction_q(Referral, user, "case.view") | restriction_q(Referral, user, "referral.respond")
    return Referral.objects.filter(q).select_related(
        "case__child", "case__village__parent", "service_kind", "provider"
    )


def provider_referrals(user: Any) -> QuerySet[Referral]:
    return restrict(visible_referrals(user), user, "referral.respond")


def get_referral(user: Any, referral_id: Any) -> Referral:
    try:
        return visible_referrals(user).get(pk=referral_id)
    except Exception as exc:
        raise Http404("not found") from exc


# --- derived views of a case -----------------------------------------------------------------------


def limits() -> dict[str, float]:
    return {s.limit_key: float(param(s.limit_key)) for s in TIMED if s.limit_key}


def cycle_transitions(case: Case) -> list[Transition]:
    return [t for t in case.transitions.all() if t.cycle == case.cycle]


def case_deadlines(
    case: Case, now: datetime | None = None, lims: dict[str, float] | None = None
) -> list[rules.Deadline]:
    trs = cycle_transitions(case)
    if case.cycle == 0:
        start_state, start = CaseState.REPORTED.value, case.opened_at
    else:
        reopen = next((t for t in trs if t.to_state == CaseState.REOPENED), None)
        start_state, start = CaseState.REOPENED.value, reopen.at if reopen else case.opened_at
    return rules.deadlines(
        cycle_start=start,
        start_state=start_state,
        entries=[(t.to_state, t.at) for t in trs if t.to_state != CaseState.REOPENED],
        limits_hours=lims or limits(),
        now=now or timezone.now(),
        ended_at=None if case.is_open else case.closed_at,
    )


def urgency(user: Any, now: datetime | None = None) -> dict[str, Any]:
    """Issue 16 part 5, for the home page of the police and the workers: open cases in the user's
    scope, those still waiting for the police to accept them, the urgent ones (rules.is_urgent), the
    ones past a time limit, and the next running deadline. Counts and one time: no child is named."""
    now = now or timezone.now()
    lims = limits()
    cases = list(
        visible_cases(user)
        .exclude(state__in=[CaseState.CLOSED, CaseState.UNFOUNDED])
        .prefetch_related("transitions")
        .order_by("opened_at")[:500]
    )
    running = []
    overdue = 0
    for case in cases:
        dls = case_deadlines(case, now=now, lims=lims)
        overdue += any(d.overdue for d in dls)
        running += [d.due for d in dls if d.due and d.done_at is None and d.met is None]
    return {
        "open": len(cases),
        "awaiting": sum(1 for c in cases if c.state == CaseState.REPORTED),
        "urgent": sum(1 for c in cases if rules.is_urgent(c.situations)),
        "overdue": overdue,
        "next_due": min(running) if running else None,
    }


def township_government(case: Case) -> Organisation | None:
    township = case.village.parent
    return Organisation.objects.filter(kind=OrganisationKind.TOWNSHIP_GOVERNMENT, region=township).first()


def township_governments() -> dict[str, Organisation]:
    """Township governments by township code (one query, for lists)."""
    return {o.region_id: o for o in Organisation.objects.filter(kind=OrganisationKind.TOWNSHIP_GOVERNMENT)}


def holder(case: Case, townships: dict[str, Organisation] | None = None) -> Organisation | None:
    """The unit that holds the case now (R6.4: every step has an owner)."""
    if holder_of(case.state) == "station":
        return case.station
    if townships is not None:
        return townships.get(case.village.parent_id or "")
    return township_government(case)


def checklist(case: Case) -> list[tuple[Measure, bool]]:
    """The police checklist of the case's situations (二(二)2), each with whether it was done."""
    sits = {s.code: s.measures for s in Situation.objects.filter(code__in=case.situations)}
    codes = rules.allowed_measures(case.situations, sits)
    by_code = {m.code: m for m in Measure.objects.filter(code__in=codes)}
    done = set(case.measures.values_list("measure_id", flat=True))
    return [(by_code[c], c in done) for c in codes if c in by_code]


def accountability_for(user: Any) -> QuerySet[Accountability]:
    return restrict(Accountability.objects.select_related("unit", "case"), user, "accountability.view")


def commendable_reports(user: Any) -> QuerySet[Report]:
    """R5.3: citizens' and organisations' reports that led to protection (police measures taken)."""
    led = [
        CaseState.RESPONDED,
        CaseState.TOWNSHIP_NOTIFIED,
        CaseState.ASSESSED,
        CaseState.ASSISTING,
        CaseState.CLOSED,
    ]
    return (
        restrict(Report.objects.all(), user, "accountability.view")
        .filter(mandated=False, case__state__in=led)
        .exclude(case__transitions__to_state=CaseState.UNFOUNDED)
        .select_related("case", "village__parent")
        .distinct()
    )


def unsettled_referrals(case: Case) -> list[Referral]:
    return [r for r in case.referrals.all() if r.state not in (ReferralState.DONE, ReferralState.CLOSED)]


def reportable_child(user: Any, child_id: Any) -> Any:
    """A child a report may be preset with: one the reporter may open, or (police) has found by number
    or exact name to start a case (`child.lookup`). None for anything else, malformed ids included."""
    from shouhu.registry.models import Child

    reachable = restriction_q(Child, user, "child.view") | restriction_q(Child, user, "child.lookup")
    try:
        return Child.objects.filter(reachable, pk=child_id).select_related("village__parent").first()
    except (ValueError, TypeError, ValidationError):
        return None


def referral_briefs(referrals: list[Referral], today: Any = None) -> dict[Any, dict[str, Any]]:
    """What a provider needs to serve each referral (R6.5, R11.1), and no more: the child's name, age
    and village, the case's risk level and the items of the plan referred to this provider; once it has
    accepted and until it is done, also how to reach the child (address, the carer's or guardian's name
    and phone). A constant number of queries for the list."""
    from shouhu.registry.models import Guardian, Parent
    from shouhu.registry.rules import full_years

    today = today or timezone.localdate()
    active = [r for r in referrals if r.state == ReferralState.ACCEPTED]
    child_ids = {cid for r in active if (cid := r.case.child_id) is not None}
    carers: dict[Any, list[tuple[str, str, str]]] = {}
    for g in Guardian.objects.filter(child_id__in=child_ids).order_by("role"):
        carers.setdefault(g.child_id, []).append((g.get_role_display(), g.name, g.phone or ""))
    for p in Parent.objects.filter(child_id__in=child_ids, deceased=False).order_by("relation"):
        if not p.away_for_work and p.guardianship_capacity:
            carers.setdefault(p.child_id, []).append((p.get_relation_display(), p.name, p.phone or ""))
    items: dict[tuple[Any, Any], list[Referral]] = {}
    for r in Referral.objects.filter(
        case_id__in={r.case_id for r in referrals}, provider_id__in={r.provider_id for r in referrals}
    ).select_related("service_kind"):
        items.setdefault((r.case_id, r.provider_id), []).append(r)
    out: dict[Any, dict[str, Any]] = {}
    for r in referrals:
        child = r.case.child
        assert child is not None  # referrals come with a plan, made only once the child is confirmed
        brief: dict[str, Any] = {
            "child_name": child.name,
            "age": full_years(child.birth_date, today),
            "village": r.case.village_id,
            "risk_level": r.case.risk_level,
            "items": [
                {"service_kind": x.service_kind.name_zh, "need": x.need, "due_date": x.due_date}
                for x in items.get((r.case_id, r.provider_id), [r])
            ],
        }
        if r.state == ReferralState.ACCEPTED:
            brief["address"] = child.address
            brief["contacts"] = [
                {"role": role, "name": name, "phone": phone} for role, name, phone in carers.get(child.pk, [])
            ]
        out[r.pk] = brief
    return out
