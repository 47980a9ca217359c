"""Scan step of the care module (R2, R3; `run_scan`): as of a moment, set-based, idempotent.

A constant number of queries whatever the county's size: one read of the children, one aggregate each
for contacts, meetings, visits, agreements and admonitions, one read of role assignments; then
`sync_alerts` per kind (opens the missing alerts, resolves the cleared ones with the time) and one
upsert of the compliance history. Only facts up to `at` are read (contacts, visits, children on file,
role assignments active at `at`), so a past moment gives the same answer whenever it is scanned.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.care import duties, notify, rules, selectors
from shouhu.care.alerts import AlertSpec, _event, sync_alerts
from shouhu.care.hooks import unattended_message
from shouhu.care.models import Admonition, Alert, AlertKind, Compliance, ParentContact, Visit
from shouhu.care.services import admonition_message
from shouhu.core.events import record_events
from shouhu.core.models import Region
from shouhu.core.policy import param
from shouhu.registry.models import Child, FileState, Parent
from shouhu.registry.rules import anniversary

# A compliance row before it is stored: (child id, period, start, end, label, parent, met, count).
Row = tuple[Any, str, Any, Any, str, str, bool, int]


class Kid(NamedTuple):
    """One active file as the scan reads it (one query for the county)."""

    id: Any
    name: str
    village: str
    lb: bool
    key_target: bool
    rating: str
    created: datetime
    care: str
    birth: date
    lb_since: date | None
    distress: list[str]


def _children(at: datetime, villages: list[str] | None = None) -> list[Kid]:
    """Active files only (API.md: archived files raise no alerts)."""
    qs = Child.objects.filter(created_at__lte=at, state=FileState.ACTIVE)
    if villages is not None:
        qs = qs.filter(village_id__in=villages)
    return [
        Kid(*row)
        for row in qs.values_list(
            "id",
            "name",
            "village_id",
            "lb_status",
            "key_target",
            "guardianship_rating",
            "created_at",
            "care_arrangement",
            "birth_date",
            "lb_since",
            "distress_categories",
        ).order_by()
    ]


@transaction.atomic
def run(at: datetime) -> dict[str, Any]:
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    workers, sups = selectors.designated_workers(at), selectors.supervisors(at)
    wanted, rows, summary = compute(at, workers, sups)
    return apply(at, wanted, rows, summary, sups)


def compute(
    at: datetime, workers: dict[str, int], sups: dict[str, int], villages: list[str] | None = None
) -> tuple[dict[str, list[AlertSpec]], list[Row], dict[str, Any]]:
    """What should be open as of `at`, and the compliance rows of the completed periods; reads only.
    `villages` limits the children considered (the benchmark compares this with a per-child loop)."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(at)
    ws = rules.week_start(today)
    this_week = rules.local_midnight(ws, tz)
    prev_week = rules.local_midnight(ws - timedelta(days=7), tz)
    children = _children(at, villages)
    # Messages translated once, formatted per child (gettext per row costs seconds at 100,000 children).
    msg_contact = _("%(name)s：上周（%(w)s）至今%(p)s未与孩子电话、视频或见面联系")
    msg_meeting = _("%(name)s：%(t)s学期（含其后假期）父母尚未与孩子见面")
    msg_visit = _("%(name)s：应于 %(d)s 前走访（每 %(n)d 天），已逾期")
    msg_village = _("%(v)s：村（居）委会尚未落实儿童主任（专兼职工作者）")
    by_child = {"child__village_id__in": villages} if villages is not None else {}
    summary: dict[str, Any] = {"children": len(children)}
    wanted: dict[str, list[AlertSpec]] = defaultdict(list)

    def spec(
        kid: Kid, message: str, assignee: int | None = None, key: str = "", parent: str = ""
    ) -> AlertSpec:
        return AlertSpec(
            key=key or f"child:{kid.id}",
            region_id=kid.village,
            message=message[:300],
            child_id=kid.id,
            assignee_id=assignee
            if assignee is not None
            else selectors.assignee_for(kid.village, workers, sups),
            parent=parent,
        )

    # --- weekly contact, per migrant parent (R2.1, R2.4: every channel and facilitator counts) ------
    lb_kids = {k.id: k for k in children if k.lb}
    week_from, week_to = ws - timedelta(days=7), ws - timedelta(days=1)
    migrants = [
        (cid, rel, since)
        for cid, rel, since in Parent.objects.filter(
            child__state=FileState.ACTIVE, child__lb_status=True, away_for_work=True, deceased=False
        )
        .filter(Q(away_since__isnull=True) | Q(away_since__lte=week_from))
        .values_list("child_id", "relation", "away_since")
        .order_by()
        if cid in lb_kids
    ]
    counts = {
        (r["child_id"], r["parent"]): (r["prev"], r["this"])
        for r in ParentContact.objects.filter(occurred_at__gte=prev_week, occurred_at__lte=at, **by_child)
        .values("child_id", "parent")
        .annotate(
            prev=Count("id", filter=Q(occurred_at__lt=this_week)),
            this=Count("id", filter=Q(occurred_at__gte=this_week)),
        )
        .order_by()
    }
    prev_label = rules.week_label(ws - timedelta(days=7))
    week_rows: list[Row] = []
    parent_label = {"father": _("父亲"), "mother": _("母亲")}
    for cid, rel, _since in migrants:
        kid = lb_kids[cid]
        prev_n, this_n = counts.get((cid, rel), (0, 0))
        on_file = kid.created <= prev_week
        if on_file:
            week_rows.append((cid, "week", week_from, week_to, prev_label, rel, prev_n > 0, prev_n))
        if rules.contact_overdue(prev_n, this_n, on_file):
            wanted[AlertKind.CONTACT_OVERDUE].append(
                spec(
                    kid,
                    msg_contact % {"name": kid.name, "w": prev_label, "p": parent_label[rel]},
                    key=f"child:{cid}:{rel}",
                    parent=rel,
                )
            )

    # --- semester meeting, a break counting as policy says (R2.1) -----------------------------------
    windows = rules.meeting_windows(selectors.terms_around(today), str(param("meeting_break_counts_for")))
    warn = int(param("meeting_warning_days"))
    sem_rows: list[Row] = []
    closed = rules.last_closed_window(windows, today)
    current = rules.warning_window(windows, today, warn)

    def met_in(w: rules.MeetingWindow) -> dict[Any, int]:
        w_start = rules.local_midnight(w.start, tz)
        w_end = min(rules.local_midnight(w.end + timedelta(days=1), tz), at)
        return {
            r["child_id"]: r["n"]
            for r in ParentContact.objects.filter(
                channel="in_person", occurred_at__gte=w_start, occurred_at__lt=w_end, **by_child
            )
            .values("child_id")
            .annotate(n=Count("id"))
            .order_by()
        }

    def measurable(kid: Kid, w: rules.MeetingWindow) -> bool:
        # on file (and left-behind) for (almost) the whole term, else the duty is not yet measurable
        start = rules.local_midnight(w.term.start, tz)
        since = rules.local_midnight(kid.lb_since, tz) if kid.lb_since else kid.created
        return kid.created <= start + timedelta(days=30) and since <= start + timedelta(days=30)

    overdue: dict[Any, rules.MeetingWindow] = {}
    if closed is not None:
        met = met_in(closed)
        for kid in lb_kids.values():
            if not measurable(kid, closed):
                continue
            n = met.get(kid.id, 0)
            sem_rows.append(
                (kid.id, "semester", closed.term.start, closed.term.end, closed.term.label, "", n > 0, n)
            )
            if n == 0:
                overdue[kid.id] = closed
    if current is not None:
        met = met_in(current)
        for kid in lb_kids.values():
            if kid.id not in overdue and measurable(kid, current) and not met.get(kid.id):
                overdue[kid.id] = current
    for cid, w in overdue.items():
        kid = lb_kids[cid]
        wanted[AlertKind.MEETING_OVERDUE].append(
            spec(kid, msg_meeting % {"name": kid.name, "t": w.term.label})
        )

    # --- visits due, for the files they apply to (R3.1, R3.2; API.md) -------------------------------
    last = dict(
        Visit.objects.filter(occurred_at__lte=at, **by_child)
        .values("child_id")
        .annotate(m=Max("occurred_at"))
        .values_list("child_id", "m")
        .order_by()
    )
    intervals, kt_days = param("visit_interval_days"), param("visit_interval_key_target_days")
    limit = int(param("left_behind_age_limit"))
    for kid in children:
        if not rules.visits_apply(
            left_behind=kid.lb,
            distress=bool(kid.distress),
            unattended=kid.care == "unattended",
            birth=kid.birth,
            on=today,
            age_limit=limit,
        ):
            continue
        interval = rules.visit_interval(kid.rating, kid.key_target, intervals, kt_days)
        lv = last.get(kid.id)
        due = rules.next_visit_due(
            timezone.localdate(lv, tz) if lv else None, timezone.localdate(kid.created, tz), interval
        )
        if due < today:
            wanted[AlertKind.VISIT_OVERDUE].append(
                spec(kid, msg_visit % {"name": kid.name, "d": due.isoformat(), "n": interval})
            )

    # --- unattended (R2.2; the file's hook raised it at once, the scan keeps it true: age-outs) ------
    for kid in children:
        if kid.care == "unattended" and today <= anniversary(kid.birth, limit):
            wanted[AlertKind.UNATTENDED].append(spec(kid, unattended_message(kid.name)))

    # --- agreements, household plans, coverage, files to archive (R1.4, R1.5, R3.3, R1.11) ----------
    duties.compute(at, children, wanted, spec, by_child)

    # --- repeated admonitions (R2.3) ---------------------------------------------------------------
    window = at - timedelta(days=int(param("admonition_window_days")))
    threshold = int(param("admonitions_before_escalation"))
    adm = {
        r["child_id"]: r
        for r in Admonition.objects.filter(occurred_at__gt=window, occurred_at__lte=at, **by_child)
        .values("child_id")
        .annotate(n=Count("id"), serious=Count("id", filter=Q(serious=True)))
        .order_by()
    }
    for kid in children:
        r = adm.get(kid.id)
        if r and rules.admonitions_escalate(r["n"], r["serious"] > 0, threshold):
            wanted[AlertKind.GUARDIAN_ADMONISHED].append(
                spec(kid, admonition_message(kid.name, r["n"]), assignee=sups.get(kid.village[:9]))
            )

    # --- villages without a designated worker (R3.4) -------------------------------------------------
    regions = Region.objects.filter(kind__in=selectors.VILLAGE_KINDS, valid_from__lte=today).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=today)
    )
    if villages is not None:
        regions = regions.filter(code__in=villages)
    for code, vname in regions.values_list("code", "name"):
        if code not in workers:
            wanted[AlertKind.NO_DESIGNATED_WORKER].append(
                AlertSpec(
                    key=f"village:{code}",
                    region_id=code,
                    assignee_id=sups.get(code[:9]),
                    message=msg_village % {"v": vname},
                )
            )

    return wanted, week_rows + sem_rows, summary


def apply(
    at: datetime,
    wanted: dict[str, list[AlertSpec]],
    rows: list[Row],
    summary: dict[str, Any],
    sups: dict[str, int],
) -> dict[str, Any]:
    # --- sync every kind, then notify what opened -----------------------------------------------------
    opened = resolved = 0
    for kind in (
        AlertKind.CONTACT_OVERDUE,
        AlertKind.MEETING_OVERDUE,
        AlertKind.VISIT_OVERDUE,
        AlertKind.UNATTENDED,
        AlertKind.AGREEMENT_EXPIRED,
        AlertKind.AGREEMENT_MISSING,
        AlertKind.AGREEMENT_EXPIRING,
        AlertKind.PLAN_OVERDUE,
        AlertKind.CARE_UNCOVERED,
        AlertKind.ARCHIVE_DUE,
        AlertKind.GUARDIAN_ADMONISHED,
        AlertKind.NO_DESIGNATED_WORKER,
    ):
        o, r = sync_alerts(kind=kind, wanted=wanted.get(kind, []), at=at)
        summary[str(kind)] = {"open": len(wanted.get(kind, [])), "opened": o, "resolved": r}
        opened, resolved = opened + o, resolved + r
    new_ids = Alert.objects.filter(opened_at=at, resolved_at__isnull=True).values_list("pk", flat=True)
    summary["notified"] = notify.notify(list(new_ids), reason="opened", at=at)

    # --- compliance history (kept): write only rows that are new or changed (a late-logged call) -----
    summary["compliance_rows"] = save_compliance(rows)

    # --- escalation of alerts not handled in time ---------------------------------------------------
    summary["escalated"] = escalate(at, sups)
    summary["opened"], summary["resolved"] = opened, resolved
    return summary


def save_compliance(rows: list[Row]) -> int:
    """Upsert the completed periods' rows, reading first what is stored (one query per period) so that a
    daily scan rewrites nothing that has not changed."""
    changed: list[Compliance] = []
    periods = {(r[1], r[2]) for r in rows}
    stored: dict[tuple[Any, str, Any, str], tuple[bool, int]] = {}
    for period, start in periods:
        for cid, parent, met, count in Compliance.objects.filter(
            period=period, period_start=start
        ).values_list("child_id", "parent", "met", "count"):
            stored[(cid, period, start, parent)] = (met, count)
    for cid, period, start, end, label, parent, met, count in rows:
        if stored.get((cid, period, start, parent)) != (met, count):
            changed.append(
                Compliance(
                    child_id=cid,
                    period=period,
                    period_start=start,
                    period_end=end,
                    label=label,
                    parent=parent,
                    met=met,
                    count=count,
                )
            )
    Compliance.objects.bulk_create(
        changed,
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["child", "period", "period_start", "parent"],
        update_fields=["met", "count", "period_end", "label"],
    )
    return len(changed)


def escalate(at: datetime, sups: dict[str, int]) -> int:
    """Open alerts older than `alert_escalation_hours` go up to the township supervisor (once)."""
    cutoff = at - timedelta(hours=float(param("alert_escalation_hours")))
    due = list(
        Alert.objects.filter(resolved_at__isnull=True, escalated_at__isnull=True, opened_at__lte=cutoff)
        .values_list("pk", "region_id")
        .order_by()
    )
    if not due:
        return 0
    by_sup: dict[int | None, list[int]] = defaultdict(list)
    for pk, region in due:
        by_sup[sups.get(region[:9])].append(pk)
    for sup, ids in by_sup.items():
        for i in range(0, len(ids), 5000):
            Alert.objects.filter(pk__in=ids[i : i + 5000]).update(escalated_at=at, escalated_to_id=sup)
    ids = [pk for pk, _r in due]
    events = []
    msg = _("预警逾期未处理，已上报乡镇：%(m)s")
    for i in range(0, len(ids), 5000):
        for a in Alert.objects.filter(pk__in=ids[i : i + 5000]).only(
            "pk", "kind", "key", "message", "child_id", "region_id"
        ):
            events.append(_event(a, "alert.escalated", msg % {"m": a.message}, at))
    record_events(events)
    notify.notify(ids, reason="escalated", at=at)
    return len(ids)
