"""The API's permission check (kept apart from core/api.py, which DRF's own settings import would
otherwise import half-initialised): a scoped view's declared capability, asked of the access model."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from shouhu.core.access import can


def capability_of(view: Any, request: Request) -> str | tuple[str, ...] | None:
    """The capability a scoped API view declares for this request (a tuple: any of them):
    `shouhu_capabilities[action]` (a viewset's action or the lower-case HTTP method), else
    `shouhu_capability`."""
    caps: dict[str, Any] = getattr(view, "shouhu_capabilities", {}) or {}
    action = getattr(view, "action", None) or (request.method or "get").lower()
    return (
        caps.get(action)
        or caps.get((request.method or "get").lower())
        or getattr(view, "shouhu_capability", None)
    )


class CapabilityPermission(BasePermission):
    """A scoped API view needs its declared capability held somewhere (else 403, which reveals nothing
    about any record); objects are then fetched with `restrict` (404 out of scope, exactly like missing)
    and the action checked on them. A scoped view that declares nothing is refused (fails closed)."""

    message = gettext_lazy("您的角色没有这项权限。")

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "shouhu_access", None) != "scoped":
            return True
        method = (request.method or "get").lower()
        if hasattr(view, "action") and getattr(view, "action", None) is None and method != "options":
            return True  # not routed: DRF answers 405 (a viewset's unmapped method)
        if not hasattr(view, "action") and not hasattr(view, method):
            return True  # the view has no such method: 405
        capability = capability_of(view, request)
        if capability is None:
            return False
        options = (capability,) if isinstance(capability, str) else capability
        return any(can(request.user, c) for c in options)
