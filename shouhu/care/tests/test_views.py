"""Permission matrix of every care page: anonymous → login, no role → empty/404, in scope, out of scope;
and the pages' behaviour (a few-tap call, the visit that finds a child alone, the inbox, villages)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shouhu.care import services
from shouhu.care.alerts import AlertSpec, open_alert
from shouhu.care.models import Alert, ParentContact

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def child(make_child: Any) -> Any:
    return make_child(name="王小丫")


# Who may open which care page is the generated permission matrix (web/tests/test_matrix.py); here,
# what the pages show and do.


def test_post_only_pages_write_for_the_village(users: dict[str, Any], child: Any) -> None:
    url = reverse("web:care_assignment_add", args=[child.pk])
    assert login(users["vw"]).get(url).status_code == 405
    r = login(users["vw"]).post(
        url, {"kind": "proxy_parent", "person_name": "李代理", "starts_on": timezone.localdate().isoformat()}
    )
    assert r.status_code == 302 and child.care_assignments.count() == 1


@pytest.mark.parametrize("name", ["web:care_today", "web:care_alerts", "web:care_villages"])
def test_list_pages_show_only_the_scope(name: str, users: dict[str, Any], child: Any) -> None:
    open_alert(
        kind="visit_overdue",
        spec=AlertSpec(
            key=f"child:{child.pk}", region_id=child.village_id, message="王小丫：走访逾期", child_id=child.pk
        ),
        at=timezone.now(),
    )
    url = reverse(name)
    who = "sup" if name == "web:care_villages" else "vw"
    mine = login(users[who]).get(url)
    assert mine.status_code == 200 and "王小丫" in mine.content.decode()
    other = login(users["sup_other"]).get(url)
    assert other.status_code == 200 and "王小丫" not in other.content.decode()
    # the page read is an access record with the number of children it named (R11.2)
    from shouhu.core.models import AccessLog

    row = AccessLog.objects.filter(user=users[who], action="list").latest("seq")
    assert row.count >= 1


def test_webhook_failures_page_is_for_the_administrator(users: dict[str, Any]) -> None:
    url = reverse("web:care_webhooks")
    assert login(users["admin"]).get(url).status_code == 200
    for other in ("county", "vw", "nobody"):
        assert login(users[other]).get(url).status_code == 403


def test_a_call_in_a_few_taps_and_a_future_time_refused(users: dict[str, Any], child: Any) -> None:
    url = reverse("web:care_contact_add", args=[child.pk])
    now = timezone.localtime()
    data = {
        "parent": "father",
        "channel": "phone",
        "facilitated_by": "village",
        "occurred_at": now.strftime("%Y-%m-%dT%H:%M"),
    }
    r = login(users["vw"]).post(url, data)
    assert r.status_code == 302 and ParentContact.objects.filter(child=child).count() == 1
    future = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = login(users["vw"]).post(url, {**data, "occurred_at": future})
    assert r.status_code == 200 and "不能晚于当前时间" in r.content.decode()
    # a school that helped its pupil call counts too (R2.4)
    from shouhu.core.models import Organisation

    child.school = Organisation.objects.get(name="巴山中心小学")
    child.save(update_fields=["school"])
    r = login(users["school"]).post(url, {**data, "facilitated_by": "school"})
    assert (
        r.status_code == 302 and ParentContact.objects.filter(child=child, facilitated_by="school").exists()
    )


def test_a_visit_that_finds_the_child_alone_says_report_to_the_police(
    users: dict[str, Any], child: Any
) -> None:
    url = reverse("web:care_visit_add", args=[child.pk])
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    r = login(users["vw"]).post(
        url,
        {
            "occurred_at": now,
            "kind": "routine",
            "visitor_role": "child_director",
            "living_alone": "on",
            "living_conditions": "独自在家",
        },
    )
    page = r.content.decode()
    assert r.status_code == 200 and "请立即向公安机关报告" in page and "王小丫" in page
    assert Alert.objects.get(kind="unattended", child=child).resolved_at is None


def test_resolving_an_alert_by_hand(users: dict[str, Any], child: Any) -> None:
    alert, _ = open_alert(
        kind="visit_overdue",
        spec=AlertSpec(key=f"child:{child.pk}", region_id=child.village_id, message="m", child_id=child.pk),
        at=timezone.now(),
    )
    url = reverse("web:care_alert_resolve", args=[alert.pk])
    assert login(users["vw_other"]).post(url, {"note": "x"}).status_code == 404
    assert login(users["officer"]).post(url, {"note": "x"}).status_code == 403
    assert login(users["vw"]).post(url, {"note": "已走访"}).status_code == 302
    alert.refresh_from_db()
    assert alert.resolution == "manual" and alert.resolved_by == users["vw"]


def test_villages_page_lists_unassigned_children_and_villages_without_worker(
    users: dict[str, Any], child: Any
) -> None:
    from shouhu.core.models import RoleAssignment

    RoleAssignment.objects.filter(user=users["vw_same_town"]).delete()
    page = login(users["sup"]).get(reverse("web:care_villages")).content.decode()
    assert "王小丫" in page and "未落实" in page
    services.assignment_add(
        actor=users["vw"], child=child, data={"kind": "volunteer", "person_name": "志愿者甲"}
    )
    page = login(users["sup"]).get(reverse("web:care_villages")).content.decode()
    assert "王小丫" not in page


def test_inbox_shows_new_messages_once_and_sessions_are_recorded(users: dict[str, Any], child: Any) -> None:
    from shouhu.care import notify
    from shouhu.care.models import GuidanceSession, Notification

    alert, _ = open_alert(
        kind="visit_overdue",
        spec=AlertSpec(
            key=f"child:{child.pk}",
            region_id=child.village_id,
            message="王小丫：走访逾期",
            child_id=child.pk,
            assignee_id=users["vw"].pk,
        ),
        at=timezone.now(),
    )
    notify.notify([alert.pk], reason="opened", at=timezone.now())
    page = login(users["vw"]).get(reverse("web:care_alerts")).content.decode()
    assert "新消息" in page
    assert Notification.objects.get(alert=alert).read_at is not None
    assert "新消息" not in login(users["vw"]).get(reverse("web:care_alerts")).content.decode()
    url = reverse("web:care_sessions")
    r = login(users["vw"]).post(
        url,
        {
            "village": "500229102201",
            "kind": "legal_publicity",
            "held_on": timezone.localdate().isoformat(),
            "topic": "未成年人保护法宣讲",
            "held_by": "县司法局",
            "attendance": 35,
        },
    )
    assert r.status_code == 302 and GuidanceSession.objects.get().attendance == 35
    assert "未成年人保护法宣讲" in login(users["sup"]).get(url).content.decode()
    assert "未成年人保护法宣讲" not in login(users["vw_other"]).get(url).content.decode()
    r = login(users["vw"]).post(
        url,
        {
            "village": "500229201201",
            "kind": "legal_publicity",
            "held_on": timezone.localdate().isoformat(),
            "topic": "x",
            "held_by": "y",
        },
    )
    assert r.status_code == 200 and GuidanceSession.objects.count() == 1  # not their village
    assert login(users["officer"]).post(url, {}).status_code == 403
