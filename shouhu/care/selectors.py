"""Reads of the care module, always starting from the user's scope (R11.1), plus the derived
responsibility map: who is each village's designated worker, who supervises each township.

Designated worker (R3.4, 三(二)): derived, not typed twice — the user holding an active role that
records village care work (`care.record`) on the village itself (the earliest-started one when there
are several); the township supervisor: the user supervising villages (`care.supervise`) on a township.
A village with none is flagged by the scan (`no_designated_worker`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from shouhu.care import rules
from shouhu.care.models import (
    Admonition,
    Alert,
    CareAssignment,
    Compliance,
    GuidanceSession,
    Notification,
    ParentContact,
    Semester,
    Visit,
)
from shouhu.core.access import access_of, prefix_q, restrict
from shouhu.core.capabilities import roles_with
from shouhu.core.models import Region, RegionKind, RoleAssignment
from shouhu.core.policy import param
from shouhu.registry.models import Child

VILLAGE_KINDS = (RegionKind.VILLAGE, RegionKind.COMMUNITY)
TOWNSHIP_KINDS = (RegionKind.SUBDISTRICT, RegionKind.TOWN, RegionKind.TOWNSHIP)


# --- responsibility ---------------------------------------------------------------------------------


def designated_workers(at: datetime) -> dict[str, int]:
    """village code → user id of its designated worker at `at` (one query)."""
    rows = (
        RoleAssignment.objects.active(at)
        .filter(role__in=roles_with("care.record"), region__kind__in=VILLAGE_KINDS, user__is_active=True)
        .order_by("starts_at", "id")
        .values_list("region_id", "user_id")
    )
    out: dict[str, int] = {}
    for code, uid in rows:
        out.setdefault(code, uid)
    return out


def supervisors(at: datetime) -> dict[str, int]:
    """township prefix (9 digits) → user id of its township supervisor at `at` (one query)."""
    rows = (
        RoleAssignment.objects.active(at)
        .filter(role__in=roles_with("care.supervise"), region__kind__in=TOWNSHIP_KINDS, user__is_active=True)
        .order_by("starts_at", "id")
        .values_list("region_id", "user_id")
    )
    out: dict[str, int] = {}
    for code, uid in rows:
        out.setdefault(code[:9], uid)
    return out


def assignee_for(village: str, workers: dict[str, int], sups: dict[str, int]) -> int | None:
    """The village's worker; without one, the township supervisor (nobody is left unassigned)."""
    return workers.get(village) or sups.get(village[:9])


def terms_around(on: date) -> list[rules.Term]:
    overrides = {
        (s.year, s.term): (s.starts_on, s.ends_on)
        for s in Semester.objects.filter(year__gte=on.year - 2, year__lte=on.year + 2)
    }
    return rules.calendar(
        range(on.year - 2, on.year + 2), param("semester_spring"), param("semester_autumn"), overrides
    )


# --- scoped reads -----------------------------------------------------------------------------------


def alerts_for(
    user: Any, *, child: Any = None, kind: str = "", open_only: bool | None = None
) -> QuerySet[Alert]:
    qs = Alert.objects.restrict(user, "alert.view").select_related(
        "assignee", "child", "region", "escalated_to"
    )
    if child is not None:
        qs = qs.filter(child_id=child)
    if kind:
        qs = qs.filter(kind=kind)
    if open_only is True:
        qs = qs.filter(resolved_at__isnull=True)
    elif open_only is False:
        qs = qs.filter(resolved_at__isnull=False)
    return (
        qs.order_by("resolved_at", "-opened_at", "-id")
        if open_only is None
        else qs.order_by("-opened_at", "-id")
    )


def contacts_of(user: Any, child: Child) -> QuerySet[ParentContact]:
    return (
        ParentContact.objects.restrict(user, "child.care").filter(child=child).select_related("recorded_by")
    )


def visits_of(user: Any, child: Child) -> QuerySet[Visit]:
    return (
        Visit.objects.restrict(user, "child.care").filter(child=child).select_related("recorded_by", "child")
    )


def child_care(user: Any, child: Child, at: datetime | None = None) -> dict[str, Any]:
    """What the child's care page shows: duty status this week and semester, next visit, coverage."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    tz = timezone.get_current_timezone()
    ws = rules.local_midnight(rules.week_start(today), tz)
    contacts = contacts_of(user, child)
    term, in_term = rules.reference_term(terms_around(today), today)
    met = (
        term is not None
        and contacts.filter(
            channel="in_person",
            occurred_at__gte=rules.local_midnight(term.start, tz),
            occurred_at__lte=at,
        ).exists()
    )
    last_visit = visits_of(user, child).filter(occurred_at__lte=at).aggregate(m=Max("occurred_at"))["m"]
    interval = rules.visit_interval(
        child.guardianship_rating,
        child.key_target,
        param("visit_interval_days"),
        param("visit_interval_key_target_days"),
    )
    due = rules.next_visit_due(
        timezone.localdate(last_visit) if last_visit else None, timezone.localdate(child.created_at), interval
    )
    return {
        "contacts_this_week": contacts.filter(occurred_at__gte=ws, occurred_at__lte=at).count(),
        "term": term,
        "in_term": in_term,
        "met_this_term": met,
        "last_visit": last_visit,
        "interval": interval,
        "next_due": due,
        "visit_overdue": due < today,
        "assignments": list(
            CareAssignment.objects.restrict(user, "child.care")
            .filter(child=child)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        ),
        "admonitions": list(Admonition.objects.restrict(user, "child.care").filter(child=child)),
        "compliance": list(Compliance.objects.restrict(user, "child.care").filter(child=child)[:20]),
        "alerts": list(alerts_for(user, child=child.pk)[:20]),
    }


def today_list(user: Any, at: datetime | None = None, limit: int = 200) -> dict[str, Any]:
    """The village worker's day (R2.1, R3.1), most urgent first: open alerts, visits overdue or due within
    a week, children with no parent contact this week. A constant number of queries."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    tz = timezone.get_current_timezone()
    ws = rules.local_midnight(rules.week_start(today), tz)
    children = restrict(Child.objects.filter(state="active"), user, "care.record")
    intervals, kt_days = param("visit_interval_days"), param("visit_interval_key_target_days")
    limit_age = int(param("left_behind_age_limit"))
    rows = list(
        children.annotate(
            last_visit=Max("visits__occurred_at", filter=Q(visits__occurred_at__lte=at)),
        )
        .annotate(
            contacted=Exists(
                ParentContact.objects.filter(child=OuterRef("pk"), occurred_at__gte=ws, occurred_at__lte=at)
            )
        )
        .values(
            "id",
            "name",
            "village_id",
            "lb_status",
            "key_target",
            "guardianship_rating",
            "created_at",
            "last_visit",
            "contacted",
            "care_arrangement",
            "birth_date",
            "distress_categories",
        )
        .order_by("village_id", "name_pinyin")[:5000]
    )
    visits_due: list[dict[str, Any]] = []
    no_contact: list[dict[str, Any]] = []
    for values in rows:
        if not rules.visits_apply(  # the same files the scan alerts about (API.md)
            left_behind=values["lb_status"],
            distress=bool(values["distress_categories"]),
            unattended=values["care_arrangement"] == "unattended",
            birth=values["birth_date"],
            on=today,
            age_limit=limit_age,
        ):
            continue
        interval = rules.visit_interval(
            values["guardianship_rating"], values["key_target"], intervals, kt_days
        )
        last = timezone.localdate(values["last_visit"]) if values["last_visit"] else None
        due = rules.next_visit_due(last, timezone.localdate(values["created_at"]), interval)
        r: dict[str, Any] = {**values, "next_due": due, "days_late": (today - due).days}
        if due <= today + timedelta(days=7):
            visits_due.append(r)
        if r["lb_status"] and not r["contacted"]:
            no_contact.append(r)
    visits_due.sort(key=lambda r: (r["next_due"], r["name"]))
    alerts = list(alerts_for(user, open_only=True)[:limit])
    kind_rank = {"unattended": 0, "guardian_admonished": 1, "deadline_breached": 2, "visit_overdue": 3}
    alerts.sort(key=lambda a: (kind_rank.get(a.kind, 9), a.opened_at))
    return {
        "alerts": alerts,
        "visits_due": visits_due[:limit],
        "no_contact": no_contact[:limit],
        "today": today,
    }


def visit_figures(children: QuerySet[Child], at: datetime) -> dict[str, dict[str, int]]:
    """The one count of visits per village (issue 12 part 6): the villages page's coverage and the
    ledger's completeness both read it, so they count the same children the same way.

    - `children`: active files (archived files are off the ledger);
    - `due`: those visits apply to (left-behind, 困境儿童 under 18, unattended under 16; API.md);
    - `visited`: of `due`, visited within their interval (a visit that happened, not a file too new to
      be due);
    - `never_visited`: active files with no visit at all.
    """
    today = timezone.localdate(at)
    intervals, kt_days = param("visit_interval_days"), param("visit_interval_key_target_days")
    limit = int(param("left_behind_age_limit"))
    rows = (
        children.filter(state="active")
        .order_by()
        .annotate(last_visit=Max("visits__occurred_at", filter=Q(visits__occurred_at__lte=at)))
        .values_list(
            "village_id",
            "lb_status",
            "key_target",
            "guardianship_rating",
            "care_arrangement",
            "birth_date",
            "distress_categories",
            "last_visit",
        )
    )
    out: dict[str, dict[str, int]] = {}
    for village, lb, kt, rating, care, birth, distress, last in rows.iterator(chunk_size=5000):
        f = out.setdefault(village, {"children": 0, "due": 0, "visited": 0, "never_visited": 0})
        f["children"] += 1
        f["never_visited"] += int(last is None)
        if not rules.visits_apply(
            left_behind=lb,
            distress=bool(distress),
            unattended=care == "unattended",
            birth=birth,
            on=today,
            age_limit=limit,
        ):
            continue
        f["due"] += 1
        interval = rules.visit_interval(rating, kt, intervals, kt_days)
        if last is not None and timezone.localdate(last) + timedelta(days=interval) >= today:
            f["visited"] += 1
    return out


def village_summary(user: Any, at: datetime | None = None) -> list[dict[str, Any]]:
    """Per village in the user's scope (R3.3, R3.4): children, contact compliance this week, visits
    within their interval, children nobody is assigned to, the designated worker. Constant queries."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    tz = timezone.get_current_timezone()
    ws = rules.local_midnight(rules.week_start(today), tz)
    villages = list(
        Region.objects.filter(
            prefix_q("code", access_of(user).prefixes("care.supervise")), kind__in=VILLAGE_KINDS
        )
        .select_related("parent")
        .order_by("code")
    )
    workers = designated_workers(at)
    from shouhu.core.models import User

    names = {u.pk: str(u) for u in User.objects.filter(pk__in=set(workers.values()))}
    scope = restrict(Child.objects.filter(state="active"), user, "care.supervise")
    visits = visit_figures(scope, at)
    rows = (
        scope.annotate(
            contacted=Exists(
                ParentContact.objects.filter(child=OuterRef("pk"), occurred_at__gte=ws, occurred_at__lte=at)
            ),
            covered=Exists(
                CareAssignment.objects.filter(child=OuterRef("pk"), starts_on__lte=today).filter(
                    Q(ends_on__isnull=True) | Q(ends_on__gte=today)
                )
            ),
        )
        .order_by()
        .values("village_id", "lb_status", "contacted", "covered")
    )
    stats: dict[str, dict[str, int]] = {}
    empty = {
        "children": 0,
        "lb": 0,
        "contacted": 0,
        "due": 0,
        "visited": 0,
        "never_visited": 0,
        "unassigned": 0,
    }
    for r in rows.iterator(chunk_size=5000):
        s = stats.setdefault(r["village_id"], {**empty, **visits.get(r["village_id"], {})})
        if r["lb_status"]:
            s["lb"] += 1
            s["contacted"] += int(r["contacted"])
        s["unassigned"] += int(not r["covered"])
    out = []
    for v in villages:
        s = stats.get(v.code, dict(empty))
        out.append(
            {
                "village": v,
                "worker": names.get(workers.get(v.code, 0), ""),
                **s,
                "contact_rate": round(100 * s["contacted"] / s["lb"]) if s["lb"] else None,
                "visit_rate": round(100 * s["visited"] / s["due"]) if s["due"] else None,
            }
        )
    return out


def unassigned_children(user: Any, today: date | None = None) -> QuerySet[Child]:
    """R3.3: children in scope with no current care assignment."""
    today = today or timezone.localdate()
    current = CareAssignment.objects.filter(child=OuterRef("pk"), starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    return (
        restrict(Child.objects.all(), user, "care.supervise")
        .filter(~Exists(current))
        .select_related("village")
        .order_by("village_id", "name_pinyin")
    )


def sessions_for(user: Any) -> QuerySet[GuidanceSession]:
    return (
        GuidanceSession.objects.restrict(user, "care.record")
        .select_related("village")
        .annotate(n_children=Count("children"))
    )


def unread_notifications(user: Any) -> QuerySet[Notification]:
    """The user's unread messages, about alerts still in their scope (a moved worker sees no old village)."""
    return (
        Notification.objects.filter(user=user, read_at__isnull=True)
        .filter(alert__in=Alert.objects.restrict(user, "alert.view"))
        .select_related("alert")
    )
