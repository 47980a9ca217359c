"""REST API v1 routes (API.md), included at `/api/v1/` by config/urls.py. They live in config, above every
app, because they gather every app's routes (DESIGN: core never imports an app above it).

Every callback exposes `shouhu_access` (DESIGN principle 1): on the view class (`callback.cls` for DRF,
`callback.view_class` for Django views) and, for the URL-walk test's convenience, on the callback too.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from shouhu.core.api_audit import AuditAccess, AuditEvents
from shouhu.core.api_views import DocsView, LogoutView, RegionViewSet, SchemaView, TokenView
from shouhu.registry.api import ChildViewSet

router = SimpleRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("children", ChildViewSet, basename="child")


def _marked(patterns: list[Any]) -> list[Any]:
    """Copy each view class's `shouhu_access` onto its callback; refuse an unmarked view at import."""
    for p in patterns:
        if isinstance(p, URLResolver):
            _marked(p.url_patterns)
            continue
        assert isinstance(p, URLPattern)
        cls = getattr(p.callback, "cls", None) or getattr(p.callback, "view_class", None)
        access = getattr(cls, "shouhu_access", None) or getattr(p.callback, "shouhu_access", None)
        if access is None:
            raise RuntimeError(f"API view {p.pattern} declares no shouhu_access")
        # A function attribute read by the URL-walk test, as `@scoped`/`@public` set it; `Callable` has none.
        p.callback.shouhu_access = access  # type: ignore[attr-defined]
    return patterns


urlpatterns = _marked(
    [
        path("auth/token/", TokenView.as_view(), name="api-token"),
        path("auth/logout/", LogoutView.as_view(), name="api-logout"),
        path("schema/", SchemaView.as_view(), name="api-schema"),
        path("docs/", DocsView.as_view(), name="api-docs"),
        path("audit/events/", AuditEvents.as_view(), name="api-audit-events"),
        path("audit/access/", AuditAccess.as_view(), name="api-audit-access"),
        *router.urls,
        # Each module's routes (alerts, contacts, visits; reports, cases) come from its own api_urls.
        path("", include("shouhu.care.api_urls")),
        path("", include("shouhu.protection.api_urls")),
        path("", include("shouhu.schooling.api_urls")),
        path("", include("shouhu.services.api_urls")),
        # Documents (PDF) and attachments of any record (core's document service).
        path("", include("shouhu.core.documents.api_urls")),
    ]
)
