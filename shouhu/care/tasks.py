"""Background work of the care module (huey): webhook deliveries with exponential backoff.

The daily scan itself is `shouhu.core.tasks.daily_scan` (run_scan → shouhu.care.scan.run).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from shouhu.care import notify
from shouhu.care.models import WebhookDelivery


@db_task()
def deliver_webhook(delivery_id: int) -> None:
    delay = notify.attempt(delivery_id)
    if delay is not None:
        deliver_webhook.schedule((delivery_id,), delay=delay)


@db_periodic_task(crontab(minute="*/15"))
def resume_webhooks() -> None:
    """Pick up pending deliveries whose retry was lost (a worker restart): nothing stays pending forever."""
    stale = timezone.now() - timedelta(hours=1)
    pending = WebhookDelivery.objects.filter(state="pending", created_at__lt=stale).filter(
        Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=stale)
    )
    for pk in pending.values_list("pk", flat=True)[:500]:
        deliver_webhook(pk)
