"""Notifications of alerts (issue 4 part 6): in-app rows, e-mail through Django's mail backend, and an
outbound webhook for an SMS or WeChat gateway.

Webhook: `SHOUHU_WEBHOOK_URL` and `SHOUHU_WEBHOOK_SECRET` (Django settings, else the environment).
The body is JSON; the header `X-Shouhu-Signature: sha256=<hex>` is HMAC-SHA256 of the raw body with the
secret. Failed deliveries are retried by huey with exponential backoff (policy `webhook_max_attempts`,
`webhook_backoff_seconds`) and, when they give up, stay listed for the administrator.

Everything is set-based and idempotent: an alert is notified once per reason (unique constraint), and
e-mails and webhooks are sent only for notifications created now, after the transaction commits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.care.models import Alert, Notification, WebhookDelivery
from shouhu.core.models import User
from shouhu.core.policy import param


def webhook_config() -> tuple[str, str]:
    url = getattr(settings, "SHOUHU_WEBHOOK_URL", None) or os.environ.get("SHOUHU_WEBHOOK_URL", "")
    secret = getattr(settings, "SHOUHU_WEBHOOK_SECRET", None) or os.environ.get("SHOUHU_WEBHOOK_SECRET", "")
    return url, secret


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def notify(alert_ids: Iterable[int], *, reason: str, at: datetime) -> int:
    """Notify the responsible user of each alert (assignee when opened, escalated_to when escalated)."""
    ids = list(alert_ids)
    if not ids:
        return 0
    target = "assignee_id" if reason == "opened" else "escalated_to_id"
    alerts = list(
        Alert.objects.filter(pk__in=ids, **{f"{target}__isnull": False}).values(
            "id", "kind", "key", "region_id", "message", "child_id", target
        )
    )
    already = set(
        Notification.objects.filter(alert_id__in=[a["id"] for a in alerts], reason=reason).values_list(
            "alert_id", "user_id"
        )
    )
    prefix = _("预警升级：") if reason == "escalated" else ""
    fresh = [
        Notification(
            user_id=a[target],
            alert_id=a["id"],
            reason=reason,
            message=(prefix + a["message"])[:300],
            created_at=at,
        )
        for a in alerts
        if (a["id"], a[target]) not in already
    ]
    Notification.objects.bulk_create(fresh, batch_size=2000, ignore_conflicts=True)
    if not fresh:
        return 0
    by_user: dict[int, list[str]] = defaultdict(list)
    for n in fresh:
        by_user[n.user_id].append(n.message)
    emails = dict(
        User.objects.filter(pk__in=by_user, is_active=True).exclude(email="").values_list("pk", "email")
    )
    mails = [
        (
            _("守护平台：%(n)d 条新预警") % {"n": len(msgs)},
            "\n".join(msgs[:200]) + ("\n…" if len(msgs) > 200 else ""),
            settings.DEFAULT_FROM_EMAIL,
            [emails[uid]],
        )
        for uid, msgs in by_user.items()
        if uid in emails
    ]
    if mails:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))
    url, _secret = webhook_config()
    if url:
        sent = {n.alert_id for n in fresh}
        items = [
            {
                "id": a["id"],
                "kind": a["kind"],
                "key": a["key"],
                "region": a["region_id"],
                "child": str(a["child_id"]) if a["child_id"] else None,
                "message": a["message"],
                "user": a[target],
            }
            for a in alerts
            if a["id"] in sent
        ]
        deliveries = [
            WebhookDelivery(
                event=f"alerts.{reason}",
                payload={"event": f"alerts.{reason}", "at": at.isoformat(), "alerts": items[i : i + 500]},
                created_at=at,
            )
            for i in range(0, len(items), 500)
        ]
        created = WebhookDelivery.objects.bulk_create(deliveries)
        ids_ = [d.pk for d in created]
        transaction.on_commit(lambda: _enqueue(ids_))
    return len(fresh)


def _enqueue(delivery_ids: list[int]) -> None:
    from shouhu.care.tasks import deliver_webhook

    for pk in delivery_ids:
        deliver_webhook(pk)


def attempt(delivery_id: int, *, opener: Any = None) -> int | None:
    """One delivery attempt. Returns the delay in seconds before the next attempt, or None when done
    (delivered, or given up after the last attempt: then it stays `failed` for the administrator)."""
    d = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if d is None or d.state != WebhookDelivery.State.PENDING:
        return None
    url, secret = webhook_config()
    body = json.dumps(d.payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Shouhu-Event": d.event,
            "X-Shouhu-Delivery": str(d.pk),
            "X-Shouhu-Signature": sign(body, secret),
        },
    )
    d.attempts += 1
    d.last_attempt_at = timezone.now()
    try:
        if not url:
            raise ValueError("SHOUHU_WEBHOOK_URL is not configured")
        with (opener or urllib.request.urlopen)(request, timeout=10) as response:
            status = getattr(response, "status", 200)
            if status >= 300:
                raise OSError(f"HTTP {status}")
    except Exception as exc:  # any failure is retried, then listed
        d.last_error = f"{exc.__class__.__name__}: {exc}"[:300]
        if d.attempts >= int(param("webhook_max_attempts")):
            d.state = WebhookDelivery.State.FAILED
            d.save()
            return None
        d.save()
        return int(param("webhook_backoff_seconds")) * 2 ** (d.attempts - 1)
    d.state, d.delivered_at, d.last_error = WebhookDelivery.State.SENT, timezone.now(), ""
    d.save()
    return None
