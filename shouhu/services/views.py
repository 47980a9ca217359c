"""Web pages of the services module (issue 17): needs and their follow-up, the one-tap need after a visit,
providers and programmes, a volunteer's sessions and attendance on a phone. Same conventions as the other
modules: @scoped + @login_required, 404 out of scope; the services validate and record the timeline."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.core.access import can
from shouhu.core.accesslog import record_request
from shouhu.core.jurisdiction import acting_user, scoped
from shouhu.registry.selectors import get_child
from shouhu.services import activities, selectors, services
from shouhu.services.models import Attendance, NeedState, NeedStep, ServiceType
from shouhu.services.workflow import NEED_WORKFLOW


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for m in exc.messages:
        messages.error(request, m)


@scoped("service.view")
@login_required
@never_cache
def need_list(request: HttpRequest) -> HttpResponse:
    """Needs in the user's reach (a provider: offered to it or accepted by it); `?overdue=1`: the unmet
    list of the township supervisor; `?state=`, `?village=` narrow it."""
    rows = (
        selectors.overdue_needs(request.user)
        if request.GET.get("overdue")
        else selectors.visible_needs(request.user)
    )
    state, village = request.GET.get("state") or "", request.GET.get("village") or ""
    if state:
        rows = rows.filter(state=state)
    if village:
        rows = rows.filter(child__village__pk__startswith=village)
    if request.GET.get("type"):
        rows = rows.filter(type_id=request.GET["type"])
    page = list(rows.order_by("-created_at", "id")[:200])
    record_request(
        request, "list", count=len({n.child_id for n in page}), query=request.GET, detail="service_needs"
    )
    return render(
        request,
        "services/needs.html",
        {
            "rows": page,
            "overdue": bool(request.GET.get("overdue")),
            "states": NeedState.choices,
            "state": state,
        },
    )


@scoped("service.view", obj="need")
@login_required
@never_cache
def need_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    need = selectors.get_need(request.user, pk)
    record_request(request, "care", child=need.child, detail=f"need {need.pk}")
    allowed = selectors.allowed_transitions(request.user, need)
    steps = list(NeedStep.objects.filter(need=need).select_related("actor", "provider__organisation"))
    context = {
        "need": need,
        "steps": steps,
        "allowed": [(s, NEED_WORKFLOW.label(s)) for s in allowed],
        "deadlines": selectors.deadlines(need),
        "matches": selectors.matches_for(need) if NeedState.OFFERED in allowed else [],
        "programmes": list(need.provider.programmes.filter(active=True, village_id=need.child.village_id))
        if need.provider and NeedState.ACCEPTED in allowed
        else [],
    }
    return render(request, "services/need_detail.html", context)


@scoped("service.view", obj="need")
@login_required
@require_POST
def need_transition(request: HttpRequest, pk: Any) -> HttpResponse:
    need = selectors.get_need(request.user, pk)
    try:
        services.need_transition(
            actor=acting_user(request),
            need=need,
            to=request.POST.get("to", ""),
            note=request.POST.get("note", ""),
            provider=request.POST.get("provider") or None,
            programme=request.POST.get("programme") or None,
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已保存。"))
    return redirect("web:service_need", pk=need.pk)


@scoped("service.need", obj="child")
@login_required
@require_POST
def need_add(request: HttpRequest, pk: Any) -> HttpResponse:
    """The one tap after a visit: this child needs this service (source and visit from the button)."""
    child = get_child(request.user, pk)
    try:
        need = services.need_record(
            actor=acting_user(request),
            child=child,
            data={
                "type": request.POST.get("type"),
                "source": request.POST.get("source") or "visit",
                "visit": request.POST.get("visit") or None,
                "urgency": request.POST.get("urgency") or "normal",
                "note": request.POST.get("note", ""),
            },
        )
    except ValidationError as exc:
        _flash(request, exc)
        return (
            redirect(request.POST.get("next") or "web:service_needs")
            if _safe(request)
            else redirect("web:service_needs")
        )
    messages.success(request, _("已登记服务需求：%(t)s。") % {"t": need.type.name_zh})
    return redirect("web:service_need", pk=need.pk)


def _safe(request: HttpRequest) -> bool:
    nxt = request.POST.get("next") or ""
    return nxt.startswith("/") and not nxt.startswith("//")


@scoped("service.view")
@login_required
@never_cache
def provider_list(request: HttpRequest) -> HttpResponse:
    providers = list(
        selectors.visible_providers(request.user).prefetch_related("service_types", "villages__parent")
    )
    programmes = list(selectors.visible_programmes(request.user).prefetch_related("enrolments"))
    totals = selectors.provider_totals([p.pk for p in providers])
    return render(
        request,
        "services/providers.html",
        {
            "providers": [(p, totals[p.pk]) for p in providers],
            "programmes": [
                (g, can(request.user, "service.manage", g) or can(request.user, "service.need", g))
                for g in programmes
            ],
            "types": ServiceType.objects.filter(active=True),
        },
    )


@scoped(("service.manage", "service.need"), obj="programme")
@login_required
@never_cache
def programme_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    """A programme and the children around it who may join: those with a need for its service offered
    to its provider (the provider sees no one else), or the village's children for the village; one tap
    enrols."""
    programme = selectors.get_programme(request.user, pk)
    if not (can(request.user, "service.manage", programme) or can(request.user, "service.need", programme)):
        raise PermissionDenied(_("您可以查看该项目，但无权登记参加儿童。"))
    if request.method == "POST":
        try:
            services.enrol(
                actor=acting_user(request), programme=programme, child_id=request.POST.get("child")
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("已登记参加。"))
        return redirect("web:service_programme", pk=programme.pk)
    enrolled = set(programme.enrolments.filter(until__isnull=True).values_list("child_id", flat=True))
    candidates = [
        c
        for c in selectors.enrolment_candidates(request.user, programme).order_by(
            "-lb_status", "name_pinyin"
        )[:200]
        if c.pk not in enrolled
    ]
    members = list(programme.enrolments.filter(until__isnull=True).select_related("child"))
    record_request(request, "list", count=len(candidates) + len(members), detail=f"programme {programme.pk}")
    return render(
        request,
        "services/programme.html",
        {"programme": programme, "candidates": candidates, "members": members},
    )


@scoped("activity.attend")
@login_required
@never_cache
def session_list(request: HttpRequest) -> HttpResponse:
    """A volunteer's own sessions (a provider: its sessions), newest first."""
    from shouhu.core.access import restrict
    from shouhu.services.models import Session

    rows = list(
        restrict(
            Session.objects.select_related("programme__village", "volunteer"), request.user, "activity.attend"
        ).order_by("-starts_at", "id")[:100]
    )
    return render(request, "services/sessions.html", {"rows": rows})


@scoped("activity.attend", obj="session")
@login_required
@never_cache
def attendance(request: HttpRequest, pk: Any) -> HttpResponse:
    """Attendance on a phone: one large checkbox per enrolled child, and a line of feedback each."""
    session = selectors.get_session(request.user, pk)
    if request.method == "POST":
        present = request.POST.getlist("present")
        feedback = {
            k.removeprefix("fb_"): str(v)
            for k, v in request.POST.dict().items()
            if k.startswith("fb_") and str(v).strip()
        }
        try:
            activities.attendance_take(
                actor=acting_user(request), session=session, present=present, feedback=feedback
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("已签到：%(n)s 人到场。") % {"n": len(present)})
            return redirect("web:service_sessions")
    enrolled = list(
        session.programme.enrolments.filter(until__isnull=True)
        .select_related("child")
        .order_by("child__name_pinyin")
    )
    marks = {str(a.child_id): a for a in Attendance.objects.filter(session=session)}
    record_request(request, "list", count=len(enrolled), detail=f"attendance {session.pk}")
    rows = [(e.child, marks.get(str(e.child_id))) for e in enrolled]
    return render(request, "services/attendance.html", {"session": session, "rows": rows})


def may_record_need(user: Any, child: Any) -> bool:
    return can(user, "service.need", child)
