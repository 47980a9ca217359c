"""Pages for parents and the source (R9.1, R9.2) and where things stand (issue 17 parts 5–7): a child's
parents' wishes, referrals and outcomes, the household's 建档立卡 category, and the per-township figures
linked to the lists behind them."""

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
from shouhu.services import overview as figures
from shouhu.services import source
from shouhu.services.models import ParentReferral, ParentWish, Poverty, PovertyCategory


@scoped("care.record", obj="child")
@login_required
@never_cache
def child_source(request: HttpRequest, pk: Any) -> HttpResponse:
    child = get_child(request.user, pk)
    if not can(request.user, "care.record", child):
        raise PermissionDenied(_("您可以查看该儿童的档案，但无权登记。"))
    record_request(request, "care", child=child, detail="parents_source")
    context = {
        "child": child,
        "parents": list(child.parents.all()),
        "wishes": ParentWish.objects.filter(child=child),
        "referrals": ParentReferral.objects.filter(child=child),
        "poverty": Poverty.objects.filter(child=child).first(),
        "wish_kinds": ParentWish.Kind.choices,
        "wish_sources": ParentWish.Source.choices,
        "referral_kinds": ParentReferral.Kind.choices,
        "outcomes": [c for c in ParentReferral.Outcome.choices if c[0] != "pending"],
        "categories": PovertyCategory.choices,
        "may_edit": can(request.user, "child.edit", child),
    }
    return render(request, "services/source.html", context)


@scoped("care.record", obj="child")
@login_required
@require_POST
def source_save(request: HttpRequest, pk: Any) -> HttpResponse:
    """One form per thing: `what` = wish | referral | outcome | poverty."""
    child = get_child(request.user, pk)
    actor, data, what = acting_user(request), request.POST.dict(), request.POST.get("what", "")
    try:
        if what == "wish":
            source.wish_record(actor=actor, child=child, data=data)
        elif what == "referral":
            source.referral_create(actor=actor, child=child, data=data)
        elif what == "outcome":
            ref = ParentReferral.objects.filter(child=child, pk=int(data.get("referral") or 0)).first()
            if ref is None:
                raise ValidationError({"referral": [_("没有这项转介。")]})
            source.referral_outcome(
                actor=actor,
                referral=ref,
                outcome=data.get("outcome", ""),
                on=data.get("on"),
                note=data.get("note", ""),
            )
        elif what == "poverty":
            source.poverty_set(actor=actor, child=child, data=data)
        else:
            raise ValidationError({"what": [_("未知的登记事项。")]})
    except (ValidationError, ValueError) as exc:
        for m in getattr(exc, "messages", [str(exc)]):
            messages.error(request, m)
    else:
        messages.success(request, _("已保存。"))
    return redirect("web:service_source", pk=child.pk)


@scoped("service.need")
@login_required
@never_cache
def overview(request: HttpRequest) -> HttpResponse:
    data = figures.township_rows(request.user)
    return render(request, "services/overview.html", data)
