"""Session limits and the steps a login must finish before anything else (issue 10 parts 2-3):

- an idle timeout (`session_idle_minutes`) and an absolute limit (`session_absolute_hours`): past
  either, the session ends and the user logs in again;
- a user whose role needs a second factor is sent to enter a code (or to enrol) until the session is
  verified — this covers every page, /admin/ and the API used with a session;
- an account whose password an administrator set is sent to choose its own.

Everything is read from the session (written at login, signals.py): no query on ordinary requests.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY

from shouhu.accounts.signals import (
    SESSION_LIMITS,
    SESSION_LOGIN_AT,
    SESSION_MUST_CHANGE,
    SESSION_NEEDS_2FA,
    SESSION_SEEN_AT,
)

TOUCH_SECONDS = 60  # the idle clock is written at most once a minute (a session save)
DEFAULT_LIMITS = (30 * 60, 8 * 3600)
ALWAYS_OPEN = ("/static/", "/i18n/", "/healthz")


def _open_paths() -> tuple[str, ...]:
    return (reverse("web:logout"), reverse("web:otp_verify"), reverse("web:otp_setup"))


class AccountGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(ALWAYS_OPEN):
            return self.get_response(request)
        session = request.session
        now = int(timezone.now().timestamp())
        login_at, seen_at = session.get(SESSION_LOGIN_AT), session.get(SESSION_SEEN_AT)
        idle, absolute = session.get(SESSION_LIMITS) or DEFAULT_LIMITS
        api = request.path.startswith("/api/")
        if login_at is None or seen_at is None:
            session[SESSION_LOGIN_AT] = session[SESSION_SEEN_AT] = now
        elif now - seen_at > idle or now - login_at > absolute:
            logout(request)
            if api:
                return JsonResponse(
                    {"detail": _("登录已超时，请重新登录。"), "code": "session_expired"}, status=401
                )
            login = reverse("web:login")
            return HttpResponseRedirect(
                f"{login}?{urlencode({'next': request.get_full_path(), 'expired': 1})}"
            )
        elif now - seen_at >= TOUCH_SECONDS:
            session[SESSION_SEEN_AT] = now
        if SESSION_NEEDS_2FA not in session:
            # A session from before these checks existed (or made without our login signal): decide
            # now, once, rather than let it through (fails closed).
            from shouhu.accounts.models import PasswordChangeRequired
            from shouhu.accounts.otp import needs_second_factor

            session[SESSION_NEEDS_2FA] = needs_second_factor(user)
            session[SESSION_MUST_CHANGE] = PasswordChangeRequired.objects.filter(user_id=user.pk).exists()
        if self._open is None:
            self._open = _open_paths()
        if request.path in self._open:
            return self.get_response(request)
        if session.get(SESSION_NEEDS_2FA) and not session.get(DEVICE_ID_SESSION_KEY):
            if api:
                return JsonResponse(
                    {"detail": _("请先在网页上输入动态验证码。"), "code": "otp_required"}, status=401
                )
            return HttpResponseRedirect(
                f"{reverse('web:otp_verify')}?{urlencode({'next': request.get_full_path()})}"
            )
        # The password page only once the second factor is done: a password alone cannot replace itself.
        if session.get(SESSION_MUST_CHANGE) and request.path != reverse("web:password_change"):
            if api:
                return JsonResponse(
                    {"detail": _("请先在网页上修改初始密码。"), "code": "password_change_required"},
                    status=403,
                )
            return HttpResponseRedirect(reverse("web:password_change"))
        return self.get_response(request)
