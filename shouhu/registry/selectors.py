"""Every read of children that a view or the API needs, always starting from the user's scope (R11.1).

Search (R1.8) and filters live here once, for the web list and the API list alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from shouhu.core.access import access_of, get_or_404, prefix_q, restrict, restriction_q
from shouhu.core.crypto import blind_index
from shouhu.core.identity import (
    IdentityError,
    normalize_id_number,
    normalize_phone,
    validate_id_number,
    validate_phone,
)
from shouhu.core.models import Event, Region
from shouhu.core.pinyin import search_key
from shouhu.registry.models import Child, Guardian, Parent
from shouhu.registry.rules import AGE_BANDS, anniversary

_CJK = re.compile(r"[\u3400-\u9fff]")
_LETTERS = re.compile(r"^[a-z]+$")
_ID_LIKE = re.compile(r"^[0-9]{17}[0-9X]$|^[0-9]{15}$")
_PHONE_LIKE = re.compile(r"^(\+?86)?[0-9\-]{7,13}$")


def visible_children(user: Any, action: str = "child.view") -> QuerySet[Child]:
    return restrict(Child.objects.all(), user, action)


def get_child(user: Any, child_id: Any, action: str = "child.view") -> Child:
    """A child the user may `action`, or 404 exactly like a missing one (also for malformed ids)."""
    return get_or_404(
        Child.objects.select_related("village__parent", "school", "household"), user, action, pk=child_id
    )


def _prefix_range(field: str, key: str) -> Q:
    """`field` starts with `key`, written as a range so that an ordinary index serves it on SQLite and
    PostgreSQL alike (LIKE 'x%' cannot use a B-tree index under SQLite's case-insensitive LIKE or a
    non-C collation)."""
    upper = key[:-1] + chr(ord(key[-1]) + 1)
    return Q(**{f"{field}__gte": key, f"{field}__lt": upper})


def _children_with(digest: str, *, own: bool, kind: str, relatives: Q) -> Q:
    """Children whose own identifier, a parent's or a guardian's matches: ids first, then one filter.
    A match on a relative counts only where `relatives` holds (the reader sees the family or contacts:
    a search must not tell whose parent a number belongs to, R11.1).

    Small indexed lookups, then `pk IN (…)`: an OR with a subquery made PostgreSQL scan the list index
    instead (docs/benchmarks.md)."""
    field = "id_number_index" if kind == "id" else "phone_index"
    own_ids: set[Any] = set()
    if own:
        own_ids.update(Child.objects.filter(**{field: digest}).values_list("pk", flat=True))
    ids: set[Any] = set(Parent.objects.filter(**{field: digest}).values_list("child_id", flat=True))
    if kind == "phone":
        ids.update(Guardian.objects.filter(phone_index=digest).values_list("child_id", flat=True))
    return Q(pk__in=list(own_ids)) | (Q(pk__in=list(ids)) & relatives)


def identifier_query(q: str) -> bool:
    """The search text is an ID number or a phone number (an identifier look-up, R11.3)."""
    text = (q or "").strip()
    if _ID_LIKE.match(normalize_id_number(text)):
        return True
    compact = re.sub(r"[\s\-]", "", text)
    return bool(_PHONE_LIKE.match(compact)) and sum(ch.isdigit() for ch in compact) >= 7


def query_q(q: str, relatives: Q | None = None) -> Q:
    """R1.8: an ID number or phone (exact, through the blind index), pinyin (full or initials), or name.
    `relatives` limits matches on a parent's or guardian's number (see `_children_with`)."""
    relatives = Q() if relatives is None else relatives
    text = (q or "").strip()
    if not text:
        return Q()
    as_id = normalize_id_number(text)
    if _ID_LIKE.match(as_id):
        try:
            number = validate_id_number(as_id, allow_legacy=True)
        except IdentityError:
            return Q(pk__in=[])
        return _children_with(blind_index("id", number), own=True, kind="id", relatives=relatives)
    compact = re.sub(r"[\s\-]", "", text)
    if _PHONE_LIKE.match(compact) and sum(ch.isdigit() for ch in compact) >= 7:
        try:
            phone = validate_phone(normalize_phone(compact))
        except IdentityError:
            return Q(pk__in=[])
        return _children_with(blind_index("phone", phone), own=False, kind="phone", relatives=relatives)
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
    state: str = "active"  # "active" | "archived" | "all" (API.md: archived files leave lists)


# A filter on a field of a group narrows the list to the children whose group the reader holds: a
# filter must not reveal what the file would not show (R11.1).
FILTER_GROUPS = {
    "left_behind": ("child.care", "child.schooling"),
    "key_target": ("child.care",),
    "rating": ("child.care",),
    "schooling": ("child.schooling",),
    "school": ("child.schooling",),
}


def filterable(user: Any, name: str) -> bool:
    """The reader holds the group of this filter for some child (the form offers only those)."""
    acc = access_of(user)
    return any(acc.has(c) for c in FILTER_GROUPS.get(name, ("child.view",)))


def search_children(user: Any, f: ChildFilters, *, today: date | None = None) -> QuerySet[Child]:
    """The children list (web and API): scope first, then search and filters; one query per page."""
    today = today or timezone.localdate()
    qs = visible_children(user)
    if f.state != "all":
        qs = qs.filter(state=f.state or "active")
    if f.region:
        region = Region.objects.filter(code=f.region).first()
        qs = qs.filter(village__pk__startswith=region.prefix) if region else qs.none()
    if f.q:
        relatives = restriction_q(Child, user, "child.family") | restriction_q(Child, user, "child.contacts")
        qs = qs.filter(query_q(f.q, relatives))
    if f.age_band:
        qs = qs.filter(age_band_q(f.age_band, today))
    grouped = {
        "left_behind": None if f.left_behind is None else Q(lb_status=f.left_behind),
        "key_target": None if f.key_target is None else Q(key_target=f.key_target),
        "rating": Q(guardianship_rating="" if f.rating == "none" else f.rating) if f.rating else None,
        "schooling": Q(schooling=f.schooling) if f.schooling else None,
        "school": Q(school_id=f.school) if f.school else None,
    }
    for name, condition in grouped.items():
        if condition is None:
            continue
        allowed = reduce(or_, (restriction_q(Child, user, c) for c in FILTER_GROUPS[name]))
        qs = qs.filter(condition, allowed)
    return qs.select_related("village__parent", "school").order_by("village_id", "name_pinyin", "id")


def events_of(child: Child, limit: int = 200) -> list[Event]:
    """The child's events, newest first, before filtering by reader (`timeline.timeline_for`); a merged
    file's timeline includes the events of the duplicates folded into it (R1.11: the history travels)."""
    ids = [
        str(child.pk),
        *(str(pk) for pk in Child.objects.filter(merged_into=child).values_list("pk", flat=True)),
    ]
    return list(Event.objects.filter(child_id__in=ids).select_related("actor").order_by("-seq")[:limit])


def regions_for_filter(user: Any, action: str = "child.view") -> QuerySet[Region]:
    """Townships and villages the user can filter by (inside the regions where they hold `action`)."""
    prefixes = access_of(user).prefixes(action)
    if not prefixes:
        return Region.objects.none()
    return (
        Region.objects.filter(prefix_q("code", prefixes))
        .exclude(kind="county")
        .select_related("parent")
        .order_by("code")
    )
