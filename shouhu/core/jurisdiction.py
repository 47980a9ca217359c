"""View declarations and request helpers around the access model (`core/access.py`).

Every view is declared `@scoped(capability)` or `@public`; a test walks the URL configuration and
refuses any other, and the permission matrix reads the declared capability. A scoped view without an
object refuses a user without the capability (403, nothing to reveal); a view about an object fetches it
with `access.get_or_404` (404 out of scope, exactly like missing) and then `access.require`s the action.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from rest_framework.request import Request

from shouhu.core.access import NOTHING, can, prefix_q
from shouhu.core.clientip import client_ip  # the one helper (trusted proxies, issue 10 part 8)
from shouhu.core.models import User

__all__ = ["NOTHING", "acting_user", "client_ip", "not_found", "prefix_q", "public", "scoped"]

F = TypeVar("F", bound=Callable[..., Any])


def acting_user(request: HttpRequest | Request) -> User:
    """The logged-in user making the request, typed as ours.

    Every view that acts for a user already requires login (`login_required`, DRF `IsAuthenticated`),
    so this only narrows the type; an anonymous or foreign user object still fails closed.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


def not_found() -> Http404:
    """Out of scope answers exactly like missing (R11.1)."""
    return Http404("not found")


# --- view declarations checked by the URL walk test and the permission matrix -----------------------


def scoped(capability: str | tuple[str, ...], *, obj: str | None = None) -> Callable[[F], F]:
    """`@scoped("child.view", obj="child")`: the view reads only through `restrict` and needs login.

    A logged-in user who does not hold the capability anywhere gets 403 before the view runs (it says
    nothing about any record). With `obj`, the view then fetches the object itself with `get_or_404`
    (404 out of reach, exactly like missing) and checks the action on it. A tuple: any of them (a view
    whose record, named only by id, decides which capability it needs — a document or an attachment)."""

    options = (capability,) if isinstance(capability, str) else capability

    def mark(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and not any(can(user, c) for c in options):
                raise PermissionDenied("forbidden")
            return view(request, *args, **kwargs)

        wrapper.shouhu_access = "scoped"  # type: ignore[attr-defined]
        wrapper.shouhu_capability = capability  # type: ignore[attr-defined]
        wrapper.shouhu_object = obj  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    if not options or not all(isinstance(c, str) for c in options):
        raise TypeError("@scoped needs the capability the view requires, e.g. @scoped('child.view')")
    return mark


def public(view: F) -> F:
    """The view shows nothing about any child (login page, language switch, health check)."""
    view.shouhu_access = "public"  # type: ignore[attr-defined]
    return view
