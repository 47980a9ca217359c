"""Reads of the schooling module: every one starts from `restrict` (the user's reach), set-based (one
query per list, SQL aggregation for the per-school figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from shouhu.core.access import prefix_q, restrict
from shouhu.core.models import Organisation, Region
from shouhu.core.policy import param
from shouhu.registry.models import Child
from shouhu.schooling import rules
from shouhu.schooling.models import DropoutCase, DropoutState, Enrolment, Match, Pairing


def enrolments(user: Any, action: str = "roster.view") -> QuerySet[Enrolment]:
    return restrict(Enrolment.objects.select_related("child", "school"), user, action)


def current(qs: QuerySet[Enrolment]) -> QuerySet[Enrolment]:
    return qs.filter(until__isnull=True)


def classes(user: Any, action: str = "attendance.record") -> list[dict[str, Any]]:
    """The classes of the schools the user takes attendance in: school, grade, class and pupil count."""
    rows = (
        current(restrict(Enrolment.objects.all(), user, action))
        .values("school_id", "school__name", "grade", "class_name")
        .annotate(pupils=Count("id"))
        .order_by("school__name", "grade", "class_name")
    )
    return [dict(r) for r in rows]


def class_list(user: Any, school_id: Any, grade: str, class_name: str) -> list[Enrolment]:
    return list(
        current(restrict(Enrolment.objects.select_related("child", "school"), user, "attendance.record"))
        .filter(school_id=school_id, grade=grade, class_name=class_name)
        .order_by("student_number", "name", "id")
    )


def dropouts(user: Any) -> QuerySet[DropoutCase]:
    return restrict(
        DropoutCase.objects.select_related("child__village", "school", "enrolment"), user, "dropout.view"
    )


def school_age_range() -> tuple[int, int]:
    low, high = param("school_age_range")
    return int(low), int(high)


def birth_window(on: date, age_range: tuple[int, int]) -> tuple[date, date]:
    """Birth dates of children aged low..high full years on `on` (both ends included)."""
    low, high = age_range
    latest = _years_before(on, low)
    earliest = date.fromordinal(_years_before(on, high + 1).toordinal() + 1)
    return earliest, latest


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


@dataclass
class Census:
    """The two work lists of R1.10 for a region (or a school's pupils)."""

    missing_from_ledger: list[Enrolment]  # on a roster, marked left-behind by the school, not in the ledger
    not_on_roster: list[Child]  # in the ledger, of school age, on no school's roster: possible dropouts


def census(user: Any, *, on: date, region: str | None = None, limit: int = 500) -> Census:
    """R1.10: roster pupils marked left-behind who are missing from the ledger (candidates for
    screening), and ledger children of school age on no roster (possible dropouts)."""
    missing = current(
        restrict(Enrolment.objects.select_related("school", "village", "candidate"), user, "census.view")
    )
    missing = missing.filter(Q(child__isnull=True) | Q(match=Match.PENDING)).filter(roster_left_behind=True)
    kids = restrict(Child.objects.select_related("village"), user, "census.view")
    earliest, latest = birth_window(on, school_age_range())
    enrolled = Enrolment.objects.filter(child=OuterRef("pk"), until__isnull=True)
    kids = kids.filter(birth_date__gte=earliest, birth_date__lte=latest).exclude(Exists(enrolled))
    if region:
        missing = missing.filter(prefix_q("village__pk", [region]))
        kids = kids.filter(prefix_q("village__pk", [region]))
    return Census(
        list(missing.order_by("village_id", "name")[:limit]),
        list(kids.order_by("village_id", "name")[:limit]),
    )


def census_counts(villages: list[str], on: date) -> dict[str, int]:
    """Per village: the entries of the two census work lists (R1.10) — roster pupils marked left-behind
    missing from the ledger, and ledger children of school age on no roster. Figures for the ledger's
    completeness (no names); two GROUP BY queries whatever the number of villages."""
    earliest, latest = birth_window(on, school_age_range())
    out: dict[str, int] = dict.fromkeys(villages, 0)
    missing = (
        Enrolment.objects.filter(
            until__isnull=True, roster_left_behind=True, child__isnull=True, village_id__in=villages
        )
        .values("village_id")
        .annotate(n=Count("id"))
    )
    kids = (
        Child.objects.filter(village_id__in=villages, birth_date__gte=earliest, birth_date__lte=latest)
        .exclude(Exists(Enrolment.objects.filter(child=OuterRef("pk"), until__isnull=True)))
        .values("village_id")
        .annotate(n=Count("pk"))
    )
    for row in [*missing, *kids]:
        out[row["village_id"]] = out.get(row["village_id"], 0) + row["n"]
    return out


def oversight(user: Any, *, on: date) -> list[dict[str, Any]]:
    """The education commission's view per school (R4, issue 13 part 7): left-behind pupils enrolled
    and marked in the 学籍, dropout cases open and closed, returns, time-limit performance, pairing
    coverage. Figures only, from the rows the user reaches with `schooling.oversee`."""
    from shouhu.schooling.dropout import deadlines

    pair = Pairing.objects.filter(child=OuterRef("child_id"), ends_on__isnull=True)
    enrol = current(restrict(Enrolment.objects.all(), user, "schooling.oversee")).annotate(
        has_pair=Exists(pair)
    )
    by_school: dict[int, dict[str, Any]] = {}
    for row in enrol.values("school_id").annotate(
        pupils=Count("id"),
        left_behind=Count("id", filter=Q(child__lb_status=True)),
        marked=Count("id", filter=Q(child__lb_status=True, roster_left_behind=True)),
        not_on_ledger=Count("id", filter=Q(child__isnull=True)),
        paired=Count("id", filter=Q(child__lb_status=True, has_pair=True)),
    ):
        by_school[row["school_id"]] = {**row, "open": 0, "closed": 0, "returned": 0, "met": 0, "missed": 0}
    cases = restrict(DropoutCase.objects.prefetch_related("steps"), user, "schooling.oversee")
    for case in cases:
        r = by_school.setdefault(
            case.school_id,
            {
                "school_id": case.school_id,
                "pupils": 0,
                "left_behind": 0,
                "marked": 0,
                "not_on_ledger": 0,
                "open": 0,
                "closed": 0,
                "returned": 0,
                "met": 0,
                "missed": 0,
                "paired": 0,
            },
        )
        r["closed" if case.closed_at else "open"] += 1
        r["returned"] += case.state == DropoutState.RETURNED
        for d in deadlines(case):
            r["met"] += d.met is True
            r["missed"] += d.met is False
    names = dict(Organisation.objects.filter(pk__in=list(by_school)).values_list("pk", "name"))
    regions = dict(Organisation.objects.filter(pk__in=list(by_school)).values_list("pk", "region__name"))
    out = []
    for pk, r in sorted(by_school.items(), key=lambda kv: names.get(kv[0], "")):
        lb = r["left_behind"]
        out.append(
            {
                **r,
                "school": names.get(pk, ""),
                "township": regions.get(pk, ""),
                "coverage": (r["paired"] / lb) if lb else None,
            }
        )
    return out


def unpaired(user: Any) -> QuerySet[Enrolment]:
    """Left-behind pupils of the user's schools with no current pairing (R4.3)."""
    paired = Pairing.objects.filter(child=OuterRef("child_id"), ends_on__isnull=True)
    return (
        current(enrolments(user, "school.care"))
        .filter(child__lb_status=True)
        .exclude(Exists(paired))
        .order_by("grade", "class_name", "name")
    )


def mark_rows(user: Any) -> list[dict[str, Any]]:
    """The left-behind mark of each current pupil, derived from the ledger (R4.1), for pasting back
    into the 学籍 system."""
    rows = []
    for e in current(enrolments(user, "roster.edit")).order_by("grade", "class_name", "name"):
        rows.append(
            {
                "student_number": e.student_number,
                "name": e.name,
                "grade": e.grade,
                "class_name": e.class_name,
                "mark": rules.left_behind_mark(e.child.lb_status if e.child else None),
            }
        )
    return rows


def village_names(codes: list[str]) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
