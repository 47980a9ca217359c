"""R6.6 with time frozen: past a time limit run_scan opens one deadline_breached alert and one
accountability record against the unit that held the case; running twice changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shouhu.care.models import Alert
from shouhu.core.scan import run_all
from shouhu.protection import services
from shouhu.protection.models import Accountability, Finding

pytestmark = pytest.mark.django_db
T0 = datetime(2027, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_deadline_breach_alert_and_accountability_once(users, make_child) -> None:
    child = make_child(name="超时")
    with time_machine.travel(T0, tick=False):
        report = services.report_submit(
            actor=users["vw"],
            data={
                "child": child.pk,
                "situations": ["living_alone"],
                "discovered_at": T0 - timedelta(minutes=30),
                "description": "独居",
            },
        )
    case = report.case
    # within the hour: nothing
    run_all(T0 + timedelta(minutes=59))
    assert not Alert.objects.filter(kind="deadline_breached").exists()
    late = T0 + timedelta(hours=2)
    run_all(late)
    run_all(late)  # idempotent
    alerts = Alert.objects.filter(kind="deadline_breached")
    assert alerts.count() == 1
    a = alerts.get()
    assert a.key == f"case:{case.pk}:0:received" and a.child_id == child.pk and a.resolved_at is None
    acc = Accountability.objects.filter(kind="deadline_breached")
    assert acc.count() == 1 and acc.get().unit.name == "城口县公安局巴山派出所"
    run_all(late + timedelta(hours=1))
    assert Accountability.objects.filter(kind="deadline_breached").count() == 1
    # the police receive it late: the alert resolves, the accountability stays counted once
    with time_machine.travel(late + timedelta(hours=2), tick=False):
        services.case_transition(actor=users["officer"], case_id=case.pk, to="received")
    a.refresh_from_db()
    assert a.resolved_at is not None
    run_all(late + timedelta(hours=3))
    assert Accountability.objects.filter(kind="deadline_breached").count() == 1
    assert Alert.objects.filter(kind="deadline_breached", resolved_at__isnull=True).count() == 0
    # next step (responded within 24 h) is now running, not breached
    run_all(late + timedelta(hours=20))
    assert Alert.objects.filter(kind="deadline_breached", resolved_at__isnull=True).count() == 0
    run_all(late + timedelta(hours=30))
    assert (
        Alert.objects.filter(kind="deadline_breached", resolved_at__isnull=True)
        .get()
        .key.endswith(":responded")
    )


def test_township_holds_the_assessment_step(users, make_child) -> None:
    child = make_child(name="评估超时")
    with time_machine.travel(T0, tick=False):
        case = services.report_submit(
            actor=users["vw"],
            data={"child": child.pk, "situations": ["living_alone"], "discovered_at": T0, "description": "x"},
        ).case
        for to, data in (
            ("received", {}),
            ("responded", {"measures": ["dispatch"]}),
            ("township_notified", {}),
        ):
            services.case_transition(actor=users["officer"], case_id=case.pk, to=to, data=data)
    run_all(T0 + timedelta(days=4))
    acc = Accountability.objects.get(kind="deadline_breached")
    assert acc.unit.name == "巴山镇人民政府"


def test_missed_report_from_a_finding(users, make_child) -> None:
    from shouhu.core.models import Organisation

    child = make_child(name="漏报")
    unit = Organisation.objects.get(name="巴山中心小学")
    with time_machine.travel(T0, tick=False):
        services.finding_record(
            unit=unit, child=child, source="学校考勤", situations=["living_alone"], found_at=T0
        )
    run_all(T0 + timedelta(hours=12))
    assert not Accountability.objects.filter(kind="missed_report").exists()
    run_all(T0 + timedelta(hours=30))
    run_all(T0 + timedelta(hours=31))
    acc = Accountability.objects.get(kind="missed_report")
    assert acc.unit == unit
    assert Finding.objects.count() == 1


def test_a_visit_finding_a_child_alone_starts_the_report_clock(users, make_child) -> None:
    """R5.3 end to end: the village worker's visit finds the child living alone; without a report within
    the limit the village committee has a missed-report record; with one, it has none."""
    from shouhu.care.services import visit_log

    unreported = make_child(name="独居未报")
    reported = make_child(name="独居已报")
    with time_machine.travel(T0, tick=False):
        for child in (unreported, reported):
            visit_log(
                actor=users["vw"],
                child=child,
                data={"kind": "routine", "living_alone": True, "occurred_at": T0},
            )
        services.report_submit(
            actor=users["vw"],
            data={
                "child": reported.pk,
                "situations": ["living_alone"],
                "discovered_at": T0,
                "description": "独居",
            },
        )
    run_all(T0 + timedelta(hours=30))
    missed = Accountability.objects.filter(kind="missed_report")
    assert [a.unit for a in missed] == [users["vw"].organisation]
    assert missed.get().key == f"finding:{Finding.objects.get(child=unreported).pk}:missed"
