"""Opening and resolving alerts: idempotent, set-based, recorded on the timeline.

`sync_alerts` is what scans call: given every key that should have an open alert of a kind right now,
it opens the missing ones and resolves (automatically, with the time) the open ones whose condition
has cleared — in a constant number of queries, whatever the county's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shouhu.care.models import Alert, AlertKind
from shouhu.core import visibility
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import User


@dataclass(frozen=True)
class AlertSpec:
    key: str
    region_id: str
    message: str
    child_id: Any = None
    assignee_id: int | None = None
    parent: str = ""  # the migrant parent of a per-parent duty ("father" | "mother")


def _event(alert: Alert, verb: str, summary: str, at: datetime, actor: User | None = None) -> EventSpec:
    return EventSpec(
        verb=verb,
        subject_type="care.alert",
        subject_id=str(alert.pk),
        actor=actor,
        child_id=str(alert.child_id or ""),
        region_code=alert.region_id,
        summary=summary,
        after={"kind": alert.kind, "key": alert.key, "message": alert.message},
        occurred_at=at,
        # A breached time limit speaks of a protection case: never on the child's timeline (R11.1).
        visibility=visibility.PROTECTION if alert.kind == AlertKind.DEADLINE_BREACHED else "",
    )


@transaction.atomic
def open_alert(*, kind: str, spec: AlertSpec, at: datetime) -> tuple[Alert, bool]:
    """Open an alert unless one is already open for (kind, key); returns (alert, created)."""
    existing = Alert.objects.filter(kind=kind, key=spec.key, resolved_at__isnull=True).first()
    if existing is not None:
        return existing, False
    alert = Alert.objects.create(
        kind=kind,
        key=spec.key,
        child_id=spec.child_id,
        region_id=spec.region_id,
        message=spec.message,
        opened_at=at,
        assignee_id=spec.assignee_id,
        parent=spec.parent,
    )
    record_events([_event(alert, "alert.opened", _("发出预警：%(m)s") % {"m": alert.message}, at)])
    return alert, True


@transaction.atomic
def resolve_alert(
    *, kind: str, key: str, at: datetime, by: User | None = None, note: str = ""
) -> Alert | None:
    """Resolve the open alert for (kind, key), if any: manually when `by` is given, else automatically."""
    alert = Alert.objects.select_for_update().filter(kind=kind, key=key, resolved_at__isnull=True).first()
    if alert is None:
        return None
    alert.resolved_at, alert.resolution = at, "manual" if by else "auto"
    alert.resolved_by, alert.resolution_note = by, note[:300]
    alert.save(update_fields=["resolved_at", "resolution", "resolved_by", "resolution_note"])
    record_events([_event(alert, "alert.resolved", _("解除预警：%(m)s") % {"m": alert.message}, at, by)])
    return alert


@transaction.atomic
def sync_alerts(
    *, kind: str, wanted: Iterable[AlertSpec], at: datetime, domain: Iterable[str] | None = None
) -> tuple[int, int]:
    """Make the open alerts of `kind` exactly `wanted` (by key). `domain`, if given, limits which open
    alerts may be auto-resolved (keys the caller evaluated); returns (opened, resolved)."""
    wanted_by_key = {s.key: s for s in wanted}
    # Keys and ids only (no model instances): at 100,000 open alerts instances would cost seconds.
    open_ids = dict(Alert.objects.filter(kind=kind, resolved_at__isnull=True).values_list("key", "id"))
    domain_keys = set(domain) if domain is not None else None
    resolve_ids = [
        pk
        for key, pk in open_ids.items()
        if key not in wanted_by_key and (domain_keys is None or key in domain_keys)
    ]
    to_resolve = [
        a
        for i in range(0, len(resolve_ids), 5000)
        for a in Alert.objects.filter(pk__in=resolve_ids[i : i + 5000]).only(
            "id", "kind", "key", "message", "child_id", "region_id"
        )
    ]
    new = [
        Alert(
            kind=kind,
            key=s.key,
            child_id=s.child_id,
            region_id=s.region_id,
            message=s.message,
            opened_at=at,
            assignee_id=s.assignee_id,
            parent=s.parent,
        )
        for key, s in wanted_by_key.items()
        if key not in open_ids
    ]
    created = Alert.objects.bulk_create(new, batch_size=2000)
    for i in range(0, len(resolve_ids), 5000):
        Alert.objects.filter(pk__in=resolve_ids[i : i + 5000]).update(resolved_at=at, resolution="auto")
    # PostgreSQL returns primary keys from bulk_create; SQLite ≥ 3.35 does too (Django 5.2).
    opened_text, resolved_text = _("发出预警：%(m)s"), _("解除预警：%(m)s")  # translated once, not per alert
    events = [_event(a, "alert.opened", opened_text % {"m": a.message}, at) for a in created]
    events += [_event(a, "alert.resolved", resolved_text % {"m": a.message}, at) for a in to_resolve]
    record_events(events)
    return len(created), len(to_resolve)
