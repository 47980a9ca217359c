"""Pages of the protection chain: the public report page, reporting for staff, the police queue and the
county overview, the case file with its step forms, providers' referrals, accountability.

Thin (DESIGN principle 2): parse the form, call a service or a selector, render. Out of scope is 404.
Every form works without JavaScript and fits a 360-px phone.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.core.access import can
from shouhu.core.accesslog import record_request
from shouhu.core.jurisdiction import acting_user, client_ip, public, scoped
from shouhu.core.models import Organisation, OrganisationKind, Region
from shouhu.protection import public as public_reports
from shouhu.protection import rules, selectors, services
from shouhu.protection.models import (
    Case,
    CaseState,
    DimensionRating,
    GuardianMeasure,
    Petition,
    Placement,
    Report,
    RiskLevel,
    ServiceKind,
    Situation,
    Transition,
)
from shouhu.protection.workflow import step

PAGE_SIZE = 25
PROVIDER_KINDS = [
    OrganisationKind.SOCIAL_WORK,
    OrganisationKind.MASS_ORGANISATION,
    OrganisationKind.LEADING_GROUP_UNIT,
    OrganisationKind.CLINIC,
    OrganisationKind.JUDICIAL,
    OrganisationKind.OTHER,
]


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for m in _errors(exc):
        messages.error(request, m)


def _local_dt(raw: str | None) -> Any:
    """A datetime-local input (county time) → aware datetime, or None."""
    if not raw:
        return None
    parsed = parse_datetime(raw)
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _date_or_none(raw: str) -> Any:
    try:
        return parse_date(raw.strip()) if raw.strip() else None
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        return None


def _villages() -> list[tuple[str, list[tuple[str, str]]]]:
    """All villages by township, for the report forms (a reporter may report anywhere in the county)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    names: dict[str, str] = {}
    for v in (
        Region.objects.filter(kind__in=["village", "community"]).select_related("parent").order_by("code")
    ):
        key = v.parent_id or ""
        names[key] = v.parent.name if v.parent else ""
        groups.setdefault(key, []).append((v.code, v.name))
    return [(names[k], rows) for k, rows in groups.items()]


def _report_data(request: HttpRequest) -> dict[str, Any]:
    p = request.POST
    age = p.get("child_age") or None
    return {
        "child": p.get("child") or None,
        "child_name": p.get("child_name", ""),
        "village": p.get("village", ""),
        "child_age": int(age) if age and age.isdigit() else None,
        "situations": p.getlist("situations"),
        "discovered_at": _local_dt(p.get("discovered_at")),
        "description": p.get("description", ""),
        "reporter_name": p.get("reporter_name", ""),
        "reporter_phone": p.get("reporter_phone", ""),
        "anonymous": p.get("anonymous") == "on",
    }


def _report_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "situations": Situation.objects.filter(active=True),
        "villages": _villages(),
        "values": request.POST if request.method == "POST" else {},
        "chosen": request.POST.getlist("situations") if request.method == "POST" else [],
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        **extra,
    }


# --- public report page ----------------------------------------------------------------------------


@public
@never_cache
def public_report(request: HttpRequest) -> HttpResponse:
    """A citizen's report without an account (R5.1): anonymous allowed, limited per address and per
    browser (issue 10 part 8: `public.py`). The page gives each browser a random id in a signed cookie."""
    browser = request.get_signed_cookie(public_reports.COOKIE, default=None, salt=public_reports.COOKIE_SALT)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        data = _report_data(request)
        data["child"] = None  # the public cannot reach files
        data["reporter_kind"] = "citizen"
        try:
            report = public_reports.public_report_submit(data=data, ip=client_ip(request), browser=browser)
        except public_reports.Refused as exc:
            errors, status = [exc.message], exc.status
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            return redirect("web:public_report_ack", token=report.token)
    response = render(
        request, "protection/public_report.html", _report_context(request, errors=errors), status=status
    )
    if not browser:
        response.set_signed_cookie(
            public_reports.COOKIE,
            secrets.token_urlsafe(16),
            salt=public_reports.COOKIE_SALT,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


@public
@never_cache
def public_report_ack(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter's receipt and written acknowledgement (R5.4), reached by the secret link only."""
    report = Report.objects.select_related("case", "case__station").filter(token=token).first()
    if report is None:
        raise Http404("not found")
    return render(request, "protection/ack.html", {"report": report, "public": True})


# --- staff reports ---------------------------------------------------------------------------------


@scoped("report.create")
@login_required
@never_cache
def report_new(request: HttpRequest) -> HttpResponse:
    """A mandated reporter's (or any user's) report: about a child on file or not yet. A child may be
    preset when the reporter may open the file, or (police) found it by number or exact name."""
    errors: list[str] = []
    preset = request.GET.get("child") or request.POST.get("child") or ""
    child = selectors.reportable_child(request.user, preset) if preset else None
    if child is not None and request.method == "GET":
        record_request(request, "form", child=child, detail="report")
    if request.method == "POST":
        data = _report_data(request)
        data["child"] = child.pk if child else None
        try:
            report = services.report_submit(actor=acting_user(request), data=data, ip=client_ip(request))
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("报告已提交并已转至%(s)s。") % {"s": report.case.station.name})
            return redirect("web:report_progress", pk=report.pk)
    return render(
        request, "protection/report_form.html", _report_context(request, errors=errors, child=child)
    )


@scoped("report.create")
@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    reports = selectors.own_reports(request.user).order_by("-reported_at")
    return render(request, "protection/my_reports.html", {"reports": reports})


@scoped("report.create", obj="report")
@login_required
def report_progress(request: HttpRequest, pk: Any) -> HttpResponse:
    report = selectors.get_own_report(request.user, pk)
    return render(request, "protection/ack.html", {"report": report, "public": False})


# --- cases -----------------------------------------------------------------------------------------


def _with_transitions(qs: Any) -> Any:
    return qs.prefetch_related(
        Prefetch(
            "transitions", queryset=Transition.objects.select_related("actor", "unit").order_by("at", "id")
        )
    )


@scoped("case.view")
@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """The police queue, the township's cases, the county's overview (open cases, holder, missed steps)."""
    state = request.GET.get("state", "open")
    qs = selectors.visible_cases(request.user)
    if state == "open":
        qs = qs.exclude(state__in=[CaseState.CLOSED, CaseState.UNFOUNDED])
    elif state in CaseState.values:
        qs = qs.filter(state=state)
    qs = _with_transitions(qs.order_by("opened_at"))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    lims = selectors.limits()
    now = timezone.now()
    townships = {
        o.region_id: o for o in Organisation.objects.filter(kind=OrganisationKind.TOWNSHIP_GOVERNMENT)
    }
    rows = []
    for case in page.object_list:
        dls = selectors.case_deadlines(case, now=now, lims=lims)
        running = next((d for d in dls if d.due and d.done_at is None and case.is_open), None)
        holder = (
            case.station
            if case.state in ("reported", "received", "responded")
            else townships.get(case.village.parent_id)
        )
        rows.append(
            {
                "case": case,
                "holder": holder,
                "missed": [d for d in dls if d.met is False],
                "running": running,
                "urgent": rules.is_urgent(case.situations),
            }
        )
    record_request(request, "list", count=len(rows), query=request.GET, detail="cases")
    counts = dict(
        selectors.visible_cases(request.user)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return render(
        request,
        "protection/case_list.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "states": CaseState.choices,
            "counts": counts,
            "surge": public_reports.surge_notice(request.user),
        },
    )


def _providers() -> Any:
    return Organisation.objects.filter(kind__in=PROVIDER_KINDS).order_by("kind", "name")


@scoped("case.view", obj="case")
@login_required
@never_cache
def case_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    case = selectors.get_case(request.user, pk)
    record_request(request, "case", child=case, detail=case.number)
    case = (
        _with_transitions(Case.objects.filter(pk=case.pk))
        .select_related("child", "village__parent", "station")
        .get()
    )
    user = request.user
    allowed = selectors.allowed_transitions(user, case)
    forms = [(to, step(case.state, to)) for to in allowed]
    responds = selectors.may_act(user, case, ("case.respond",))
    assists = selectors.may_act(user, case, ("case.assist",))
    sits = dict(Situation.objects.values_list("code", "name_zh"))
    context = {
        "case": case,
        "situation_labels": [sits.get(s, s) for s in case.situations],
        "deadlines": selectors.case_deadlines(case),
        "holder": selectors.holder(case),
        "forms": forms,
        "responds": responds,
        "assists": assists,
        "identity": selectors.sees_reporter(user, case),
        "reports": case.reports.select_related("reporter", "reporter_unit"),
        "pending_reports": case.state != CaseState.REPORTED
        and case.reports.filter(received_at__isnull=True).exists(),
        "may_follow_up": selectors.may_act(user, case, ("case.follow_up",)),
        "may_reassign": selectors.may_act(user, case, ("case.reassign",)),
        "checklist": selectors.checklist(case),
        "placements": case.placements.all(),
        "searches": case.searches.all(),
        "assessments": case.assessments.all(),
        "referrals": case.referrals.select_related("service_kind", "provider"),
        "follow_ups": case.follow_ups.select_related("actor"),
        "guardian_measures": case.guardian_measures.all(),
        "petitions": case.petitions.all(),
        "timeline": [
            (t, CaseState(t.from_state).label, CaseState(t.to_state).label) for t in case.transitions.all()
        ],
        "station_changes": case.station_changes.select_related("from_station", "to_station", "actor"),
        "grounds": services.grounds_for(case) if (responds or assists) else [],
        "ratings": DimensionRating.choices,
        "place_kinds": Placement.PlaceKind.choices,
        "service_kinds": ServiceKind.objects.filter(active=True),
        "providers": _providers(),
        "stations": Organisation.objects.filter(kind=OrganisationKind.POLICE_STATION).exclude(
            pk=case.station_id
        ),
        "gm_kinds": GuardianMeasure.Kind.choices,
        "gm_conducts": GuardianMeasure.Conduct.choices,
        "petitioners": Petition.Petitioner.choices,
        "referral_rows": range(3),
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "today": timezone.localdate().isoformat(),
        "risk_levels": dict(RiskLevel.choices),
        "child_url": reverse("web:child_detail", args=[case.child_id])
        if case.child_id is not None and can(user, "child.view", case.child)
        else "",
    }
    return render(request, "protection/case_detail.html", context)


def _transition_data(request: HttpRequest, to: str) -> dict[str, Any]:
    p = request.POST
    if to == CaseState.RESPONDED:
        data: dict[str, Any] = {"measures": p.getlist("measures")}
        if p.get("place"):
            data["placement"] = {
                "place_kind": p.get("place_kind"),
                "place": p.get("place"),
                "notified": p.get("notified"),
                "start": _local_dt(p.get("start")) or timezone.now(),
            }
        return data
    if to == CaseState.ASSESSED:
        return {
            "assessment": {
                "participants": p.get("participants", ""),
                "safety": p.get("safety"),
                "guardianship": p.get("guardianship"),
                "physical_health": p.get("physical_health"),
                "mental_health": p.get("mental_health"),
                "summary": p.get("summary", ""),
            }
        }
    if to == CaseState.ASSISTING:
        refs = []
        for i in range(10):
            kind, provider = p.get(f"ref_kind_{i}"), p.get(f"ref_provider_{i}")
            if kind and provider:
                refs.append(
                    {
                        "service_kind": kind,
                        "provider": provider,
                        "due_date": p.get(f"ref_due_{i}") or None,
                        "need": p.get(f"ref_need_{i}", ""),
                    }
                )
        return {"plan": p.get("plan", ""), "referrals": refs}
    return {}


@scoped("case.view", obj="case")
@login_required
@require_POST
def case_transition(request: HttpRequest, pk: Any) -> HttpResponse:
    case = selectors.get_case(request.user, pk)
    to = request.POST.get("to", "")
    try:
        services.case_transition(
            actor=acting_user(request),
            case_id=case.pk,
            to=to,
            note=request.POST.get("note", ""),
            data=_transition_data(request, to),
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已办理：%(s)s。") % {"s": CaseState(to).label})
    return redirect("web:case_detail", pk=case.pk)


@scoped("case.view", obj="case")
@login_required
@require_POST
def case_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    """The other records of a case: measures, placements, searches, follow-ups, guardian measures,
    petitions, reassignment, withdrawing a referral."""
    case = selectors.get_case(request.user, pk)
    p, u = request.POST, acting_user(request)
    try:
        if action == "confirm_child":
            born = _date_or_none(p.get("birth_date") or "")
            if p.get("birth_date") and born is None:
                raise ValidationError({"birth_date": [_("出生日期格式应为 YYYY-MM-DD。")]})
            services.case_confirm_child(
                actor=u,
                case_id=case.pk,
                child_id=p.get("child", "").strip() or None,
                birth_date=born,
                sex=p.get("sex"),
            )
        elif action == "receive_reports":
            services.reports_receive(actor=u, case_id=case.pk)
        elif action == "measures":
            services.measures_record(
                actor=u, case_id=case.pk, measures=p.getlist("measures"), note=p.get("note", "")
            )
        elif action == "placement":
            services.placement_add(
                actor=u,
                case_id=case.pk,
                data={
                    "place_kind": p.get("place_kind"),
                    "place": p.get("place", ""),
                    "notified": p.get("notified", ""),
                    "start": _local_dt(p.get("start")) or timezone.now(),
                    "end": _local_dt(p.get("end")),
                },
            )
        elif action == "placement_end":
            services.placement_end(actor=u, placement_id=p.get("placement"))
        elif action == "search_start":
            services.search_start(actor=u, case_id=case.pk)
        elif action == "search_end":
            services.search_end(actor=u, case_id=case.pk, outcome=p.get("outcome", ""))
        elif action == "follow_up":
            services.followup_add(actor=u, case_id=case.pk, note=p.get("note", ""))
        elif action == "reassign":
            services.case_reassign(
                actor=u, case_id=case.pk, station_id=p.get("station"), reason=p.get("reason", "")
            )
        elif action == "guardian_measure":
            corrected = {"yes": True, "no": False}.get(p.get("corrected", ""))
            services.guardian_measure_add(
                actor=u,
                case_id=case.pk,
                data={
                    "guardian_name": p.get("guardian_name", ""),
                    "guardian_relation": p.get("guardian_relation", ""),
                    "conduct": p.get("conduct"),
                    "kind": p.get("kind"),
                    "decided_on": p.get("decided_on") or None,
                    "outcome": p.get("outcome", ""),
                    "corrected": corrected,
                    "serious_harm": p.get("serious_harm") == "on",
                },
            )
        elif action == "petition":
            services.petition_file(
                actor=u,
                case_id=case.pk,
                data={
                    "petitioner": p.get("petitioner"),
                    "petitioner_name": p.get("petitioner_name", ""),
                    "guardian_name": p.get("guardian_name", ""),
                    "grounds": p.getlist("grounds"),
                    "court": p.get("court", ""),
                    "filed_on": p.get("filed_on") or None,
                },
            )
        elif action == "petition_update":
            if not case.petitions.filter(pk=services._int_pk(p.get("petition"))).exists():
                raise Http404("not found")
            data: dict[str, Any] = {"hearing_on": p.get("hearing_on") or None}
            if p.get("decision"):
                data.update(decision=p.get("decision"), decided_on=p.get("decided_on") or None)
                if p.get("new_guardian_name"):
                    data["new_guardian"] = {
                        "name": p.get("new_guardian_name"),
                        "relationship": p.get("new_guardian_relationship", ""),
                    }
            services.petition_update(actor=u, petition_id=p.get("petition"), data=data)
        elif action == "referral_close":
            referral_id = p.get("referral")
            if not referral_id or not case.referrals.filter(pk=referral_id).exists():
                raise Http404("not found")
            services.referral_close(actor=u, referral_id=referral_id, reason=p.get("reason", ""))
        elif action == "referral_add":
            services.referral_add(
                actor=u,
                case_id=case.pk,
                data={
                    "service_kind": p.get("ref_kind_0"),
                    "provider": p.get("ref_provider_0"),
                    "due_date": p.get("ref_due_0") or None,
                    "need": p.get("ref_need_0", ""),
                },
            )
        else:
            raise Http404("not found")
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已保存。"))
    if not selectors.visible_cases(u).filter(pk=case.pk).exists():
        return redirect("web:case_list")
    return redirect("web:case_detail", pk=case.pk)


# --- providers -------------------------------------------------------------------------------------


@scoped("referral.respond")
@login_required
def referral_list(request: HttpRequest) -> HttpResponse:
    """A provider's referrals with what it needs to serve them (not the case file): at each stage only
    what that stage needs (selectors.referral_brief)."""
    refs = list(selectors.provider_referrals(request.user).order_by("state", "due_date"))
    briefs = selectors.referral_briefs(refs)
    record_request(request, "referral", count=len({r.case.child_id for r in refs}), detail="referrals")
    return render(request, "protection/referrals.html", {"rows": [(r, briefs.get(r.pk, {})) for r in refs]})


@scoped("referral.respond", obj="referral")
@login_required
@require_POST
def referral_respond(request: HttpRequest, pk: Any) -> HttpResponse:
    ref = selectors.provider_referrals(request.user).filter(pk=pk).first()
    if ref is None:
        raise Http404("not found")
    try:
        services.referral_respond(
            actor=acting_user(request),
            referral_id=ref.pk,
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
            outcome=request.POST.get("outcome", ""),
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已保存。"))
    return redirect("web:referral_list")


# --- accountability and commendation ---------------------------------------------------------------


@scoped("accountability.view")
@login_required
def accountability(request: HttpRequest) -> HttpResponse:
    rows = selectors.accountability_for(request.user)
    by_unit = rows.values("unit__name", "kind").annotate(n=Count("pk")).order_by("unit__name", "kind")
    units: dict[str, dict[str, int]] = {}
    for r in by_unit:
        units.setdefault(r["unit__name"], {})[r["kind"]] = r["n"]
    return render(
        request,
        "protection/accountability.html",
        {
            "units": sorted(units.items()),
            "records": rows[:200],
            "commendations": selectors.commendable_reports(request.user)[:200],
        },
    )
