"""The alert core: one open alert per kind and key, idempotent sync, automatic resolution with time."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from shouhu.care.alerts import AlertSpec, open_alert, resolve_alert, sync_alerts
from shouhu.care.models import Alert
from shouhu.core.models import Event

AT = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
V1, V2 = "500229102201", "500229201201"


def spec(key: str, region: str = V1) -> AlertSpec:
    return AlertSpec(key=key, region_id=region, message=f"test {key}")


@pytest.mark.django_db
def test_sync_opens_resolves_and_is_idempotent(county):
    assert sync_alerts(kind="contact_overdue", wanted=[spec("child:a"), spec("child:b")], at=AT) == (2, 0)
    events = Event.objects.count()
    assert sync_alerts(kind="contact_overdue", wanted=[spec("child:a"), spec("child:b")], at=AT) == (0, 0)
    assert Event.objects.count() == events
    later = AT + timedelta(days=1)
    assert sync_alerts(kind="contact_overdue", wanted=[spec("child:b")], at=later) == (0, 1)
    a = Alert.objects.get(key="child:a")
    assert a.resolved_at == later and a.resolution == "auto"
    # a new episode for the same key opens a new alert; history is kept
    assert sync_alerts(kind="contact_overdue", wanted=[spec("child:a"), spec("child:b")], at=later) == (1, 0)
    assert Alert.objects.filter(key="child:a").count() == 2


@pytest.mark.django_db
def test_domain_limits_auto_resolution(county):
    sync_alerts(kind="visit_overdue", wanted=[spec("child:a"), spec("child:b")], at=AT)
    sync_alerts(kind="visit_overdue", wanted=[], at=AT, domain=["child:a"])
    assert set(Alert.objects.open().values_list("key", flat=True)) == {"child:b"}


@pytest.mark.django_db
def test_open_is_idempotent_and_the_database_refuses_a_second_open_alert(county):
    first, created = open_alert(kind="unattended", spec=spec("child:x"), at=AT)
    again, created_again = open_alert(kind="unattended", spec=spec("child:x"), at=AT)
    assert created and not created_again and first.pk == again.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(kind="unattended", key="child:x", region_id=V1, message="dup")


@pytest.mark.django_db
def test_manual_resolution_and_scope(county, users):
    open_alert(kind="unattended", spec=spec("child:x"), at=AT)
    open_alert(kind="unattended", spec=spec("child:y", V2), at=AT)
    assert list(Alert.objects.restrict(users["vw"], "alert.view").values_list("key", flat=True)) == [
        "child:x"
    ]
    assert Alert.objects.restrict(users["nobody"], "alert.view").count() == 0
    assert Alert.objects.restrict(users["county"], "alert.view").count() == 2
    done = resolve_alert(kind="unattended", key="child:x", at=AT, by=users["vw"], note="已报警")
    assert done is not None and done.resolution == "manual" and done.resolved_by == users["vw"]
    assert resolve_alert(kind="unattended", key="child:x", at=AT) is None
