"""Every read of the protection chain, starting from the user's protection scope (R11.1, DESIGN 1).

- police see the cases of their station;
- civil affairs (county_admin, township_supervisor) see the cases of their region and the reporter's
  identity; police see it too;
- a village worker sees the cases of their village (they assist the assessment), without the
  reporter's identity;
- a reporter sees only their own reports' progress, never the case file;
- a provider sees only the referrals sent to it, and what it needs to serve them.
Anything else answers 404 like a missing record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from shouhu.core.jurisdiction import NOTHING, prefix_q
from shouhu.core.models import Organisation, OrganisationKind, RoleAssignment
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

CIVIL_AFFAIRS = frozenset({"county_admin", "township_supervisor"})


@dataclass(frozen=True)
class ProtectionScope:
    station_ids: tuple[int, ...] = ()
    civil_prefixes: tuple[str, ...] = ()
    village_prefixes: tuple[str, ...] = ()
    provider_ids: tuple[int, ...] = ()
    roles: frozenset[str] = frozenset()

    @property
    def sees_cases(self) -> bool:
        return bool(self.station_ids or self.civil_prefixes or self.village_prefixes)

    @property
    def is_civil_affairs(self) -> bool:
        return bool(self.civil_prefixes)

    @property
    def is_county(self) -> bool:
        return "county_admin" in self.roles


EMPTY = ProtectionScope()


def pscope(user: Any) -> ProtectionScope:
    """The user's protection scope, from active role assignments; cached on the user for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EMPTY
    cached = getattr(user, "_shouhu_pscope", None)
    if cached is not None:
        return cached
    stations: set[int] = set()
    civil: set[str] = set()
    village: set[str] = set()
    providers: set[int] = set()
    roles: set[str] = set()
    for a in (
        RoleAssignment.objects.active().filter(user=user).select_related("region", "organisation__region")
    ):
        roles.add(a.role)
        region = a.region or (a.organisation.region if a.organisation else None)
        if (
            a.role == "police"
            and a.organisation is not None
            and a.organisation.kind == OrganisationKind.POLICE_STATION
        ):
            stations.add(a.organisation.pk)
        elif a.role in CIVIL_AFFAIRS and region is not None:
            civil.add(region.prefix)
        elif a.role == "village_worker" and region is not None:
            village.add(region.prefix)
        elif a.role == "service_provider" and a.organisation_id:
            providers.add(a.organisation_id)
    scope = ProtectionScope(
        tuple(sorted(stations)),
        tuple(sorted(civil)),
        tuple(sorted(village)),
        tuple(sorted(providers)),
        frozenset(roles),
    )
    user._shouhu_pscope = scope
    return scope


def case_q(scope: ProtectionScope) -> Q:
    q = NOTHING
    if scope.station_ids:
        q |= Q(station_id__in=scope.station_ids)
    if scope.civil_prefixes:
        q |= prefix_q("village__pk", scope.civil_prefixes)
    if scope.village_prefixes:
        q |= prefix_q("village__pk", scope.village_prefixes)
    return q


def visible_cases(user: Any) -> QuerySet[Case]:
    return Case.objects.filter(case_q(pscope(user))).select_related("child", "village__parent", "station")


def get_case(user: Any, case_id: Any) -> Case:
    try:
        return visible_cases(user).get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("not found") from exc
    except Exception as exc:
        if exc.__class__.__name__ == "ValidationError":
            raise Http404("not found") from exc
        raise


def sees_reporter(user: Any, case: Case) -> bool:
    """R11.1/R5.1: the reporter's identity only for police of the station and civil affairs."""
    s = pscope(user)
    return case.station_id in s.station_ids or any(case.village_id.startswith(p) for p in s.civil_prefixes)


def may_act(user: Any, case: Case, roles: tuple[str, ...]) -> bool:
    """The user holds one of `roles` over this case (police: its station; civil affairs: its region)."""
    s = pscope(user)
    if "police" in roles and case.station_id in s.station_ids:
        return True
    # every workflow step open to civil affairs names both of its roles, so their region prefixes serve
    return bool(set(roles) & CIVIL_AFFAIRS) and any(case.village_id.startswith(p) for p in s.civil_prefixes)


def allowed_transitions(user: Any, case: Case) -> list[str]:
    return [s.dst for s in steps_from(case.state) if may_act(user, case, s.roles)]


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
    s = pscope(user)
    q = Q(case__in=Case.objects.filter(case_q(s)).values("pk")) if s.sees_cases else NOTHING
    if s.provider_ids:
        q |= Q(provider_id__in=s.provider_ids)
    return Referral.objects.filter(q).select_related(
        "case__child", "case__village__parent", "service_kind", "provider"
    )


def provider_referrals(user: Any) -> QuerySet[Referral]:
    s = pscope(user)
    if not s.provider_ids:
        return Referral.objects.none()
    return visible_referrals(user).filter(provider_id__in=s.provider_ids)


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
    s = pscope(user)
    if not s.civil_prefixes:
        return Accountability.objects.none()
    return Accountability.objects.filter(prefix_q("region__pk", s.civil_prefixes)).select_related(
        "unit", "case"
    )


def commendable_reports(user: Any) -> QuerySet[Report]:
    """R5.3: citizens' and organisations' reports that led to protection (police measures taken)."""
    s = pscope(user)
    if not s.civil_prefixes:
        return Report.objects.none()
    led = [
        CaseState.RESPONDED,
        CaseState.TOWNSHIP_NOTIFIED,
        CaseState.ASSESSED,
        CaseState.ASSISTING,
        CaseState.CLOSED,
    ]
    return (
        Report.objects.filter(prefix_q("village__pk", s.civil_prefixes), mandated=False, case__state__in=led)
        .exclude(case__transitions__to_state=CaseState.UNFOUNDED)
        .select_related("case", "village__parent")
        .distinct()
    )


def unsettled_referrals(case: Case) -> list[Referral]:
    return [r for r in case.referrals.all() if r.state not in (ReferralState.DONE, ReferralState.CLOSED)]
