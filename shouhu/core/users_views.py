"""Users and role grants in the application (`roles.grant`: the county civil-affairs bureau, R11.4):
list, create an account, grant and revoke roles, reset a password, deactivate. Thin: the services in
`core/grants.py` decide and record every change in the sealed event chain; an account the
administrator may not manage answers 404 like a missing one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.core import grants
from shouhu.core.access import access_of, prefix_q
from shouhu.core.jurisdiction import acting_user, scoped
from shouhu.core.models import Organisation, Region, RoleAssignment, User


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for m in (
        exc.messages if not hasattr(exc, "error_dict") else [m for v in exc.message_dict.values() for m in v]
    ):
        messages.error(request, m)


class UserForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)
    full_name = forms.CharField(label=gettext_lazy("姓名"), max_length=50, required=False)
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("所属单位"), queryset=Organisation.objects.none()
    )

    def __init__(self, *args: Any, prefixes: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        orgs = self.fields["organisation"]
        assert isinstance(orgs, forms.ModelChoiceField)
        orgs.queryset = Organisation.objects.filter(prefix_q("region__pk", prefixes)).order_by(
            "region_id", "name"
        )
        for f in self.fields.values():
            f.widget.attrs["class"] = (
                "form-select" if isinstance(f, forms.ModelChoiceField) else "form-control"
            )


class GrantForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("角色"))
    region = forms.ModelChoiceField(
        label=gettext_lazy("辖区"), queryset=Region.objects.none(), required=False
    )
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("单位（学校、派出所、服务机构等按单位授权）"),
        queryset=Organisation.objects.none(),
        required=False,
    )
    expires_at = forms.DateTimeField(
        label=gettext_lazy("到期时间（可不填）"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        prefixes = access_of(actor).prefixes("roles.grant")
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = grants.grantable_roles(actor)
        region, org = self.fields["region"], self.fields["organisation"]
        assert isinstance(region, forms.ModelChoiceField) and isinstance(org, forms.ModelChoiceField)
        region.queryset = (
            Region.objects.filter(prefix_q("code", prefixes)).select_related("parent").order_by("code")
        )
        region.label_from_instance = _region_label  # type: ignore[method-assign,assignment]
        org.queryset = Organisation.objects.filter(prefix_q("region__pk", prefixes)).order_by(
            "region_id", "name"
        )
        for f in self.fields.values():
            f.widget.attrs["class"] = "form-control" if isinstance(f, forms.DateTimeField) else "form-select"


def _region_label(r: Region) -> str:
    township = r.parent.name if r.parent is not None and r.is_village_level else ""
    return f"{township}{r.name}（{r.code}）"


def _managed(request: HttpRequest, pk: Any) -> User:
    try:
        return grants.get_user(acting_user(request), pk)
    except User.DoesNotExist as exc:
        raise Http404("not found") from exc


@scoped("roles.grant")
@login_required
@never_cache
def user_list(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    q = (request.GET.get("q") or "").strip()
    users = grants.users_for(actor)
    if q:
        users = [u for u in users if q.lower() in u.username.lower() or q in (u.full_name or "")]
    return render(request, "core/users/list.html", {"users": users[:300], "total": len(users), "q": q})


@scoped("roles.grant")
@login_required
@never_cache
def user_create(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    form = UserForm(request.POST or None, prefixes=access_of(actor).prefixes("roles.grant"))
    if request.method == "POST" and form.is_valid():
        try:
            user, password = grants.user_create(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            for key, msgs in exc.message_dict.items():
                for m in msgs:
                    form.add_error(key if key in form.fields else None, m)
        else:
            return render(
                request, "core/users/password.html", {"target": user, "password": password, "new": True}
            )
    return render(request, "core/users/form.html", {"form": form})


@scoped("roles.grant", obj="user")
@login_required
@never_cache
def user_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    actor = acting_user(request)
    user = _managed(request, pk)
    form = GrantForm(request.POST or None, actor=actor)
    if request.method == "POST":
        if form.is_valid():
            try:
                grants.role_grant(actor=actor, user=user, **form.cleaned_data)
            except ValidationError as exc:
                _flash(request, exc)
            else:
                messages.success(request, _("已授权。"))
                return redirect("web:user_detail", pk=user.pk)
        else:
            for errs in form.errors.values():
                for e in errs:
                    messages.error(request, str(e))
    return render(
        request,
        "core/users/detail.html",
        {
            "target": user,
            "assignments": [(a, grants.is_active(a)) for a in grants.assignments_of(user)],
            "form": form,
        },
    )


@scoped("roles.grant", obj="user")
@login_required
@require_POST
def user_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    actor = acting_user(request)
    user = _managed(request, pk)
    try:
        if action == "revoke":
            assignment = RoleAssignment.objects.filter(
                user=user, pk=request.POST.get("assignment") or 0
            ).first()
            if assignment is None:
                raise Http404("not found")
            grants.role_revoke(actor=actor, assignment=assignment, reason=request.POST.get("reason", ""))
            messages.success(request, _("已收回授权。"))
        elif action == "password":
            password = grants.password_reset(actor=actor, user=user)
            return render(request, "core/users/password.html", {"target": user, "password": password})
        elif action in ("deactivate", "activate"):
            grants.user_set_active(
                actor=actor, user=user, active=action == "activate", reason=request.POST.get("reason", "")
            )
            messages.success(request, _("已停用账号。") if action == "deactivate" else _("已启用账号。"))
        else:
            raise Http404("not found")
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("web:user_detail", pk=user.pk)
