"""Login pages (issue 10 parts 1-3): the lock-aware login, the second factor (enter a code, or enrol
with a QR code and get recovery codes), the password change, the lockouts page (`auth.lockouts`) and
the service tokens page (`auth.tokens`). Thin: the rules are in lockout.py, otp.py and tokens.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from shouhu.accounts import lockout, otp, tokens
from shouhu.accounts.models import PasswordChangeRequired
from shouhu.accounts.signals import SESSION_MUST_CHANGE
from shouhu.core.access import access_of
from shouhu.core.capabilities import CAPABILITIES
from shouhu.core.clientip import client_ip
from shouhu.core.jurisdiction import acting_user, public, scoped
from shouhu.core.policy import param


def locked_message(until: Any) -> str:
    minutes = max(int((until - timezone.now()).total_seconds() // 60) + 1, 1)
    return _(
        "登录失败次数过多，账号或网络地址已被锁定约 %(m)s 分钟。请稍后再试，或联系乡镇督导员解除锁定。"
    ) % {"m": minutes}


class LockAwareAuthenticationForm(AuthenticationForm):
    """Django's form; while locked it says so instead of "wrong password" (checked before hashing)."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            until = getattr(self.request, "shouhu_locked_until", None)
            if until is not None:
                raise ValidationError(locked_message(until), code="locked_out") from None
            raise


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
    authentication_form = LockAwareAuthenticationForm

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        until = getattr(self.request, "shouhu_locked_until", None)
        if until is not None:
            response.status_code = 429
            response["Retry-After"] = str(lockout.retry_after(until))
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["expired"] = bool(self.request.GET.get("expired"))
        return ctx


login = public(LoginView.as_view())


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if ok and target else "/"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("动态验证码或恢复码"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


@public
@login_required
@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a login: a TOTP from the app, or one recovery code. A wrong code counts as a
    failed login (lockout); once locked, the half-finished session ends."""
    user = acting_user(request)
    if otp.confirmed_device(user) is None:
        return redirect(_url("web:otp_setup", _next(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.verify_any(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        lock = lockout.record_failure(user.username, client_ip(request), "otp")
        if lock is not None:
            auth_logout(request)
            messages.error(request, locked_message(lock.until))
            return redirect("web:login")
        form.add_error("code", _("验证码不正确或已用过，请输入手机应用中当前显示的6位数字。"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request)})


def _url(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4)


@public
@login_required
@never_cache
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: scan the QR code (or type the secret), confirm with a first code, note the recovery
    codes (shown once). Open only while the account has no confirmed device: replacing a device goes
    through an administrator, so a stolen session cannot move the second factor."""
    user = acting_user(request)
    if otp.confirmed_device(user) is not None:
        return redirect(_url("web:otp_verify", _next(request)))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = otp.new_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = otp.confirm_device(user, device, form.cleaned_data["code"])
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("code", _("验证码不正确，请确认手机时间准确后输入应用中当前显示的6位数字。"))
    return render(
        request,
        "accounts/otp_setup.html",
        {"form": form, "qr": _qr_svg(device), "secret": otp.base32_secret(device), "next": _next(request)},
    )


class ShouhuPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs["class"] = "form-control"


@public
@login_required
@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    """Choose a new password (Django's validators: at least 10 characters, not common, not like the
    username). Required at the first login of an account an administrator created or reset."""
    user = acting_user(request)
    form = ShouhuPasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()  # the signal ends the user's login tokens
        update_session_auth_hash(request, form.user)
        PasswordChangeRequired.objects.filter(user=user).delete()
        request.session[SESSION_MUST_CHANGE] = False
        messages.success(request, _("密码已修改。"))
        return redirect("web:home")
    required = PasswordChangeRequired.objects.filter(user=user).exists()
    return render(request, "accounts/password_change.html", {"form": form, "required": required})


# --- lockouts (auth.lockouts) -------------------------------------------------------------------------


@scoped("auth.lockouts")
@login_required
@never_cache
def lockouts(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    return render(request, "accounts/lockouts.html", {"locks": lockout.active_locks(actor)})


@scoped("auth.lockouts")
@login_required
@require_POST
def lockout_lift(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_user(request)
    try:
        lock = lockout.lift(actor=actor, lock_id=pk)
    except lockout.NotFound as exc:
        raise Http404("not found") from exc
    messages.success(request, _("已解除对 %(key)s 的登录锁定。") % {"key": lock.key})
    return redirect("web:lockouts")


# --- service tokens (auth.tokens) -----------------------------------------------------------------------


class ServiceTokenForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("用途（对接的系统）"), max_length=100)
    capabilities = forms.MultipleChoiceField(
        label=gettext_lazy("允许的权限"), widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(label=gettext_lazy("有效天数"), min_value=1, initial=90)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        held = access_of(actor)
        caps = self.fields["capabilities"]
        assert isinstance(caps, forms.MultipleChoiceField)
        caps.choices = [
            (c, f"{c} · {label}") for c, label in CAPABILITIES.items() if held.has(c) and c != "auth.tokens"
        ]
        days = self.fields["days"]
        assert isinstance(days, forms.IntegerField)
        days.max_value = int(param("service_token_max_days"))
        days.validators.append(MaxValueValidator(days.max_value))
        self.fields["label"].widget.attrs["class"] = "form-control"
        days.widget.attrs["class"] = "form-control"


@scoped("auth.tokens")
@login_required
@never_cache
def service_tokens(request: HttpRequest) -> HttpResponse:
    """The long-lived tokens this administrator issued for other systems: issue (the key is shown once),
    list, revoke."""
    actor = acting_user(request)
    form = ServiceTokenForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = tokens.issue_service_token(
                actor=actor,
                label=form.cleaned_data["label"],
                capabilities=form.cleaned_data["capabilities"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
            )
        except tokens.TokenError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return render(request, "accounts/token_issued.html", {"token": token, "key": key})
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": tokens.service_tokens(actor), "now": timezone.now()},
    )


@scoped("auth.tokens")
@login_required
@require_POST
def service_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_user(request)
    token = tokens.revoke_service_token(actor=actor, token_id=pk)
    if token is None:
        raise Http404("not found")
    messages.success(request, _("令牌已吊销。"))
    return redirect("web:service_tokens")
