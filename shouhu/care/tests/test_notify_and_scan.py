"""Notifications (in-app, e-mail, signed webhook with retries and a failure list), the immediate
`unattended` alert from the file, and the scan's constant query count and run_scan integration."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shouhu.care import notify, scan
from shouhu.care.alerts import AlertSpec, open_alert
from shouhu.care.models import Alert, Notification, WebhookDelivery

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def test_unattended_child_raises_the_alert_at_once_and_clears_with_the_file(
    users: dict[str, Any], make_child: Any
) -> None:
    from shouhu.registry.services import child_update

    c = make_child(care_arrangement="unattended")
    alert = Alert.objects.get(kind="unattended", child=c, resolved_at__isnull=True)
    assert alert.assignee == users["vw"] and "请立即向公安机关报告" in alert.message
    assert Notification.objects.filter(alert=alert, user=users["vw"], reason="opened").exists()
    c.refresh_from_db()
    child_update(
        actor=users["vw"], child_id=c.pk, data={"care_arrangement": "relatives_friends"}, version=c.version
    )
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolution == "auto"
    # a child of 16 or more is outside R2.2
    make_child(care_arrangement="unattended", birth_date=datetime(2010, 1, 1).date())
    assert Alert.objects.filter(kind="unattended", resolved_at__isnull=True).count() == 0


class FakeResponse:
    def __init__(self, status: int = 200) -> None:
        self.status = status

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *a: Any) -> None:
        return None


def test_email_and_signed_webhook_with_backoff_and_failure_list(
    users: dict[str, Any], make_child: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SHOUHU_WEBHOOK_URL = "https://gateway.example/hook"
    settings.SHOUHU_WEBHOOK_SECRET = "s3cret"
    settings.HUEY = {**settings.HUEY}
    users["vw"].email = "vw@example.cn"
    users["vw"].save()
    child = make_child()
    at = timezone.now()
    alert, _ = open_alert(
        kind="visit_overdue",
        spec=AlertSpec(
            key=f"child:{child.pk}",
            region_id=child.village_id,
            message="走访逾期",
            child_id=child.pk,
            assignee_id=users["vw"].pk,
        ),
        at=at,
    )
    from unittest import mock

    with (
        mock.patch("shouhu.care.notify._enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notify.notify([alert.pk], reason="opened", at=at) == 1
        assert notify.notify([alert.pk], reason="opened", at=at) == 0  # once per reason
    assert (
        len(mail.outbox) == 1 and mail.outbox[0].to == ["vw@example.cn"] and "走访逾期" in mail.outbox[0].body
    )
    delivery = WebhookDelivery.objects.get()
    enqueue.assert_called_once_with([delivery.pk])

    seen: list[Any] = []

    def ok(request: Any, timeout: int) -> FakeResponse:
        seen.append(request)
        return FakeResponse(200)

    def down(request: Any, timeout: int) -> FakeResponse:
        raise OSError("connection refused")

    assert notify.attempt(delivery.pk, opener=down) == 60  # first retry after 60 s
    assert notify.attempt(delivery.pk, opener=down) == 120  # then doubled
    assert notify.attempt(delivery.pk, opener=ok) is None
    delivery.refresh_from_db()
    assert delivery.state == "sent" and delivery.attempts == 3
    body = seen[0].data
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert seen[0].get_header("X-shouhu-signature") == expected
    assert json.loads(body)["alerts"][0]["kind"] == "visit_overdue"

    failing = WebhookDelivery.objects.create(event="alerts.opened", payload={"alerts": []})
    delays = [notify.attempt(failing.pk, opener=down) for _ in range(6)]
    assert delays == [60, 120, 240, 480, 960, None]
    failing.refresh_from_db()
    assert failing.state == "failed" and "connection refused" in failing.last_error
    from django.test import Client

    admin = Client()
    admin.force_login(users["admin"])
    assert "connection refused" in admin.get("/care/webhooks/").content.decode()


def test_webhook_task_reschedules_with_backoff(settings: Any, monkeypatch: Any) -> None:
    from shouhu.care import tasks

    settings.SHOUHU_WEBHOOK_URL = "https://gateway.example/hook"
    d = WebhookDelivery.objects.create(event="alerts.opened", payload={"alerts": []})
    calls: list[Any] = []
    monkeypatch.setattr(notify, "attempt", lambda pk: 60)
    monkeypatch.setattr(tasks.deliver_webhook, "schedule", lambda args, delay: calls.append((args, delay)))
    tasks.deliver_webhook.call_local(d.pk)
    assert calls == [((d.pk,), 60)]


def _county(make_child: Any, n: int) -> None:
    import time_machine

    with time_machine.travel(datetime(2026, 11, 1, 10, tzinfo=TZ), tick=False):
        for i in range(n):
            make_child(guardianship_rating=["poor", "adequate", "good"][i % 3], sex=str(1 + i % 2))


def _queries(at: datetime) -> int:
    with CaptureQueriesContext(connection) as ctx:
        scan.run(at)
    return len(ctx.captured_queries)


def test_scan_query_count_does_not_grow_with_children(users: dict[str, Any], make_child: Any) -> None:
    from shouhu.core.models import RoleAssignment

    RoleAssignment.objects.update(starts_at=datetime(2020, 1, 1, tzinfo=TZ))
    _county(make_child, 3)
    small = _queries(datetime(2026, 12, 14, 9, tzinfo=TZ))
    _county(make_child, 15)
    Alert.objects.all().delete()
    large = _queries(datetime(2026, 12, 14, 9, tzinfo=TZ))
    assert large == small, (small, large)
    assert Alert.objects.filter(kind="contact_overdue").count() == 36  # each migrant parent


def test_run_scan_command_runs_the_care_step(users: dict[str, Any], make_child: Any) -> None:
    from shouhu.core.scan import run_all

    summary = run_all(datetime(2026, 12, 14, 9, tzinfo=TZ))
    assert "care" in summary and summary["care"]["no_designated_worker"]["open"] > 0
    call_command("run_scan", "--at", "2026-12-14T09:00:00+08:00")


def test_bulk_registration_hook_is_set_based(users: dict[str, Any], make_child: Any) -> None:
    from shouhu.care.hooks import children_saved

    kids = [make_child(care_arrangement="grandparents") for _ in range(4)]
    for k in kids[:2]:
        k.care_arrangement = "unattended"
    with CaptureQueriesContext(connection) as ctx:
        assert children_saved(children=kids, actor=users["county"]) == (2, 0)
    four = len(ctx.captured_queries)
    assert children_saved(children=kids, actor=users["county"]) == (0, 0)
    kids[0].care_arrangement = "grandparents"
    assert children_saved(children=kids[:1], actor=users["county"]) == (0, 1)
    more = [make_child(care_arrangement="grandparents") for _ in range(8)]
    for k in more:
        k.care_arrangement = "unattended"
    with CaptureQueriesContext(connection) as ctx:
        assert children_saved(children=more, actor=users["county"]) == (8, 0)
    assert len(ctx.captured_queries) == four
