"""Login, logout, health check and the home page. Child pages are in views_children.py."""

from __future__ import annotations

import hashlib

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from shouhu.accounts import views as accounts_views
from shouhu.core.access import access_of, restriction_q
from shouhu.core.capabilities import ROLES
from shouhu.core.jurisdiction import acting_user, public
from shouhu.core.models import RoleAssignment
from shouhu.protection import selectors as protection_selectors
from shouhu.registry import selectors
from shouhu.registry.models import Child

# The lock-aware login (issue 10 part 1) lives with the other login pages in shouhu.accounts.
login = accounts_views.login
logout = public(auth_views.LogoutView.as_view())


@public
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker (issue 16), from the site's root so that it may keep every page of the site;
    it names no child. Never cached by HTTP, so a new release reaches phones at their next visit."""
    shell = [
        static(p)
        for p in (
            "vendor/bootstrap/css/bootstrap.min.css",
            "web/app.css",
            "web/app.js",
            "web/queue.js",
            "vendor/htmx/htmx.min.js",
        )
    ]
    version = hashlib.sha256("|".join(shell).encode()).hexdigest()[:12]
    response = render(
        request,
        "web/sw.js",
        {"shell": shell, "version": version, "static_prefix": static("")},
        content_type="application/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@public
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows for a page it has not kept, when there is no signal."""
    return render(request, "web/offline.html")


@public
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@public
@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The user's roles, the counts of the children they may open (each count only where the reader's
    field groups show what it counts), and what each role is for. Shows no child's data, so public to
    every logged-in user."""
    user = acting_user(request)
    access = access_of(user)
    assignments = list(
        RoleAssignment.objects.active().filter(user=user).select_related("region", "organisation")
    )
    roles = [
        {"label": ROLES[a.role].label if a.role in ROLES else a.role, "where": a.region or a.organisation}
        for a in assignments
    ]
    counts = None
    if access.has("child.view"):
        status = restriction_q(Child, user, "child.care") | restriction_q(Child, user, "child.schooling")
        counts = selectors.visible_children(user).aggregate(
            total=Count("pk"),
            left_behind=Count("pk", filter=Q(lb_status=True) & status),
            key_target=Count("pk", filter=Q(key_target=True) & restriction_q(Child, user, "child.care")),
        )
    help_texts = [ROLES[r].help for r in sorted(access.roles) if ROLES[r].help]
    # Issue 16 part 5: what is waiting and the next time limit, on the first page the officer sees.
    urgency = protection_selectors.urgency(user) if access.has("case.view") else None
    return render(
        request,
        "web/home.html",
        {
            "roles": roles,
            "counts": counts,
            "help_texts": help_texts,
            "shows_status": access.has("child.care") or access.has("child.schooling"),
            "shows_key": access.has("child.care"),
            "urgency": urgency,
        },
    )
