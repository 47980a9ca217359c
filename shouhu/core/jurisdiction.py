"""The one place that decides who sees what (R11.1, DESIGN principle 1).

A user's scope is computed from their active role assignments; querysets that reach a user start from
`visible_to(user)` methods built on the Q objects here. Everything fails closed: no assignment, no
rows. Views are marked with `@scoped` or `@public`; a test walks every URL and refuses any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from shouhu.core.models import Region, RoleAssignment, User
from shouhu.core.roles import ROLES

F = TypeVar("F", bound=Callable[..., Any])
NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Scope:
    """What one user may reach right now. Prefixes are region-code prefixes (subtrees)."""

    user_id: int | None
    roles: frozenset[str]
    view_prefixes: tuple[str, ...] = ()
    edit_prefixes: tuple[str, ...] = ()
    identifier_prefixes: tuple[str, ...] = ()
    school_ids: tuple[int, ...] = ()
    administers: bool = False
    reads_audit: bool = False

    @property
    def sees_children(self) -> bool:
        return bool(self.view_prefixes or self.school_ids)

    @property
    def can_create_children(self) -> bool:
        return bool(self.edit_prefixes)

    def covers(self, code: str, prefixes: tuple[str, ...]) -> bool:
        return any(code.startswith(p) for p in prefixes)

    def may_edit_in(self, village_code: str) -> bool:
        return self.covers(village_code, self.edit_prefixes)

    def sees_identifiers_in(self, village_code: str) -> bool:
        return self.covers(village_code, self.identifier_prefixes)


EMPTY = Scope(user_id=None, roles=frozenset())


def _minimal(prefixes: set[str]) -> tuple[str, ...]:
    """Drop prefixes already covered by a shorter one (a county covers its townships)."""
    kept = [p for p in sorted(prefixes, key=len) if not any(p.startswith(q) and p != q for q in prefixes)]
    return tuple(sorted(kept))


def scope_of(user: Any, at: Any = None) -> Scope:
    """The user's scope, cached on the user object for the request (at=None)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EMPTY
    if at is None and hasattr(user, "_shouhu_scope"):
        return user._shouhu_scope
    assignments = (
        RoleAssignment.objects.active(at or timezone.now())
        .filter(user=user)
        .select_related("region", "organisation__region")
    )
    roles: set[str] = set()
    view: set[str] = set()
    edit: set[str] = set()
    ident: set[str] = set()
    schools: set[int] = set()
    administers = reads_audit = False
    for a in assignments:
        spec = ROLES.get(a.role)
        if spec is None:
            continue
        roles.add(a.role)
        administers |= spec.administers
        reads_audit |= spec.reads_audit
        region: Region | None = a.region or (a.organisation.region if a.organisation else None)
        if spec.child_scope == "region" and region is not None:
            view.add(region.prefix)
            if spec.edits_children:
                edit.add(region.prefix)
            if spec.sees_identifiers:
                ident.add(region.prefix)
        elif spec.child_scope == "school" and a.organisation_id is not None:
            schools.add(a.organisation_id)
    scope = Scope(
        user_id=user.pk,
        roles=frozenset(roles),
        view_prefixes=_minimal(view),
        edit_prefixes=_minimal(edit),
        identifier_prefixes=_minimal(ident),
        school_ids=tuple(sorted(schools)),
        administers=administers,
        reads_audit=reads_audit,
    )
    if at is None:
        user._shouhu_scope = scope
    return scope


def prefix_q(field: str, prefixes: tuple[str, ...]) -> Q:
    if not prefixes:
        return NOTHING
    return reduce(lambda acc, p: acc | Q(**{f"{field}__startswith": p}), prefixes, Q(pk__in=[]))


def child_q(scope: Scope, *, village_field: str = "village_id", school_field: str = "school_id") -> Q:
    """Children (or rows about a child, via field paths) this scope may see."""
    if village_field.endswith("_id"):
        # A ForeignKey has no `startswith` lookup; `village__pk__startswith` compares the same column
        # (village_id LIKE '…%') without a join.
        village_field = f"{village_field[:-3]}__pk"
    q = prefix_q(village_field, scope.view_prefixes)
    if scope.school_ids:
        q |= Q(**{f"{school_field}__in": scope.school_ids})
    return q


def region_allowed(scope: Scope, code: str, *, for_edit: bool) -> bool:
    return scope.covers(code, scope.edit_prefixes if for_edit else scope.view_prefixes)


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


# --- view declarations checked by the URL walk test -------------------------------------------------


def scoped(view: F) -> F:
    """The view reads only through `visible_to` selectors and requires login."""
    view.shouhu_access = "scoped"  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    """The view shows nothing about any child (login page, language switch, health check)."""
    view.shouhu_access = "public"  # type: ignore[attr-defined]
    return view
