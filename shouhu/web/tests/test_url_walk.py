"""Every URL of the project is declared scoped, public or reference data, or belongs to the Django admin
(DESIGN principle 1): a new view that forgets its declaration fails here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

ACCEPTED = {"scoped", "public", "reference"}


def walk(patterns: list[Any], prefix: str = "", admin: bool = False) -> Iterator[tuple[str, Any, bool]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inside_admin = admin or p.namespace == "admin" or p.app_name == "admin"
            yield from walk(p.url_patterns, prefix + str(p.pattern), inside_admin)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback, admin


def access(callback: Any) -> str | None:
    for obj in (callback, getattr(callback, "view_class", None), getattr(callback, "cls", None)):
        value = getattr(obj, "shouhu_access", None) if obj is not None else None
        if value:
            return str(value)
    return None


def is_admin(callback: Any, under_admin: bool) -> bool:
    """The Django admin site guards its own views (staff + model permissions); inside the admin's URL
    namespace that includes ModelAdmin views defined in django.contrib.auth.admin or a project admin.py."""
    module = getattr(callback, "__module__", "") or ""
    if module.startswith("django.contrib.admin"):
        return True
    return under_admin and (
        module.startswith("django.contrib.") or module.endswith(".admin") or hasattr(callback, "model_admin")
    )


def test_every_url_is_declared() -> None:
    undeclared = [
        f"{route} -> {getattr(cb, '__module__', '?')}.{getattr(cb, '__qualname__', getattr(cb, '__name__', cb))}"
        for route, cb, under_admin in walk(get_resolver().url_patterns)
        if access(cb) not in ACCEPTED and not is_admin(cb, under_admin)
    ]
    assert not undeclared, "views neither scoped nor public:\n" + "\n".join(undeclared)


def test_the_walk_finds_the_web_views() -> None:
    found = {route: access(cb) for route, cb, _admin in walk(get_resolver().url_patterns)}
    assert found["children/"] == "scoped"
    assert found["children/<uuid:pk>/edit/"] == "scoped"
    assert found["login/"] == "public"
    assert found["healthz"] == "public"
    assert found["i18n/setlang/"] == "public"
