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


def child_saved(*, child: Any, actor: Any = None, at: datetime | None = None) -> Alert | None:
    """Open or resolve the child's `unattended` alert from the file as saved; returns the open alert."""
    from shouhu.care import notify, selectors

    at = at or timezone.now()
    key = f"child:{child.pk}"
    limit = int(param("left_behind_age_limit"))
    if child.care_arrangement == "unattended" and under_age(child.birth_date, timezone.localdate(at), limit):
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
    return opened, resolved
