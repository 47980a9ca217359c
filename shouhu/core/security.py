"""Response headers every page needs (issue 10 part 4, R11.4; 等保 2.0 level 3):

- Content-Security-Policy (settings.SHOUHU_CSP) with a fresh nonce per request: the templates load
  their scripts from this site, and the one inline script (the API page) carries `{{ csp_nonce }}`.
  A small middleware rather than a package: one header, one nonce.
- `Cache-Control: no-store` on the whole API and on every page served to a signed-in user (each of them
  may show child data: a shared village computer or a proxy must keep no copy). Static files are
  served before this middleware (WhiteNoise) and stay cacheable.
- A deleted audit head answers 503 with a message (issue 10 part 6), never a silent restart at 0.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def csp_nonce(request: HttpRequest) -> str:
    """The request's nonce (the template context processor and the middleware share it)."""
    nonce = getattr(request, "_csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(16)
        request._csp_nonce = nonce  # type: ignore[attr-defined]
    return nonce


def context(request: HttpRequest) -> dict[str, str]:
    """Template context processor: `{{ csp_nonce }}` for an inline <script nonce=…>."""
    return {"csp_nonce": csp_nonce(request)}


def needs_no_store(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "SHOUHU_CSP", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy.replace("{nonce}", csp_nonce(request))
        if needs_no_store(request):
            add_never_cache_headers(response)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        """A deleted audit head (core/events.py `AuditHeadMissing`): a clear 503 saying what happened,
        not a 500, and nothing served that would go unlogged."""
        from shouhu.core.events import AuditHeadMissing

        if not isinstance(exc, AuditHeadMissing):
            return None
        logger.critical("audit head missing: %s", exc)
        message = _(
            "审计记录的链头被删除，系统暂停记录和查看儿童数据。请管理员运行 verify_audit 并从备份恢复。"
        )
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "audit_broken"}, status=503)
        return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
