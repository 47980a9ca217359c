"""Every read of the services module, starting from what the user may reach (R11.1, DESIGN 1).

A provider sees only the needs offered to it or accepted by it, its programmes and their sessions; a
volunteer only their own sessions; the village, township and county see their region's needs, the
providers that serve it and its programmes. Out of reach answers 404 like missing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from shouhu.core.access import can, get_or_404, restrict, restriction_q
from shouhu.core.policy import param
from shouhu.core.workflow import Deadline, limits_from
from shouhu.registry.models import Child
from shouhu.services import rules
from shouhu.services.models import Need, NeedState, Programme, Provider, ProviderStatus, Session
from shouhu.services.workflow import NEED_WORKFLOW, WAITING


def visible_providers(user: Any) -> QuerySet[Provider]:
    return restrict(Provider.objects.select_related("organisation__region"), user, "service.view")


def get_provider(user: Any, pk: Any) -> Provider:
    return get_or_404(Provider.objects.select_related("organisation__region"), user, "service.view", pk=pk)


def visible_programmes(user: Any) -> QuerySet[Programme]:
    """The programmes of the region's villages, and a provider's own."""
    q = restriction_q(Programme, user, "service.view") | restriction_q(Programme, user, "activity.attend")
    return Programme.objects.filter(q).select_related(
        "provider__organisation", "village__parent", "service_type"
    )


def get_programme(user: Any, pk: Any) -> Programme:
    try:
        return visible_programmes(user).get(pk=int(pk))
    except (Programme.DoesNotExist, TypeError, ValueError) as exc:
        from django.http import Http404

        raise Http404("not found") from exc


def visible_needs(user: Any) -> QuerySet[Need]:
    return restrict(
        Need.objects.select_related("child__village__parent", "type", "provider__organisation"),
        user,
        "service.view",
    )


def get_need(user: Any, pk: Any) -> Need:
    return get_or_404(
        Need.objects.select_related("child__village__parent", "type", "provider__organisation", "programme"),
        user,
        "service.view",
        pk=pk,
    )


def allowed_transitions(user: Any, need: Need) -> list[str]:
    return [
        s.target
        for s in NEED_WORKFLOW.allowed(need.state, lambda caps: any(can(user, c, need) for c in caps))
    ]


def deadlines(need: Need, now: datetime | None = None) -> list[Deadline]:
    """Each timed step's due time and whether it was met (policy days), for the current cycle."""
    steps = list(need.steps.all())
    start = max((i for i, s in enumerate(steps) if s.to_state == NeedState.OPEN), default=0)
    entries = [(s.to_state, s.at) for s in steps[start:]]
    ended = need.state_at if need.state in NEED_WORKFLOW.final else None
    return NEED_WORKFLOW.deadlines(
        entries=entries, limits=limits_from(NEED_WORKFLOW, param), now=now or timezone.now(), ended_at=ended
    )


def matches_for(need: Need) -> list[rules.Match]:
    """Providers a need can be offered to (rules.match_providers), with their current load."""
    providers = (
        Provider.objects.filter(status=ProviderStatus.APPROVED)
        .select_related("organisation")
        .annotate(
            serves=Count("villages", filter=Q(villages__code=need.child.village_id), distinct=True),
            offers=Count("service_types", filter=Q(service_types__code=need.type_id), distinct=True),
        )
    )
    loads = dict(
        Need.objects.filter(state__in=(NeedState.OFFERED, NeedState.ACCEPTED))
        .exclude(pk=need.pk)
        .values_list("provider_id")
        .annotate(n=Count("pk"))
        .values_list("provider_id", "n")
    )
    candidates = [
        rules.Candidate(
            provider_id=p.pk,
            name=p.organisation.name,
            approved=True,
            serves_village=p.serves > 0,  # type: ignore[attr-defined]
            offers_type=p.offers > 0,  # type: ignore[attr-defined]
            capacity=p.capacity,
            load=loads.get(p.pk, 0),
        )
        for p in providers
    ]
    return rules.match_providers(candidates)


def overdue_needs(user: Any, now: datetime | None = None) -> QuerySet[Need]:
    """Needs still waiting for their service `service_need_unmet_days` after they were recorded: the
    township supervisor's list of unmet needs (R8.3)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=float(param("service_need_unmet_days")))
    return visible_needs(user).filter(state__in=WAITING, created_at__lte=cutoff).order_by("created_at")


def enrolment_candidates(user: Any, programme: Programme) -> QuerySet[Child]:
    """Children a user may enrol in a programme: in its village, and either in the user's reach for
    service needs (the village, township, county) or with a need of the programme's service offered to or
    accepted by its provider (the provider sees no one else)."""
    base = Child.objects.filter(village_id=programme.village_id)
    q = restriction_q(Child, user, "service.need")
    if can(user, "service.manage", programme):
        q |= Q(
            pk__in=Need.objects.filter(
                provider_id=programme.provider_id,
                type_id=programme.service_type_id,
                state__in=(NeedState.OFFERED, NeedState.ACCEPTED, NeedState.DELIVERED),
            ).values("child_id")
        )
    return base.filter(q)


def visible_sessions(user: Any) -> QuerySet[Session]:
    """A volunteer's own sessions; a provider's sessions; the region's sessions for the village."""
    q = restriction_q(Session, user, "activity.attend") | restriction_q(Session, user, "service.view")
    return Session.objects.filter(q).select_related("programme__village", "programme__provider__organisation")


def get_session(user: Any, pk: Any) -> Session:
    return get_or_404(
        Session.objects.select_related("programme__village", "programme__provider__organisation"),
        user,
        "activity.attend",
        pk=pk,
    )


def provider_totals(provider_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each provider's totals (issue 17 part 4, for the oversight figures): sessions held, children
    present, service hours, needs delivered — three aggregate queries for the whole page."""
    from django.db.models import Sum

    from shouhu.services.models import Attendance

    out: dict[int, dict[str, Any]] = {
        pk: {"sessions": 0, "present": 0, "hours": 0.0, "delivered": 0} for pk in provider_ids
    }
    for row in (
        Session.objects.filter(programme__provider_id__in=provider_ids)
        .values("programme__provider_id")
        .annotate(n=Count("pk"))
    ):
        out[row["programme__provider_id"]]["sessions"] = row["n"]
    for arow in (
        Attendance.objects.filter(session__programme__provider_id__in=provider_ids, present=True)
        .values("session__programme__provider_id")
        .annotate(n=Count("pk"), h=Sum("hours"))
    ):
        pid = arow["session__programme__provider_id"]
        out[pid].update(present=arow["n"], hours=float(arow["h"] or 0))
    for nrow in (
        Need.objects.filter(provider_id__in=provider_ids, state__in=(NeedState.DELIVERED, NeedState.CLOSED))
        .values("provider_id")
        .annotate(n=Count("pk"))
    ):
        out[nrow["provider_id"]]["delivered"] = nrow["n"]
    return out
