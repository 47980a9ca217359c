"""Web pages of the care module: the village worker's day, logging a call or a visit in a few taps, the
child's care record, the alert inbox, the township's per-village view, guidance sessions, and the
administrator's list of failed webhook deliveries. Same conventions as the file pages: @scoped +
@login_required, 404 out of scope, 403 read-only; the services validate and record the timeline."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.care import selectors, services
from shouhu.care.forms import AdmonitionForm, AssignmentForm, ContactForm, ResolveForm, SessionForm, VisitForm
from shouhu.care.models import AlertKind, WebhookDelivery
from shouhu.core.access import access_of, can, prefix_q, require
from shouhu.core.accesslog import record_read
from shouhu.core.jurisdiction import acting_user, client_ip, scoped
from shouhu.core.models import Region
from shouhu.registry.models import Child
from shouhu.registry.selectors import get_child


def _errors(exc: ValidationError, form: Any) -> None:
    if not hasattr(exc, "error_dict"):
        for m in exc.messages:
            form.add_error(None, m)
        return
    for key, msgs in exc.message_dict.items():
        for m in msgs:
            form.add_error(key if key in form.fields else None, m)


def _writable(request: HttpRequest, pk: Any, allowed: Any = services.may_edit) -> Child:
    child = get_child(request.user, pk)  # 404 out of scope
    if not allowed(request.user, child):
        raise PermissionDenied(_("您可以查看该儿童的记录，但无权录入。"))
    return child


def _listed(request: HttpRequest, what: str, count: int) -> None:
    """R11.2: a page that names children is a read (what, how many, with which query)."""
    record_read(
        user=acting_user(request),
        action="list",
        count=count,
        query=request.GET,
        detail=what,
        ip=client_ip(request),
    )


@scoped("care.record")
@login_required
@never_cache
def today(request: HttpRequest) -> HttpResponse:
    """The village worker's day, most urgent first (R2.1, R3.1)."""
    context = selectors.today_list(request.user)
    names = {a.child_id for a in context["alerts"] if a.child_id}
    names |= {r["id"] for r in context["visits_due"]} | {r["id"] for r in context["no_contact"]}
    _listed(request, "care_today", len(names))
    return render(request, "care/today.html", context)


def _sync(request: HttpRequest) -> bool:
    """A post sent by the offline queue (offline.js): it wants JSON, not a page to show."""
    return request.headers.get("X-Shouhu-Sync") == "1"


def _sync_answer(form: Any, status: int = 400, **extra: Any) -> JsonResponse:
    """The queue's answer when a record cannot be saved: every error by field, in the reader's language."""
    errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
    return JsonResponse({"ok": False, "errors": errors, **extra}, status=status)


@scoped("care.contact", obj="child")
@login_required
@never_cache
def contact_add(request: HttpRequest, pk: Any) -> HttpResponse:
    """R2.1 in a few taps. Works offline (issue 16): the browser queues the post and sends it again
    with the same idempotency key, so a retry never makes a second record."""
    child = _writable(request, pk, services.may_log_contact)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_log(actor=acting_user(request), child=child, data=dict(form.cleaned_data))
        except ValidationError as exc:
            _errors(exc, form)
        else:
            done = reverse("web:care_child", args=[child.pk])
            if _sync(request):
                return JsonResponse({"ok": True, "next": done}, status=201)
            messages.success(request, _("已登记 %(name)s 的亲子联系。") % {"name": child.name})
            nxt = request.POST.get("next") or ""
            # Issue 16 part 2: saving returns to the child's record (or the page the worker came from).
            return redirect(nxt if nxt.startswith("/care/") else done)
    if request.method == "POST" and _sync(request):
        return _sync_answer(form)
    return render(request, "care/contact_form.html", {"child": child, "form": form})


@scoped("care.record", obj="child")
@login_required
@never_cache
def visit_add(request: HttpRequest, pk: Any) -> HttpResponse:
    """R3.1 with structured findings; offline and retried like `contact_add`. A visit typed against an
    older file that would change the file answers 409 to the queue and a message on the page."""
    child = _writable(request, pk)
    form = VisitForm(request.POST or None, initial={"base_version": child.version})
    if request.method == "POST" and form.is_valid():
        try:
            visit, alert = services.visit_log(
                actor=acting_user(request), child=child, data=form.service_data()
            )
        except ValidationError as exc:
            _errors(exc, form)
        except services.FileChanged as exc:
            if _sync(request):
                return JsonResponse(
                    {"ok": False, "conflict": exc.message, "version": exc.version}, status=409
                )
            form.add_error(None, exc.message)
            # Shown again with the current version: a second 保存 is the worker's informed decision.
            data = request.POST.copy()
            data["base_version"] = str(exc.version)
            form.data = data
        else:
            done = reverse("web:care_child", args=[child.pk])
            if _sync(request):
                return JsonResponse(
                    {"ok": True, "next": done, "alert": alert.message if alert else ""}, status=201
                )
            if alert is not None and not getattr(visit, "replayed", False):
                # R2.2 / 二(二)1: shown at once, on the page the worker is looking at.
                return render(request, "care/unattended.html", {"child": child, "alert": alert})
            messages.success(request, _("已登记走访。"))
            return redirect(done)
    if request.method == "POST" and _sync(request):
        return _sync_answer(form)
    return render(request, "care/visit_form.html", {"child": child, "form": form})


@scoped("child.care", obj="child")
@login_required
@never_cache
def child_care(request: HttpRequest, pk: Any) -> HttpResponse:
    child = get_child(request.user, pk)
    user = acting_user(request)
    require(user, "child.care", child, _("您的角色不查看儿童的关爱记录。"))
    record_read(
        user=user, action="care", child_id=child.pk, region_code=child.village_id, ip=client_ip(request)
    )
    context = {
        "child": child,
        "may_edit": services.may_edit(user, child),
        "may_log_contact": services.may_log_contact(user, child),
        "may_admonish": can(user, "care.admonish", child),
        "care": selectors.child_care(user, child),
        "contacts": list(selectors.contacts_of(user, child)[:30]),
        "visits": list(selectors.visits_of(user, child)[:20]),
        "assignment_form": AssignmentForm(),
        "admonition_form": AdmonitionForm(),
        "finding_labels": services.FINDING_FIELDS,
    }
    return render(request, "care/child.html", context)


@scoped("care.record", obj="child")
@login_required
@require_POST
def assignment_add(request: HttpRequest, pk: Any) -> HttpResponse:
    child = _writable(request, pk)
    form = AssignmentForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([e for v in form.errors.values() for e in v])
        services.assignment_add(actor=acting_user(request), child=child, data=dict(form.cleaned_data))
        messages.success(request, _("已添加关爱结对。"))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("web:care_child", pk=child.pk)


@scoped("care.admonish", obj="child")
@login_required
@require_POST
def admonition_add(request: HttpRequest, pk: Any) -> HttpResponse:
    child = get_child(request.user, pk)
    form = AdmonitionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([e for v in form.errors.values() for e in v])
        _adm, alert = services.admonition_add(
            actor=acting_user(request), child=child, data=dict(form.cleaned_data)
        )
        messages.success(request, _("已记录劝诫/制止。"))
        if alert is not None:
            messages.warning(request, alert.message)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except services.OutOfScope as exc:
        raise Http404 from exc
    return redirect("web:care_child", pk=child.pk)


@scoped("alert.view")
@login_required
@never_cache
def alert_inbox(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or ""
    kind = kind if kind in AlertKind.values else ""
    show = request.GET.get("show") or "open"
    qs = selectors.alerts_for(request.user, kind=kind, open_only=True if show == "open" else None)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    notes = list(selectors.unread_notifications(request.user)[:50])
    if notes:
        from shouhu.care.models import Notification

        Notification.objects.filter(pk__in=[n.pk for n in notes]).update(read_at=timezone.now())
    _listed(request, "alerts", len({a.child_id for a in page.object_list if a.child_id}))
    return render(
        request,
        "care/alerts.html",
        {
            "page": page,
            "kind": kind,
            "show": show,
            "kinds": AlertKind.choices,
            "notes": notes,
            "can_resolve": access_of(request.user).has("care.record"),
            "resolve_form": ResolveForm(),
        },
    )


@scoped("care.record", obj="alert")
@login_required
@require_POST
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    form = ResolveForm(request.POST)
    try:
        services.alert_resolve(
            actor=acting_user(request),
            alert_id=alert_id,
            note=form.data.get("note", ""),
        )
        messages.success(request, _("预警已处理。"))
    except services.OutOfScope as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("web:care_alerts")


@scoped("care.supervise")
@login_required
@never_cache
def villages(request: HttpRequest) -> HttpResponse:
    """The township supervisor's view (R3.3, R3.4): per village, compliance, coverage, workers."""
    rows = selectors.village_summary(request.user)
    # Issue 16 part 4: a county's ~230 villages by township, a page at a time.
    townships = sorted(
        {(r["village"].parent_id, r["village"].parent.name) for r in rows if r["village"].parent_id}
    )
    township = request.GET.get("township") or ""
    if township in {code for code, _name in townships}:
        rows = [r for r in rows if r["village"].parent_id == township]
    else:
        township = ""
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    unassigned = selectors.unassigned_children(request.user)
    _listed(request, "villages", min(unassigned.count(), 100))
    return render(
        request,
        "care/villages.html",
        {
            "rows": page.object_list,
            "page": page,
            "townships": townships if len(townships) > 1 else [],
            "township": township,
            "without_worker": [r for r in rows if not r["worker"]],
            "unassigned": list(unassigned[:100]),
            "unassigned_count": unassigned.count(),
        },
    )


@scoped("care.record")
@login_required
@never_cache
def sessions(request: HttpRequest) -> HttpResponse:
    prefixes = access_of(request.user).prefixes("care.record")
    villages_ = list(
        Region.objects.filter(prefix_q("code", prefixes), kind__in=selectors.VILLAGE_KINDS)
        .order_by("code")
        .values_list("code", "name")
    )
    form = SessionForm(request.POST or None, villages=villages_)
    if request.method == "POST":
        if not villages_:
            raise PermissionDenied(_("您无权登记活动。"))
        if form.is_valid():
            try:
                services.session_add(actor=acting_user(request), data=dict(form.cleaned_data))
            except ValidationError as exc:
                _errors(exc, form)
            else:
                messages.success(request, _("已登记活动。"))
                return redirect("web:care_sessions")
    return render(
        request,
        "care/sessions.html",
        {
            "sessions": list(selectors.sessions_for(request.user)[:100]),
            "form": form if villages_ else None,
        },
    )


@scoped("config.edit")
@login_required
@never_cache
def webhook_failures(request: HttpRequest) -> HttpResponse:
    """For the system administrator: gateway deliveries that gave up (event, state, attempts, error —
    never the payload, which names children)."""
    rows = WebhookDelivery.objects.exclude(state="sent").order_by("-created_at")[:200]
    return render(request, "care/webhooks.html", {"rows": rows})
