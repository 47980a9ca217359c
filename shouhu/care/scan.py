"""Scan step of the care module (R2, R3; `run_scan`): as of a moment, set-based, idempotent.

A constant number of queries whatever the county's size: one read of the children, one aggregate each
for contacts, meetings, visits, agreements and admonitions, one read of role assignments; then
`sync_alerts` per kind (opens the missing alerts, resolves the cleared ones with the time) and one
upsert of the compliance history. Only facts up to `at` are read (contacts, visits, children on file,
role assignments active at `at`), so a past moment gives the same answer whenever it is scanned.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.care import notify, rules, selectors
from shouhu.care.alerts import AlertSpec, _event, sync_alerts
from shouhu.care.hooks import unattended_message
from shouhu.care.models import Admonition, Alert, AlertKind, Compliance, ParentContact, Visit
from shouhu.care.services import admonition_message
from shouhu.core.events import record_events
from shouhu.core.models import Region
from shouhu.core.policy import param
from shouhu.registry.models import Agreement, Child
from shouhu.registry.rules import anniversary

# A compliance row before it is stored: (child id, period, start, end, label, met, count).
Row = tuple[Any, str, Any, Any, str, bool, int]


def _children(at: datetime, villages: list[str] | None = None) -> list[tuple[Any, ...]]:
    qs = Child.objects.filter(created_at__lte=at)
    if villages is not None:
        qs = qs.filter(village_id__in=villages)
    return list(
        qs.values_list(
            "id",
            "name",
            "village_id",
            "lb_status",
            "key_target",
            "guardianship_rating",
            "created_at",
            "care_arrangement",
            "birth_date",
        ).order_by()
    )


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
    msg_contact = _("%(name)s：上周（%(w)s）至今父母未与孩子电话、视频或见面联系")
    msg_meeting = _("%(name)s：本学期（%(t)s）父母尚未与孩子见面")
    msg_visit = _("%(name)s：应于 %(d)s 前走访（每 %(n)d 天），已逾期")
    msg_agreement = _("%(name)s：委托监护协议已到期，请指导父母续签或重新确定受委托监护人")
    msg_village = _("%(v)s：村（居）委会尚未落实儿童主任（专兼职工作者）")
    by_child = {"child__village_id__in": villages} if villages is not None else {}
    summary: dict[str, Any] = {"children": len(children)}
    wanted: dict[str, list[AlertSpec]] = defaultdict(list)

    def spec(cid: Any, village: str, message: str, assignee: int | None = None) -> AlertSpec:
        return AlertSpec(
            key=f"child:{cid}",
            region_id=village,
            message=message[:300],
            child_id=cid,
            assignee_id=assignee if assignee is not None else selectors.assignee_for(village, workers, sups),
        )

    # --- weekly contact (R2.1, R2.4: every channel and facilitator counts) --------------------------
    counts = {
        r["child_id"]: (r["prev"], r["this"])
        for r in ParentContact.objects.filter(occurred_at__gte=prev_week, occurred_at__lte=at, **by_child)
        .values("child_id")
        .annotate(
            prev=Count("id", filter=Q(occurred_at__lt=this_week)),
            this=Count("id", filter=Q(occurred_at__gte=this_week)),
        )
        .order_by()
    }
    prev_label = rules.week_label(ws - timedelta(days=7))
    week_rows: list[Row] = []
    week_from, week_to = ws - timedelta(days=7), ws - timedelta(days=1)
    for cid, name, village, lb, _kt, _rating, created, _care, _birth in children:
        if not lb:
            continue
        prev_n, this_n = counts.get(cid, (0, 0))
        on_file = created <= prev_week
        if on_file:
            week_rows.append((cid, "week", week_from, week_to, prev_label, prev_n > 0, prev_n))
        if rules.contact_overdue(prev_n, this_n, on_file):
            wanted[AlertKind.CONTACT_OVERDUE].append(
                spec(
                    cid,
                    village,
                    msg_contact % {"name": name, "w": prev_label},
                )
            )

    # --- semester meeting (R2.1) --------------------------------------------------------------------
    term, in_term = rules.reference_term(selectors.terms_around(today), today)
    sem_rows: list[Row] = []
    if term is not None:
        t_start = rules.local_midnight(term.start, tz)
        t_end = min(rules.local_midnight(term.end + timedelta(days=1), tz), at)
        met = {
            r["child_id"]: r["n"]
            for r in ParentContact.objects.filter(
                channel="in_person", occurred_at__gte=t_start, occurred_at__lte=t_end, **by_child
            )
            .values("child_id")
            .annotate(n=Count("id"))
            .order_by()
        }
        warn = int(param("meeting_warning_days"))
        for cid, name, village, lb, _kt, _rating, created, _care, _birth in children:
            if not lb or created > t_start + timedelta(days=30):
                continue  # on file for (almost) the whole semester, else the duty is not yet measurable
            n = met.get(cid, 0)
            if not in_term:
                sem_rows.append((cid, "semester", term.start, term.end, term.label, n > 0, n))
            if rules.meeting_overdue(term, in_term, today, n > 0, warn):
                wanted[AlertKind.MEETING_OVERDUE].append(
                    spec(
                        cid,
                        village,
                        msg_meeting % {"name": name, "t": term.label},
                    )
                )

    # --- visits due (R3.1, R3.2) -------------------------------------------------------------------
    last = dict(
        Visit.objects.filter(occurred_at__lte=at, **by_child)
        .values("child_id")
        .annotate(m=Max("occurred_at"))
        .values_list("child_id", "m")
        .order_by()
    )
    intervals, kt_days = param("visit_interval_days"), param("visit_interval_key_target_days")
    for cid, name, village, _lb, key_target, rating, created, _care, _birth in children:
        interval = rules.visit_interval(rating, key_target, intervals, kt_days)
        lv = last.get(cid)
        due = rules.next_visit_due(
            timezone.localdate(lv, tz) if lv else None, timezone.localdate(created, tz), interval
        )
        if due < today:
            wanted[AlertKind.VISIT_OVERDUE].append(
                spec(
                    cid,
                    village,
                    msg_visit % {"name": name, "d": due.isoformat(), "n": interval},
                )
            )

    # --- unattended (R2.2; the file's hook raised it at once, the scan keeps it true: age-outs) ------
    limit = int(param("left_behind_age_limit"))
    for cid, name, village, *_r, care, birth in children:
        if care == "unattended" and today <= anniversary(birth, limit):
            wanted[AlertKind.UNATTENDED].append(spec(cid, village, unattended_message(name)))

    # --- agreements expired (R1.4) -------------------------------------------------------------------
    expired = set(
        Agreement.objects.filter(valid_from__lte=today, created_at__lte=at, **by_child)
        .values("child_id")
        .annotate(m=Max("valid_to"))
        .filter(m__lt=today)
        .values_list("child_id", flat=True)
        .order_by()
    )
    for cid, name, village, lb, *_r in children:
        if lb and cid in expired:
            wanted[AlertKind.AGREEMENT_EXPIRED].append(
                spec(
                    cid,
                    village,
                    msg_agreement % {"name": name},
                )
            )

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
    for cid, name, village, *_r in children:
        r = adm.get(cid)
        if r and rules.admonitions_escalate(r["n"], r["serious"] > 0, threshold):
            wanted[AlertKind.GUARDIAN_ADMONISHED].append(
                spec(cid, village, admonition_message(name, r["n"]), assignee=sups.get(village[:9]))
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
    stored: dict[tuple[Any, str, Any], tuple[bool, int]] = {}
    for period, start in periods:
        for cid, met, count in Compliance.objects.filter(period=period, period_start=start).values_list(
            "child_id", "met", "count"
        ):
            stored[(cid, period, start)] = (met, count)
    for cid, period, start, end, label, met, count in rows:
        if stored.get((cid, period, start)) != (met, count):
            changed.append(
                Compliance(
                    child_id=cid,
                    period=period,
                    period_start=start,
                    period_end=end,
                    label=label,
                    met=met,
                    count=count,
                )
            )
    Compliance.objects.bulk_create(
        changed,
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["child", "period", "period_start"],
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
