"""API tokens (R11.4, issue 10 part 3): stored as SHA-256 digests, with an expiry, revocable.

A key is 32 random bytes (URL-safe text), so a fast digest is enough: nothing to brute-force, and the
lookup is one indexed query. The key is returned once; the database holds only its digest and an
8-character prefix to recognise it in lists.

- Login tokens (`POST /api/v1/auth/token/`) live `api_token_hours` (policy) and die on logout
  (`POST /api/v1/auth/logout/`), on a password change and on deactivation (signals.py).
- Service tokens for other systems are issued by a holder of `auth.tokens`; they act as the issuer
  restricted to the listed capabilities (`Access.restricted_to`), and die at `expires_at`, when
  revoked on the tokens page, or when the issuer is deactivated. A password change does not end them:
  they belong to an integration, not to a browser session, and are listed and revoked on their page.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from shouhu.accounts.models import ApiToken, TokenKind
from shouhu.core.access import access_of, can
from shouhu.core.events import record_event
from shouhu.core.models import User
from shouhu.core.policy import param

KEYWORD = "Token"
TOUCH_EVERY = timedelta(minutes=5)  # how often last_used_at is written (not on every request)


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new(user: User, **fields: Any) -> tuple[ApiToken, str]:
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, digest=digest_of(key), prefix=key[:8], **fields)
    return token, key


def issue_login_token(user: User) -> tuple[ApiToken, str]:
    """A login token for `user` (after password and, where needed, second factor were checked)."""
    expires = timezone.now() + timedelta(hours=float(param("api_token_hours")))
    return _new(user, kind=TokenKind.LOGIN, expires_at=expires)


class TokenError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@transaction.atomic
def issue_service_token(
    *, actor: User, label: str, capabilities: list[str], expires_at: datetime
) -> tuple[ApiToken, str]:
    """A long-lived token for another system, limited to capabilities the issuer holds (auth.tokens)."""
    if not can(actor, "auth.tokens"):
        raise TokenError("detail", _("您的角色不能签发 API 令牌。"))
    label = (label or "").strip()
    if not label:
        raise TokenError("label", _("请写明令牌的用途（对接的系统），例如“县教委学籍系统”。"))
    caps = sorted(set(capabilities))
    held = access_of(actor)
    if not caps or any(not held.has(c) or c == "auth.tokens" for c in caps):
        raise TokenError("capabilities", _("请选择至少一项您本人拥有的权限（不能包括签发令牌）。"))
    now = timezone.now()
    longest = now + timedelta(days=int(param("service_token_max_days")))
    if expires_at <= now or expires_at > longest:
        raise TokenError(
            "expires_at", _("到期时间须在今后 %(n)s 天之内。") % {"n": param("service_token_max_days")}
        )
    token, key = _new(
        actor, kind=TokenKind.SERVICE, label=label[:100], capabilities=caps, expires_at=expires_at
    )
    record_event(
        verb="auth.token_issued",
        subject_type="accounts.apitoken",
        subject_id=str(token.pk),
        actor=actor,
        summary=_("签发系统对接令牌“%(label)s”") % {"label": token.label},
        after={"label": token.label, "capabilities": caps, "expires_at": expires_at, "prefix": token.prefix},
    )
    return token, key


def service_tokens(actor: User) -> list[ApiToken]:
    """The service tokens `actor` issued (they act as `actor`), newest first."""
    return list(ApiToken.objects.filter(user=actor, kind=TokenKind.SERVICE).order_by("-created_at")[:200])


@transaction.atomic
def revoke_service_token(*, actor: User, token_id: Any) -> ApiToken | None:
    token = (
        ApiToken.objects.select_for_update()
        .filter(pk=token_id if str(token_id).isdigit() else 0, user=actor, kind=TokenKind.SERVICE)
        .first()
    )
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at, token.revoked_reason = timezone.now(), "revoked"
        token.save(update_fields=["revoked_at", "revoked_reason"])
        record_event(
            verb="auth.token_revoked",
            subject_type="accounts.apitoken",
            subject_id=str(token.pk),
            actor=actor,
            summary=_("吊销系统对接令牌“%(label)s”") % {"label": token.label},
            after={"prefix": token.prefix},
        )
    return token


def revoke_tokens(user: User | int, reason: str, kinds: tuple[str, ...] = (TokenKind.LOGIN,)) -> int:
    """End the user's live tokens of these kinds (logout, password change, deactivation)."""
    user_id = user if isinstance(user, int) else user.pk
    return ApiToken.objects.filter(user_id=user_id, kind__in=kinds, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason[:32]
    )


def revoke_token(token: ApiToken, reason: str) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason[:32]
    )


class HashedTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>`: the digest is looked up; expired, revoked or a deactivated user's
    tokens answer 401. A service token narrows the user's access to its capabilities for the request."""

    invalid = gettext_lazy("令牌无效、已过期或已被吊销，请重新登录取得令牌。")

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != KEYWORD.lower().encode():
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed(self.invalid)
        try:
            key = auth[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(self.invalid) from exc
        now = timezone.now()
        token = ApiToken.objects.select_related("user").filter(digest=digest_of(key)).first()
        if (
            token is None
            or token.revoked_at is not None
            or token.expires_at <= now
            or not token.user.is_active
        ):
            raise exceptions.AuthenticationFailed(self.invalid)
        user = token.user
        if token.kind == TokenKind.SERVICE:
            user._shouhu_access = access_of(user).restricted_to(token.capabilities)  # type: ignore[attr-defined]
        if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
