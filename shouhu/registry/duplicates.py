"""Duplicate files (R1.7) without an existence oracle (R11.1, issue 9 part 8).

A registration, an API create or a ledger row whose ID number is already on file must be refused, and a
duplicate inside the user's scope is named with a link. One outside the scope is answered "already on
file elsewhere, ask the township" and names nothing — and each such answer is an identifier look-up:
logged, and counted per user and day against `duplicate_answers_per_day`. Once the day's answers are
used up, every registration or import row with an ID number is refused with the same message whatever
the database holds, so the refusal itself tells nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shouhu.core.access import access_of, can
from shouhu.core.accesslog import lookups_left, record_lookup
from shouhu.core.capabilities import group_capability
from shouhu.core.crypto import blind_index
from shouhu.core.models import Region
from shouhu.core.pinyin import name_pinyin
from shouhu.registry.models import Child

BUDGET_KIND = "duplicate"


def out_of_scope_message() -> str:
    return _(
        "该儿童已在其他地方建档，不能重复登记。请联系所在乡镇（街道）儿童督导员核实；"
        "如儿童已迁入本村（居），由其办理档案转移。"
    )


def budget_message() -> str:
    return _(
        "今天的查重次数已用完：带身份证号码的登记和导入暂停到明天。请先登记没有号码的儿童，"
        "或联系乡镇（街道）儿童督导员。"
    )


class DuplicateChild(Exception):
    """The child is already on file (same ID number; or, without one, a similar name with the same
    birth date and village). `explain` says which file without revealing one out of the user's scope."""

    def __init__(self, existing: Child):
        super().__init__(_("该儿童已建档，不能重复登记。"))
        self.existing = existing

    def explain(self, user: Any, *, ip: str | None = None) -> tuple[str, Child | None]:
        """(message, the existing file if the user may open it). An answer about a file out of the
        user's reach is recorded as a look-up (it counts against the day's limit)."""
        if can(user, "child.view", self.existing):
            message = _("该儿童已建档：%(name)s（%(village)s），不能重复登记，请打开已有档案修改。") % {
                "name": self.existing.name,
                "village": self.existing.village.name,
            }
            return message, self.existing
        if getattr(user, "is_authenticated", False):
            record_lookup(user=user, kind=BUDGET_KIND, ip=ip)
        return out_of_scope_message(), None


def check_duplicate_budget(user: Any, id_number: str | None) -> None:
    """Refuse a write with an ID number once the user's duplicate answers for the day are used up."""
    if id_number and getattr(user, "is_authenticated", False) and lookups_left(user, BUDGET_KIND) <= 0:
        raise ValidationError({"id_number": [budget_message()]})


def similar_names(a: str, b: str) -> bool:
    """R1.7 fuzzy match for files without an ID number: the same name, the same pinyin (homophone
    typos like 张晓明/张小明 are the commonest entry error), or one character different."""
    if a == b:
        return True
    if name_pinyin(a)[0] == name_pinyin(b)[0]:
        return True
    return len(a) == len(b) >= 2 and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


def lock_village(code: str) -> None:
    """Serialise the duplicate check and the write of files in one village (issue 10 part 7): two
    registrations of the same child without an ID number, arriving together, would otherwise both find
    no duplicate and both write. FOR NO KEY UPDATE on PostgreSQL, so rows that merely refer to the
    village are not held up; SQLite's write lock (IMMEDIATE transactions) already serialises writers."""
    Region.objects.select_for_update(no_key=True).filter(pk=code).exists()


def saved_or_duplicate(child: Child, *, village_code: str) -> None:
    """Save a new or changed file; losing a race on the unique ID-number index (a registration of the
    same ID number committed between our check and our write) is the duplicate it is, never a 500."""
    try:
        with transaction.atomic():
            child.save()
    except IntegrityError:
        dup = find_duplicate(
            id_number=child.id_number,
            name=child.name,
            birth_date=child.birth_date,
            village_code=village_code,
            exclude=child.pk if not child._state.adding else None,
        )
        if dup is None:
            raise
        raise DuplicateChild(dup) from None


def find_duplicate(
    *, id_number: str | None, name: str, birth_date: date, village_code: str, exclude: Any = None
) -> Child | None:
    """R1.7: same ID number; or, without one, a similar name with the same birth date and village."""
    qs = Child.objects.select_related("village")
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if id_number:
        return qs.filter(id_number_index=blind_index("id", id_number)).first()
    for candidate in qs.filter(birth_date=birth_date, village_id=village_code):
        if similar_names(name, candidate.name):
            return candidate
    return None


# --- searches by ID number or phone ------------------------------------------------------------------

SEARCH_KIND = "search"


def search_budget_message() -> str:
    return _("今天按证件号码或电话查找的次数已用完，请明天再试；紧急情况请联系乡镇（街道）儿童督导员。")


def charge_identifier_search(user: Any, query: str, *, ip: str | None = None) -> str | None:
    """A search by ID number or phone is an identifier look-up (R11.3) when the reader cannot see in
    full the identifiers of every file the search can reach: it is logged and counted against
    `identifier_lookups_per_day`. Returns the refusal message once the day's look-ups are used up."""
    acc = access_of(user)
    if acc.holding("child.view").within(acc.holding(group_capability("identifiers"))):
        return None
    if lookups_left(user, SEARCH_KIND) <= 0:
        return search_budget_message()
    record_lookup(user=user, kind=SEARCH_KIND, query=query, ip=ip)
    return None
