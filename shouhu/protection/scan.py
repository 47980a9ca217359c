"""The protection step of `run_scan` (R5.3, R6.6): time limits of open cases, late and missed reports.

- a step past its time limit and not done opens one `deadline_breached` alert (key
  "case:<id>:<cycle>:<step>"), resolved when the step is done;
- every missed time limit (done late or still overdue) is one accountability record against the unit
  that held the case for that step (the station, or the township government);
- a mandated report made later than the limit after discovery, and a finding with no report within
  the limit, are accountability records against the reporting unit.

Idempotent for the same moment (unique keys, sync of alerts) and set-based: a handful of queries
whatever the number of cases.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.care.alerts import AlertSpec, sync_alerts
from shouhu.care.models import Alert, AlertKind
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import Organisation, OrganisationKind
from shouhu.core.policy import param
from shouhu.protection import rules, selectors
from shouhu.protection.models import (
    Accountability,
    AccountabilityKind,
    Case,
    CaseState,
    Finding,
    Report,
    Transition,
)
from shouhu.protection.workflow import TIMED, holder_of


@transaction.atomic
def run(at: datetime) -> dict[str, Any]:
    lims = selectors.limits()
    cases = list(
        Case.objects.filter(opened_at__lte=at)
        .exclude(state__in=[CaseState.CLOSED, CaseState.UNFOUNDED], closed_at__lte=at - timedelta(days=30))
        .select_related("village", "station")
        .prefetch_related(
            Prefetch("transitions", queryset=Transition.objects.filter(at__lte=at).order_by("at", "id"))
        )
    )
    townships = {
        o.region_id: o for o in Organisation.objects.filter(kind=OrganisationKind.TOWNSHIP_GOVERNMENT)
    }
    labels = {s.dst: str(s.label) for s in TIMED}
    wanted: list[AlertSpec] = []
    breaches: dict[str, Accountability] = {}
    for case in cases:
        for d in selectors.case_deadlines(case, now=at, lims=lims):
            if d.met is not False or d.due is None:
                continue
            township = case.village.parent_id
            unit = (
                case.station
                if holder_of(_source_state(d.step)) == "station"
                else (townships.get(township) if township else None)
            )
            message = _("个案 %(n)s「%(s)s」超过时限（应于 %(due)s 前完成）") % {
                "n": case.number,
                "s": labels[d.step],
                "due": timezone.localtime(d.due).strftime("%Y-%m-%d %H:%M"),
            }
            if d.overdue and case.is_open:
                wanted.append(
                    AlertSpec(
                        key=f"case:{case.pk}:{case.cycle}:{d.step}",
                        region_id=case.village_id,
                        message=message,
                        child_id=case.child_id,
                    )
                )
            if unit is not None:
                key = f"deadline:{case.pk}:{case.cycle}:{d.step}"
                breaches[key] = Accountability(
                    key=key,
                    kind=AccountabilityKind.DEADLINE_BREACHED,
                    unit=unit,
                    region_id=case.village_id,
                    case=case,
                    occurred_at=d.due,
                    detail=message[:300],
                    recorded_at=at,
                )
    domain = [
        k
        for k in Alert.objects.filter(kind=AlertKind.DEADLINE_BREACHED, resolved_at__isnull=True).values_list(
            "key", flat=True
        )
        if k.startswith("case:")
    ]
    opened, resolved = sync_alerts(kind=AlertKind.DEADLINE_BREACHED, wanted=wanted, at=at, domain=domain)

    # late mandated reports (normally recorded on submission; the scan is the safety net)
    late_limit = float(param("protection_late_report_hours"))
    for r in Report.objects.filter(
        mandated=True, reporter_unit__isnull=False, reported_at__lte=at
    ).select_related("case"):
        reason = rules.late_report(
            mandated=True, discovered_at=r.discovered_at, reported_at=r.reported_at, limit_hours=late_limit
        )
        if reason and r.reporter_unit_id is not None:  # the filter excludes None; this narrows the type
            key = f"report:{r.pk}:late"
            breaches[key] = Accountability(
                key=key,
                kind=AccountabilityKind.LATE_REPORT,
                unit_id=r.reporter_unit_id,
                region_id=r.village_id,
                case=r.case,
                occurred_at=r.reported_at,
                detail=reason[:300],
                recorded_at=at,
            )

    # missed reports: a finding with no report about the child within the limit
    missed_limit = timedelta(hours=float(param("protection_missed_report_hours")))
    findings = list(Finding.objects.filter(found_at__lte=at - missed_limit).select_related("child"))
    reported: dict[str, list[datetime]] = defaultdict(list)
    for child_id, when in Report.objects.filter(
        case__child_id__in={f.child_id for f in findings}
    ).values_list("case__child_id", "reported_at"):
        reported[str(child_id)].append(when)
    for f in findings:
        if any(f.found_at <= w <= f.found_at + missed_limit for w in reported[str(f.child_id)]):
            continue
        key = f"finding:{f.pk}:missed"
        breaches[key] = Accountability(
            key=key,
            kind=AccountabilityKind.MISSED_REPORT,
            unit_id=f.unit_id,
            region_id=f.child.village_id,
            occurred_at=f.found_at + missed_limit,
            detail=_("%(src)s发现应报告情形后 %(h)s 小时内未报告")
            % {"src": f.source, "h": param("protection_missed_report_hours")},
            recorded_at=at,
        )

    existing = set(Accountability.objects.filter(key__in=list(breaches)).values_list("key", flat=True))
    new = [a for k, a in breaches.items() if k not in existing]
    Accountability.objects.bulk_create(new)
    record_events(
        [
            EventSpec(
                verb="accountability.recorded",
                subject_type="protection.accountability",
                subject_id=a.key,
                child_id=str(a.case.child_id) if a.case else "",
                region_code=a.region_id,
                summary=_("追责记录（%(k)s）：%(u)s")
                % {"k": AccountabilityKind(a.kind).label, "u": a.unit_id},
                after={"kind": a.kind, "unit": a.unit_id, "detail": a.detail},
                occurred_at=at,
            )
            for a in new
        ]
    )
    return {
        "cases_checked": len(cases),
        "deadline_alerts_opened": opened,
        "deadline_alerts_resolved": resolved,
        "accountability_recorded": len(new),
    }


def _source_state(step: str) -> str:
    """The state a timed step starts from (who holds the case while the step is due)."""
    s = next(x for x in TIMED if x.dst == step)
    return s.src[0]
