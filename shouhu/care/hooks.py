"""Subscribers to the registry's saved-file topics (core.dispatch), run inside the registry's transaction.

R2.2: a child under 16 recorded as unattended (无人监护 / living alone) raises the `unattended` alert at
once — not at the next scan — and the alert resolves as soon as the file records someone caring.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.care.alerts import AlertSpec, open_alert, resolve_alert
from shouhu.care.models import Alert, AlertKind
from shouhu.core.policy import param
from shouhu.registry.rules import under_age


def unattended_message(name: str) -> str:
    return _("%(name)s：不满十六周岁无人监护（单独居住），请立即向公安机关报告") % {"name": name}


def child_saved(
    *, child: Any, actor: Any = None, at: datetime | None = None, source: str = "file_edit"
) -> Alert | None:
    """Open or resolve the child's `unattended` alert from the file as saved; returns the open alert.
    A record that newly shows the child unattended also starts the mandatory-report clock (R5.3)."""
    from shouhu.care import notify, selectors

    at = at or timezone.now()
    key = f"child:{child.pk}"
    limit = int(param("left_behind_age_limit"))
    if (
        child.care_arrangement == "unattended"
        and getattr(child, "state", "active") == "active"
        and under_age(child.birth_date, timezone.localdate(at), limit)
    ):
        assignee = selectors.assignee_for(
            child.village_id, selectors.designated_workers(at), selectors.supervisors(at)
        )
        spec = AlertSpec(
            key=key,
            region_id=child.village_id,
            message=unattended_message(child.name),
            child_id=child.pk,
            assignee_id=assignee,
        )
        alert, created = open_alert(kind=AlertKind.UNATTENDED, spec=spec, at=at)
        if created:
            notify.notify([alert.pk], reason="opened", at=at)
            report_duty_starts(child=child, actor=actor, source=source, found_at=at)
        return alert
    resolve_alert(kind=AlertKind.UNATTENDED, key=key, at=at)
    return None


def children_saved(*, children: list[Any], actor: Any = None, at: datetime | None = None) -> tuple[int, int]:
    """The set-based twin of `child_saved` for bulk registration (ledger import, demo seeding): opens and
    resolves the `unattended` alerts of exactly these children in a constant number of queries."""
    from shouhu.care import notify, selectors
    from shouhu.care.alerts import sync_alerts

    at = at or timezone.now()
    today = timezone.localdate(at)
    limit = int(param("left_behind_age_limit"))
    workers, sups = selectors.designated_workers(at), selectors.supervisors(at)
    wanted = [
        AlertSpec(
            key=f"child:{c.pk}",
            region_id=c.village_id,
            message=unattended_message(c.name),
            child_id=c.pk,
            assignee_id=selectors.assignee_for(c.village_id, workers, sups),
        )
        for c in children
        if c.care_arrangement == "unattended" and under_age(c.birth_date, today, limit)
    ]
    opened, resolved = sync_alerts(
        kind=AlertKind.UNATTENDED, wanted=wanted, at=at, domain=[f"child:{c.pk}" for c in children]
    )
    if opened:
        new = Alert.objects.filter(kind=AlertKind.UNATTENDED, opened_at=at, key__in=[s.key for s in wanted])
        notify.notify(list(new.values_list("pk", flat=True)), reason="opened", at=at)
        by_pk = {str(c.pk): c for c in children}
        report_duties_start(
            children=[by_pk[str(cid)] for cid in new.values_list("child_id", flat=True)],
            actor=actor,
            source="import",
            found_at=at,
        )
    return opened, resolved


def report_duties_start(*, children: list[Any], actor: Any, source: str, found_at: datetime) -> int:
    """The set-based twin of `report_duty_starts` for imports: a constant number of queries."""
    from shouhu.core.events import EventSpec, record_events
    from shouhu.core.models import Organisation, OrganisationKind
    from shouhu.protection.models import Finding

    if not children:
        return 0
    own = getattr(actor, "organisation_id", None)
    committees = dict(
        Organisation.objects.filter(
            region_id__in={c.village_id for c in children}, kind=OrganisationKind.VILLAGE_COMMITTEE
        ).values_list("region_id", "id")
    )
    rows = [
        Finding(
            unit_id=own or committees[c.village_id],
            child=c,
            source=source,
            situations=["living_alone"],
            found_at=found_at,
        )
        for c in children
        if own or c.village_id in committees
    ]
    made = Finding.objects.bulk_create(rows)
    names = dict(Organisation.objects.filter(pk__in={f.unit_id for f in made}).values_list("id", "name"))
    text = _("%(u)s发现应报告情形")
    record_events(
        [
            EventSpec(
                verb="protection.finding",
                subject_type="protection.finding",
                subject_id=str(f.pk),
                child_id=str(f.child_id),
                region_code=f.child.village_id,
                summary=text % {"u": names.get(f.unit_id, "")},
                occurred_at=found_at,
            )
            for f in made
        ]
    )
    return len(made)


def report_duty_starts(*, child: Any, actor: Any, source: str, found_at: datetime, ref: str = "") -> None:
    """R5.3, issue 12 part 4: any record (a file edit, an import, a visit, a school record) showing a
    child under 16 living alone or unattended starts the mandatory-report clock for the unit that
    recorded it — the recorder's organisation, or the village committee when the recorder has none. A
    report about the child within the limit closes it (protection scan)."""
    from datetime import timedelta

    from shouhu.core.models import Organisation, OrganisationKind
    from shouhu.protection.models import Finding
    from shouhu.protection.services import finding_record

    unit = getattr(actor, "organisation", None) or (
        Organisation.objects.filter(
            region_id=child.village_id, kind=OrganisationKind.VILLAGE_COMMITTEE
        ).first()
    )
    running = timedelta(hours=float(param("protection_missed_report_hours")))
    if (
        unit is not None
        and not Finding.objects.filter(
            child_id=child.pk, unit=unit, found_at__gt=found_at - running, found_at__lte=found_at
        ).exists()
    ):  # one clock per unit while it runs: a visit that also edits the file starts one
        finding_record(
            unit=unit,
            child=child,
            source=source,
            situations=["living_alone"],
            found_at=found_at,
            source_ref=ref,
        )


def file_state_changed(*, child: Any, actor: Any = None, at: datetime | None = None) -> None:
    """The file was archived, reactivated or transferred (registry/lifecycle.py): an archived file's
    open alerts close at once (API.md: archived files raise no alerts); a transferred file's open alerts
    move to its new village (its old village's users lose them with the file)."""
    at = at or timezone.now()
    open_alerts = Alert.objects.filter(child_id=child.pk, resolved_at__isnull=True)
    if child.state != "active":
        for kind, key in list(open_alerts.values_list("kind", "key")):
            resolve_alert(kind=kind, key=key, at=at)
        return
    open_alerts.update(region_id=child.village_id)
    child_saved(child=child, actor=actor, at=at)
