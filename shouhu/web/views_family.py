"""Pages for the entrusted-guardianship agreement (R1.4) and the household with its plan (R1.5).

Same pattern as the file pages: 404 out of scope, 403 when the user may read but not edit; the
services validate and record the timeline."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.core import codes
from shouhu.core.access import can, require
from shouhu.core.accesslog import record_read
from shouhu.core.jurisdiction import acting_user, client_ip, scoped
from shouhu.registry import family, selectors
from shouhu.web.forms_family import AgreementForm, HouseholdForm, MemberForm, PlanItemForm
from shouhu.web.views_children import _editable_child, apply_service_errors


@scoped("child.edit", obj="child")
@login_required
@never_cache
def agreement_add(request: HttpRequest, pk: Any) -> HttpResponse:
    child = _editable_child(request, pk)
    guardian = child.guardians.filter(role="entrusted").first()
    form = AgreementForm(
        request.POST or None,
        initial={
            "principals": "、".join(p.name for p in child.parents.all() if p.name),
            "signed_on": timezone.localdate(),
            "valid_from": timezone.localdate(),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            family.agreement_add(
                actor=acting_user(request),
                child=child,
                data=dict(form.cleaned_data),
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            apply_service_errors(exc, form, {})
        else:
            messages.success(request, _("已录入委托监护协议。"))
            return redirect("web:child_detail", pk=child.pk)
    return render(
        request, "web/family/agreement_form.html", {"child": child, "form": form, "guardian": guardian}
    )


@scoped("child.family", obj="child")
@login_required
@never_cache
def household(request: HttpRequest, pk: Any) -> HttpResponse:
    """The household page: members and the plan (一户一策); editing forms for those who may edit."""
    child = selectors.get_child(request.user, pk)
    require(request.user, "child.family", child, _("您的角色不查看儿童的家庭情况。"))
    record_read(
        user=acting_user(request),
        action="view",
        child_id=child.pk,
        region_code=child.village_id,
        detail="household",
        ip=client_ip(request),
    )
    may_edit = can(request.user, "child.edit", child)
    h = child.household
    context: dict[str, Any] = {
        "child": child,
        "household": h,
        "may_edit": may_edit,
        "members": [
            (m, codes.label("relationship", m.relationship) if m.relationship else "")
            for m in h.members.all()
        ]
        if h
        else [],
        "plan": list(h.plan_items.all()) if h else [],
        "siblings": list(
            h.children.exclude(pk=child.pk).filter(
                pk__in=selectors.visible_children(request.user).values("pk")
            )
        )
        if h
        else [],
        "household_form": HouseholdForm(
            initial={"head_name": h.head_name, "address": h.address}
            if h
            else {
                "head_name": next(
                    (p.name for p in child.parents.all() if p.relation == "father" and p.name), ""
                ),
                "address": child.address,
            }
        ),
        "member_form": MemberForm(),
        "plan_form": PlanItemForm(),
        "today": timezone.localdate(),
    }
    return render(request, "web/family/household.html", context)


def _post(request: HttpRequest, pk: Any, form_class: type, action: Any, context_key: str) -> HttpResponse:
    child = _editable_child(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(child, dict(form.cleaned_data))
        except ValidationError as exc:
            for msgs in exc.message_dict.values():
                for m in msgs:
                    messages.error(request, m)
        else:
            messages.success(request, _("已保存。"))
    else:
        for field, errs in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for e in errs:
                messages.error(request, f"{label}：{e}" if label else e)
    return redirect("web:household", pk=child.pk)


@scoped("child.edit", obj="child")
@login_required
@require_POST
def household_save(request: HttpRequest, pk: Any) -> HttpResponse:
    return _post(
        request,
        pk,
        HouseholdForm,
        lambda c, d: family.household_attach(
            actor=acting_user(request), child=c, head_name=d["head_name"], address=d["address"]
        ),
        "household_form",
    )


@scoped("child.edit", obj="child")
@login_required
@require_POST
def member_add(request: HttpRequest, pk: Any) -> HttpResponse:
    return _post(
        request,
        pk,
        MemberForm,
        lambda c, d: family.household_member_add(actor=acting_user(request), child=c, data=d),
        "member_form",
    )


@scoped("child.edit", obj="child")
@login_required
@require_POST
def plan_add(request: HttpRequest, pk: Any) -> HttpResponse:
    return _post(
        request,
        pk,
        PlanItemForm,
        lambda c, d: family.plan_item_add(
            actor=acting_user(request), child=c, data=d, today=timezone.localdate()
        ),
        "plan_form",
    )


@scoped("child.edit", obj="child")
@login_required
@require_POST
def plan_done(request: HttpRequest, pk: Any, item: int) -> HttpResponse:
    child = _editable_child(request, pk)
    try:
        family.plan_item_done(
            actor=acting_user(request),
            child=child,
            item_id=item,
            done_on=timezone.localdate(),
            today=timezone.localdate(),
        )
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, _("已标记完成。"))
    return redirect("web:household", pk=child.pk)
