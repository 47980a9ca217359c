"""The one place that decides who sees and does what (R11.1, DESIGN principle 1).

`access_of(user)` turns the user's active role assignments into an `Access`: for each capability of
`capabilities.ROLES`, where it is held (region-code prefixes, organisation ids by reach, or anywhere).
It is computed once per request (cached on the user object) and fails closed: no active assignment, an
inactive or anonymous user, an unknown role — nothing.

Two questions are answered from it, and nothing else in the code decides access:

- `can(user, action, obj=None)`: may the user do `action` (on `obj`)? Without an object: is the
  capability held anywhere (menus, collection pages).
- `restrict(queryset, user, action)`: the rows the user may reach with `action` (NetBox's
  `RestrictedQuerySet.restrict`); an empty queryset when the capability is not held.

How an object relates to a reach (a child's village, a case's station, a referral's provider) is
declared once per model by the app that owns the relation (`register_anchor`, in `AppConfig.ready`).
A model without an anchor for a reach is never reached through it (fails closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, TypeVar

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from shouhu.core.capabilities import ANY, EVERY_ACCOUNT, PROVIDER, REGION, ROLES, SCHOOL, SELF, STATION

NOTHING = Q(pk__in=[])
M = TypeVar("M", bound=models.Model)
ORG_REACHES = (SCHOOL, STATION, PROVIDER)


def prefix_q(field_path: str, prefixes: Iterable[str]) -> Q:
    """`field_path` starts with one of `prefixes` (a region subtree: no join, one indexed LIKE)."""
    return reduce(lambda acc, p: acc | Q(**{f"{field_path}__startswith": p}), prefixes, NOTHING)


def minimal_prefixes(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Drop prefixes already covered by a shorter one (a county covers its townships)."""
    ps = set(prefixes)
    return tuple(sorted(p for p in ps if not any(p != q and p.startswith(q) for q in ps)))


class OutOfScope(Exception):
    """The actor may not see or write that record. Callers answer it exactly like a missing record (404),
    so a refusal never confirms that the record exists (R11.1, no existence oracles). The one definition;
    the apps' services raise it."""


@dataclass(frozen=True)
class Holding:
    """Where one capability is held: region subtrees, organisations by reach, or anywhere."""

    prefixes: tuple[str, ...] = ()
    orgs: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (reach, organisation ids)
    anywhere: bool = False

    @property
    def empty(self) -> bool:
        return not (self.prefixes or self.orgs or self.anywhere)

    def org_ids(self, reach: str) -> tuple[int, ...]:
        return next((ids for r, ids in self.orgs if r == reach), ())

    def covers_code(self, code: str) -> bool:
        """A region (or any place) given by its 12-digit code lies inside the held subtrees."""
        return self.anywhere or any(code.startswith(p) for p in self.prefixes)

    def within(self, other: Holding) -> bool:
        """Everything this holding reaches, `other` reaches too (used to decide whether a read can
        reveal more than the reader may otherwise see)."""
        if other.anywhere:
            return True
        if self.anywhere:
            return False
        if not all(other.covers_code(p) for p in self.prefixes):
            return False
        return all(set(ids) <= set(other.org_ids(r)) for r, ids in self.orgs)


NO_HOLDING = Holding()


@dataclass
class Access:
    """One user's capabilities right now; see the module docstring."""

    user_id: int | None
    roles: frozenset[str]
    holdings: dict[str, Holding]
    memo: dict[tuple[str, str, Any], bool] = field(default_factory=dict, repr=False)

    def holding(self, action: str) -> Holding:
        return self.holdings.get(action, NO_HOLDING)

    def has(self, action: str) -> bool:
        return not self.holding(action).empty

    def prefixes(self, action: str) -> tuple[str, ...]:
        return self.holding(action).prefixes

    def restricted_to(self, actions: Iterable[str]) -> Access:
        """The same user limited to some capabilities (a long-lived API token issued for a task)."""
        keep = set(actions)
        return Access(self.user_id, self.roles, {k: v for k, v in self.holdings.items() if k in keep})


EMPTY = Access(user_id=None, roles=frozenset(), holdings={})


def _compute(user: Any, at: Any) -> Access:
    from shouhu.core.models import RoleAssignment

    rows = (
        RoleAssignment.objects.active(at or timezone.now())
        .filter(user=user)
        .select_related("region", "organisation__region")
    )
    roles: set[str] = set()
    prefixes: dict[str, set[str]] = {}
    orgs: dict[str, dict[str, set[int]]] = {}
    anywhere: set[str] = {c for c, reach in EVERY_ACCOUNT.items() if reach == ANY}
    for a in rows:
        spec = ROLES.get(a.role)
        if spec is None:
            continue
        roles.add(a.role)
        region = a.region or (a.organisation.region if a.organisation else None)
        for action, reach in spec.all_grants().items():
            if reach == ANY:
                anywhere.add(action)
            elif reach == REGION and region is not None:
                prefixes.setdefault(action, set()).add(region.prefix)
            elif reach == SELF:  # rows naming the user: the "organisation ids" are the user's own id
                orgs.setdefault(action, {}).setdefault(SELF, set()).add(user.pk)
            elif reach in ORG_REACHES and a.organisation_id is not None:
                orgs.setdefault(action, {}).setdefault(reach, set()).add(a.organisation_id)
    holdings = {
        action: Holding(
            prefixes=minimal_prefixes(prefixes.get(action, ())),
            orgs=tuple(sorted((r, tuple(sorted(ids))) for r, ids in orgs.get(action, {}).items())),
            anywhere=action in anywhere,
        )
        for action in {*prefixes, *orgs, *anywhere}
    }
    return Access(user_id=user.pk, roles=frozenset(roles), holdings=holdings)


def access_of(user: Any, at: Any = None) -> Access:
    """The user's access, cached on the user object for the request (at=None). Fails closed."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return EMPTY
    if at is not None:
        return _compute(user, at)
    cached = getattr(user, "_shouhu_access", None)
    if cached is None:
        cached = user._shouhu_access = _compute(user, None)
    return cached


def forget_access(user: Any) -> None:
    """Drop the cached access (after a grant or revocation changed it)."""
    if user is not None and hasattr(user, "_shouhu_access"):
        del user._shouhu_access


# --- anchors: how a model's rows relate to a reach ---------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    q: Callable[[tuple[Any, ...]], Q]
    test: Callable[[Any, tuple[Any, ...]], bool] | None = None


_ANCHORS: dict[tuple[str, str], Anchor] = {}
_DELEGATES: dict[str, tuple[str, type[models.Model]]] = {}


def register_anchor(
    model: type[models.Model],
    reach: str,
    q: Callable[[tuple[Any, ...]], Q],
    test: Callable[[Any, tuple[Any, ...]], bool] | None = None,
) -> None:
    """Declare how rows of `model` are reached by `reach` (`q` builds the filter from the held prefixes
    or organisation ids; `test`, optional, answers for one loaded object without a query)."""
    _ANCHORS[(model._meta.label_lower, reach)] = Anchor(q, test)


def register_region_anchor(
    model: type[models.Model], path: str, code_of: Callable[[Any], str] | None = None
) -> None:
    """The common case: the row lies in a region subtree through the region-code field at `path`.
    `code_of` reads the code from a loaded row without a query (leave it out when it would need one)."""
    test = None
    if code_of is not None:

        def test(obj: Any, prefixes: tuple[Any, ...]) -> bool:
            return any((code_of(obj) or "").startswith(p) for p in prefixes)

    register_anchor(model, REGION, lambda prefixes: prefix_q(path, prefixes), test)


def _anchor(model: type[models.Model], reach: str) -> Anchor | None:
    label = model._meta.concrete_model._meta.label_lower  # type: ignore[union-attr]
    direct = _ANCHORS.get((label, reach))
    if direct is not None or label not in _DELEGATES:
        return direct
    path, target = _DELEGATES[label]
    base = _anchor(target, reach)
    if base is None:
        return None
    return Anchor(
        lambda anchors: Q(**{f"{path}__in": target._default_manager.filter(base.q(anchors)).values("pk")})
    )


def _q(model: type[models.Model], holding: Holding) -> Q:
    q = NOTHING
    if holding.prefixes:
        a = _anchor(model, REGION)
        if a is not None:
            q |= a.q(holding.prefixes)
    for reach, ids in holding.orgs:
        a = _anchor(model, reach)
        if a is not None:
            q |= a.q(ids)
    if holding.anywhere:
        a = _anchor(model, ANY)
        if a is not None:
            q |= a.q(())
    return q


def restriction_q(model: type[models.Model], user: Any, action: str) -> Q:
    """The filter `restrict` applies, to combine with others (e.g. either of two field groups)."""
    holding = access_of(user).holding(action)
    return NOTHING if holding.empty else _q(model, holding)


def restrict(qs: QuerySet[M], user: Any, action: str, *, access: Access | None = None) -> QuerySet[M]:
    """The rows of `qs` the user may reach with `action`; none when the capability is not held."""
    holding = (access or access_of(user)).holding(action)
    if holding.empty:
        return qs.none()
    return qs.filter(_q(qs.model, holding))


def _python_answer(obj: Any, holding: Holding) -> bool | None:
    """True/False when every applicable anchor can answer without a query; None otherwise."""
    model = type(obj)
    undecided = False
    parts: list[tuple[str, tuple[Any, ...]]] = []
    if holding.prefixes:
        parts.append((REGION, holding.prefixes))
    parts += list(holding.orgs)
    if holding.anywhere:
        parts.append((ANY, ()))
    for reach, anchors in parts:
        a = _anchor(model, reach)
        if a is None:
            continue
        if a.test is None:
            undecided = True
        elif a.test(obj, anchors):
            return True
    return None if undecided else False


def can(user: Any, action: str, obj: Any = None, *, access: Access | None = None) -> bool:
    """May the user do `action` (on `obj`)? `obj` may be a model instance, or a region code (str) for
    region capabilities (e.g. register a child in this village). Fails closed."""
    acc = access or access_of(user)
    holding = acc.holding(action)
    if holding.empty:
        return False
    if obj is None:
        return True
    if isinstance(obj, str):
        return holding.covers_code(obj)
    answer = _python_answer(obj, holding)
    if answer is not None:
        return answer
    if obj.pk is None:
        return False
    key = (action, obj._meta.label_lower, obj.pk)
    if key not in acc.memo:
        model = type(obj)._meta.concrete_model
        acc.memo[key] = restrict(model._default_manager.filter(pk=obj.pk), user, action, access=acc).exists()
    return acc.memo[key]


def holders(user: Any, action: str, objs: Iterable[Any], *, access: Access | None = None) -> set[Any]:
    """The primary keys of `objs` the user may `action`: in Python where the anchors allow, otherwise
    one query for the whole batch (list pages stay at a constant number of queries)."""
    acc = access or access_of(user)
    holding = acc.holding(action)
    objs = list(objs)
    if holding.empty or not objs:
        return set()
    yes: set[Any] = set()
    ask: list[Any] = []
    for obj in objs:
        answer = _python_answer(obj, holding)
        if answer is None:
            ask.append(obj)
        elif answer:
            yes.add(obj.pk)
    if ask:
        model = type(ask[0])._meta.concrete_model
        qs = model._default_manager.filter(pk__in=[o.pk for o in ask])
        yes |= set(restrict(qs, user, action, access=acc).values_list("pk", flat=True))
    return yes


def get_or_404(qs: QuerySet[M], user: Any, action: str, **lookup: Any) -> M:
    """One object the user may `action`, or 404 exactly like a missing one (also for malformed ids)."""
    try:
        return restrict(qs, user, action).get(**lookup)
    except (ObjectDoesNotExist, MultipleObjectsReturned, ValueError, TypeError) as exc:
        raise Http404("not found") from exc
    except Exception as exc:  # a malformed UUID raises ValidationError on some backends
        if exc.__class__.__name__ == "ValidationError":
            raise Http404("not found") from exc
        raise


def require(user: Any, action: str, obj: Any = None, message: str = "") -> None:
    """403 when the user may not `action` (call after the object was fetched with its view capability,
    so a 403 never reveals that an out-of-scope record exists)."""
    if not can(user, action, obj):
        raise PermissionDenied(message or "forbidden")


class RestrictedQuerySet(models.QuerySet[M]):
    """`Model.objects.restrict(user, action)` (NetBox's RestrictedQuerySet)."""

    def restrict(self, user: Any, action: str) -> RestrictedQuerySet[M]:
        return restrict(self, user, action)  # type: ignore[return-value]


def register_related_anchors(model: type[models.Model], path: str, target: type[models.Model]) -> None:
    """Rows of `model` are reached exactly as the `target` row at `path` is (a child's contacts and
    visits as the child): every anchor `target` has, now or registered later, through a subquery."""
    _DELEGATES[model._meta.label_lower] = (path, target)


def holders_by_ids(user: Any, action: str, model_label: str, ids: Iterable[Any]) -> set[str]:
    """The ids (as strings) of rows of the model named `model_label` ("protection.case") the user may
    `action`: one query, and no import of the model (a lower layer asking about a higher one's rows)."""
    from django.apps import apps

    ids = {str(i) for i in ids if i}
    if not ids or not access_of(user).has(action):
        return set()
    model = apps.get_model(model_label)
    rows = restrict(model._default_manager.filter(pk__in=list(ids)), user, action).values_list(
        "pk", flat=True
    )
    return {str(pk) for pk in rows}
