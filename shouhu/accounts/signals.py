"""Receivers: failed logins feed the lockout; a password change or a deactivation ends tokens; a login
starts the session clocks (issue 10 parts 1 and 3)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from shouhu.accounts import lockout, tokens
from shouhu.accounts.models import TokenKind
from shouhu.core.clientip import client_ip
from shouhu.core.models import User

SESSION_LOGIN_AT = "shouhu_login_at"
SESSION_SEEN_AT = "shouhu_seen_at"
# Decided once at login and kept in the session, so that ordinary requests cost no extra query:
SESSION_LIMITS = "shouhu_limits"  # [idle seconds, absolute seconds] from policy
SESSION_NEEDS_2FA = "shouhu_needs_2fa"
SESSION_MUST_CHANGE = "shouhu_must_change_password"


@receiver(user_login_failed)
def count_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """Every failed `authenticate()` (login page, API token, /admin/) counts — except while locked:
    those were refused without hashing and are not written either."""
    if request is None or getattr(request, "shouhu_locked_until", None) is not None:
        return
    username = credentials.get("username") or ""
    lockout.record_failure(username, client_ip(request), "password")


@receiver(user_logged_in)
def start_session_clocks(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """The session's clocks and what it must still do (second factor, own password), read once here."""
    from shouhu.accounts.models import PasswordChangeRequired
    from shouhu.accounts.otp import needs_second_factor
    from shouhu.core.policy import param

    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(timezone.now().timestamp())
    session[SESSION_LOGIN_AT] = session[SESSION_SEEN_AT] = now
    session[SESSION_LIMITS] = [
        int(float(param("session_idle_minutes")) * 60),
        int(float(param("session_absolute_hours")) * 3600),
    ]
    session[SESSION_NEEDS_2FA] = isinstance(user, User) and needs_second_factor(user)
    session[SESSION_MUST_CHANGE] = PasswordChangeRequired.objects.filter(user_id=user.pk).exists()


@receiver(pre_save, sender=User)
def _remember_before(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None or (
        update_fields is not None and not {"password", "is_active"} & set(update_fields)
    ):
        return
    instance._shouhu_before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()  # type: ignore[attr-defined]


@receiver(post_save, sender=User)
def _end_tokens(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_shouhu_before", None)
    if not before:
        return
    instance._shouhu_before = None  # type: ignore[attr-defined]
    if before["is_active"] and not instance.is_active:
        tokens.revoke_tokens(instance, "deactivated", (TokenKind.LOGIN, TokenKind.SERVICE))
    elif before["password"] != instance.password:
        tokens.revoke_tokens(instance, "password_changed")
