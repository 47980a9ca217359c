"""Which field group each part of a child's file belongs to (R11.1, R11.3; the groups and which role
sees which are in `core/capabilities.py`).

The API and the pages leave out what a reader's groups do not include; they never blank it. A key in
more than one group is shown to a reader holding any of them (the left-behind status is part of the
school's census marking as well as of the village's care work).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shouhu.core.access import Access, access_of, can, holders
from shouhu.core.capabilities import (
    GROUPS,
    ID_NUMBER_CAPABILITIES,
    PHONE_CAPABILITIES,
    group_capability,
)

IDENTITY, IDENTIFIERS, CONTACTS = "identity", "identifiers", "contacts"
FAMILY, HEALTH, INCOME, SCHOOLING, CARE, PROTECTION = (
    "family",
    "health",
    "income",
    "schooling",
    "care",
    "protection",
)

# Keys of the child's file (the API's names; the pages use the same) → the groups that show them.
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        [
            "id",
            "version",
            "name",
            "sex",
            "birth_date",
            "ethnicity",
            "hukou_registered",
            "hukou_rural",
            "hukou_place",
            "id_number",  # masked unless the reader may see it in full
            "village",
            "village_name",
            "age_band",
            "is_provisional",
            "state",
            "archived_reason",
            "archived_on",
            "merged_into",
        ],
        (IDENTITY,),
    ),
    **dict.fromkeys(["address", "village_contact_name", "village_contact_phone", "contacts"], (CONTACTS,)),
    **dict.fromkeys(["health", "disability_type", "disability_grade", "illness"], (HEALTH,)),
    **dict.fromkeys(["schooling", "school", "school_name", "boarding"], (SCHOOLING,)),
    **dict.fromkeys(["income_sources", "assistance"], (INCOME,)),
    **dict.fromkeys(["parents", "grandparents", "guardians", "moved_with_parents", "household"], (FAMILY,)),
    **dict.fromkeys(
        [
            "care_arrangement",
            "guardianship_rating",
            "distress_categories",
            "key_target",
            "status_history",
            "notes",
        ],
        (CARE,),
    ),
    "left_behind": (CARE, SCHOOLING),
}
# The parts of a parent's or guardian's record: who they are and how to reach them belong to the
# contacts group as well as to the family group; the rest only to the family group.
PERSON_CONTACT_KEYS = ("relation", "role", "name", "phone")


def groups_of(user: Any, child: Any, *, access: Access | None = None) -> frozenset[str]:
    """The field groups this reader sees of this child (empty: the child is out of reach)."""
    acc = access or access_of(user)
    if not can(user, "child.view", child, access=acc):
        return frozenset()
    return frozenset(
        {IDENTITY}
        | {g for g in GROUPS if g != IDENTITY and can(user, group_capability(g), child, access=acc)}
    )


def groups_for(user: Any, children: Iterable[Any]) -> dict[Any, frozenset[str]]:
    """`groups_of` for a page of children: one query per group at most, not one per child."""
    acc = access_of(user)
    children = list(children)
    seen = holders(user, "child.view", children, access=acc)
    by_group = {g: holders(user, group_capability(g), children, access=acc) for g in GROUPS if g != IDENTITY}
    return {
        c.pk: frozenset({IDENTITY} | {g for g, pks in by_group.items() if c.pk in pks})
        if c.pk in seen
        else frozenset()
        for c in children
    }


def shows(key: str, groups: frozenset[str]) -> bool:
    return any(g in groups for g in FIELD_GROUPS.get(key, ()))


def full_id_numbers(groups: frozenset[str]) -> bool:
    """May the reader see ID numbers in full (reveal them on a page; in full from the API)?"""
    return any(c.removeprefix("child.") in groups for c in ID_NUMBER_CAPABILITIES)


def full_phones(groups: frozenset[str]) -> bool:
    return any(c.removeprefix("child.") in groups for c in PHONE_CAPABILITIES)
