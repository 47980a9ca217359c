"""Every read of children that a view or the API needs, always starting from the user's scope (R11.1).

Search (R1.8) and filters live here once, for the web list and the API list alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from shouhu.core.crypto import blind_index
from shouhu.core.identity import (
    IdentityError,
    normalize_id_number,
    normalize_phone,
    validate_id_number,
    validate_phone,
)
from shouhu.core.jurisdiction import Scope
from shouhu.core.models import Event, Region
from shouhu.core.pinyin import search_key
from shouhu.registry.models import Child, Guardian, Parent
from shouhu.registry.rules import AGE_BANDS, anniversary

_CJK = re.compile(r"[\u3400-\u9fff]")
_LETTERS = re.compile(r"^[a-z]+$")
_ID_LIKE = re.compile(r"^[0-9]{17}[0-9X]$|^[0-9]{15}$")
_PHONE_LIKE = re.compile(r"^(\+?86)?[0-9\-]{7,13}$")


def visible_children(user: Any) -> QuerySet[Child]:
    return Child.objects.visible_to(user)


def get_child(user: Any, child_id: Any) -> Child:
    """A child in the user's scope, or 404 exactly like a missing one (also for malformed ids)."""
    try:
        return (
            visible_children(user).select_related("village__parent", "school", "household").get(pk=child_id)
        )
    except (Child.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("not found") from exc
    except Exception as exc:  # a malformed UUID raises ValidationError on some backends
        if exc.__class__.__name__ == "ValidationError":
            raise Http404("not found") from exc
        raise


def _prefix_range(field: str, key: str) -> Q:
    """`field` starts with `key`, written as a range so that an ordinary index serves it on SQLite and
    PostgreSQL alike (LIKE 'x%' cannot use a B-tree index under SQLite's case-insensitive LIKE or a
    non-C collation)."""
    upper = key[:-1] + chr(ord(key[-1]) + 1)
    return Q(**{f"{field}__gte": key, f"{field}__lt": upper})


def _children_with(digest: str, *, own: bool, kind: str) -> Q:
    """Children whose own identifier, a parent's or a guardian's matches: ids first, then one filter.

    Two small indexed lookups, then `pk IN (…)`: an OR with a subquery made PostgreSQL scan the list
    index instead (docs/benchmarks.md)."""
    field = "id_number_index" if kind == "id" else "phone_index"
    ids: set[Any] = set()
    if own:
        ids.update(Child.objects.filter(**{field: digest}).values_list("pk", flat=True))
    ids.update(Parent.objects.filter(**{field: digest}).values_list("child_id", flat=True))
    if kind == "phone":
        ids.update(Guardian.objects.filter(phone_index=digest).values_list("child_id", flat=True))
    return Q(pk__in=list(ids))


def query_q(q: str) -> Q:
    """R1.8: an ID number or phone (exact, through the blind index), pinyin (full or initials), or name."""
    text = (q or "").strip()
    if not text:
        return Q()
    as_id = normalize_id_number(text)
    if _ID_LIKE.match(as_id):
        try:
            number = validate_id_number(as_id, allow_legacy=True)
        except IdentityError:
            return Q(pk__in=[])
        return _children_with(blind_index("id", number), own=True, kind="id")
    compact = re.sub(r"[\s\-]", "", text)
    if _PHONE_LIKE.match(compact) and sum(ch.isdigit() for ch in compact) >= 7:
        try:
            phone = validate_phone(normalize_phone(compact))
        except IdentityError:
            return Q(pk__in=[])
        return _children_with(blind_index("phone", phone), own=False, kind="phone")
    if _CJK.search(text):
        return Q(name__contains=re.sub(r"\s+", "", text))
    key = search_key(text)
    if _LETTERS.match(key):
        return _prefix_range("name_initials", key) | _prefix_range("name_pinyin", key)
    return Q(name__icontains=text)


def age_band_q(band: str, today: date) -> Q:
    """Children whose 周岁 on `today` falls in the band (full years reached the day after a birthday)."""
    for label, low, high in AGE_BANDS:
        if label == band:
            # full_years >= low  ⇔  born on or before today - low years - 1 day (for low > 0)
            # full_years <= high ⇔  born on or after  today - (high + 1) years
            q = Q(birth_date__gte=anniversary(today, -(high + 1)))
            if low > 0:
                q &= Q(birth_date__lte=anniversary(today, -low) - timedelta(days=1))
            return q
    return Q(pk__in=[])


@dataclass(frozen=True)
class ChildFilters:
    q: str = ""
    region: str = ""
    left_behind: bool | None = None
    key_target: bool | None = None
    rating: str = ""
    schooling: str = ""
    age_band: str = ""
    school: int | None = None


def search_children(user: Any, f: ChildFilters, *, today: date | None = None) -> QuerySet[Child]:
    """The children list (web and API): scope first, then search and filters; one query per page."""
    today = today or timezone.localdate()
    qs = visible_children(user)
    if f.region:
        region = Region.objects.filter(code=f.region).first()
        qs = qs.filter(village__pk__startswith=region.prefix) if region else qs.none()
    if f.q:
        qs = qs.filter(query_q(f.q))
    if f.left_behind is not None:
        qs = qs.filter(lb_status=f.left_behind)
    if f.key_target is not None:
        qs = qs.filter(key_target=f.key_target)
    if f.rating:
        qs = qs.filter(guardianship_rating="" if f.rating == "none" else f.rating)
    if f.schooling:
        qs = qs.filter(schooling=f.schooling)
    if f.age_band:
        qs = qs.filter(age_band_q(f.age_band, today))
    if f.school:
        qs = qs.filter(school_id=f.school)
    return qs.select_related("village__parent", "school").order_by("village_id", "name_pinyin", "id")


def timeline(child: Child, limit: int = 200) -> QuerySet[Event]:
    return Event.objects.filter(child_id=str(child.pk)).select_related("actor").order_by("-seq")[:limit]


def regions_for_filter(scope: Scope) -> QuerySet[Region]:
    """Townships and villages the user can filter by (inside their scope)."""
    if not scope.view_prefixes:
        return Region.objects.none()
    q = Q(pk__in=[])
    for p in scope.view_prefixes:
        q |= Q(code__startswith=p)
    return Region.objects.filter(q).exclude(kind="county").select_related("parent").order_by("code")
