"""Permission matrix of every protection page (DESIGN principle 1): anonymous, no role, in scope, out of
scope; the public report page with CSRF, the per-address limit (429, Chinese) and the acknowledgement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from shouhu.core.models import PolicyParameter
from shouhu.protection import services
from shouhu.protection.models import Case, Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(users, make_child, fulian) -> dict[str, Any]:
    child = make_child(name="页面")
    report = services.report_submit(
        actor=users["school"],
        data={
            "child_name": "页面",
            "village": child.village_id,
            "situations": ["living_alone"],
            "discovered_at": timezone.now(),
            "description": "独居",
        },
    )
    case = report.case
    for to, data in (("received", {}), ("responded", {"measures": ["dispatch"]}), ("township_notified", {})):
        services.case_transition(actor=users["officer"], case_id=case.pk, to=to, data=data)
    services.case_transition(
        actor=users["sup"],
        case_id=case.pk,
        to="assessed",
        data={
            "assessment": {
                "participants": ["乡镇"],
                "safety": "ok",
                "guardianship": "concern",
                "physical_health": "ok",
                "mental_health": "ok",
            }
        },
    )
    services.case_transition(
        actor=users["sup"],
        case_id=case.pk,
        to="assisting",
        data={
            "plan": "方案",
            "referrals": [{"service_kind": "counselling", "provider": "城口县阳光社会工作服务中心"}],
        },
    )
    return {"case": case, "report": report, "referral": case.referrals.get()}


def pages(s: dict[str, Any]) -> dict[str, str]:
    return {
        "report_new": "/protection/report/",
        "my_reports": "/protection/reports/",
        "report_progress": f"/protection/reports/{s['report'].pk}/",
        "case_list": "/protection/cases/",
        "case_detail": f"/protection/cases/{s['case'].pk}/",
        "referrals": "/protection/referrals/",
        "accountability": "/protection/accountability/",
    }


# Who may open each page at all: the generated matrix (web/tests/test_matrix.py).


def test_anonymous_goes_to_login(client: Client, setup) -> None:
    for name, url in pages(setup).items():
        r = client.get(url)
        assert r.status_code == 302 and "/login/" in r["Location"], name


def test_lists_show_only_scope(client: Client, users, setup) -> None:
    number = setup["case"].number
    for who, sees in (
        ("officer", True),
        ("sup", True),
        ("county", True),
        ("officer_other", False),
        ("sup_other", False),
    ):
        client.force_login(users[who])
        assert (number in client.get("/protection/cases/").content.decode()) is sees, who
    client.force_login(users["school"])
    assert client.get("/protection/cases/").status_code == 403  # schools open no case at all
    client.force_login(users["social"])
    body = client.get("/protection/referrals/").content.decode()
    assert "页面" in body and "心理疏导" in body
    client.force_login(users["vw_other"])
    assert client.get("/protection/referrals/").status_code == 403


def test_reporter_identity_on_case_page(client: Client, users, setup) -> None:
    client.force_login(users["officer"])
    assert "巴山中心小学" in client.get(f"/protection/cases/{setup['case'].pk}/").content.decode()
    client.force_login(users["vw"])
    body = client.get(f"/protection/cases/{setup['case'].pk}/").content.decode()
    assert "巴山中心小学 教师" not in body


def test_provider_responds_only_to_its_referral(client: Client, users, setup, fulian) -> None:
    client.force_login(fulian)
    assert (
        client.post(
            f"/protection/referrals/{setup['referral'].pk}/respond/", {"action": "accept"}
        ).status_code
        == 404
    )
    client.force_login(users["social"])
    assert (
        client.post(
            f"/protection/referrals/{setup['referral'].pk}/respond/", {"action": "accept"}
        ).status_code
        == 302
    )
    setup["referral"].refresh_from_db()
    assert setup["referral"].state == "accepted"


def test_public_report_csrf_limit_and_ack(users) -> None:
    PolicyParameter.objects.update_or_create(
        key="protection_public_reports_per_hour", defaults={"value": 2, "description": "x"}
    )
    strict = Client(enforce_csrf_checks=True)
    assert strict.get("/report/").status_code == 200
    data = {
        "child_name": "路边孩子",
        "village": "500229102201",
        "situations": ["living_alone"],
        "discovered_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "description": "一个孩子深夜独自在路边",
        "anonymous": "on",
    }
    assert strict.post("/report/", data).status_code == 403  # no CSRF token
    client = Client()
    assert client.get("/report/").status_code == 200
    r = client.post("/report/", data)
    assert r.status_code == 302 and "/report/ack/" in r["Location"]
    ack = client.get(r["Location"])
    report = Report.objects.get(child_name="路边孩子")
    page = ack.content.decode()
    assert ack.status_code == 200 and report.number in page and report.case.number not in page
    assert report.anonymous and report.reporter_name == "" and report.reporter is None
    assert report.case.child is None and report.case.pending_name == "路边孩子"  # awaits the township
    assert client.post("/report/", data).status_code == 302
    limited = client.post("/report/", data)
    assert limited.status_code == 429 and "一小时内最多提交 2 次" in limited.content.decode()
    assert Case.objects.filter(pending_name="路边孩子").count() == 1  # later reports joined the open case
    assert client.get("/report/ack/not-a-token/").status_code == 404
    # another address is not limited
    other = Client(REMOTE_ADDR="10.0.0.9")
    other.get("/report/")
    assert other.post("/report/", data).status_code == 302
    # the police receive; the acknowledgement appears on the public page
    services.case_transition(actor=users["officer"], case_id=report.case_id, to="received")
    assert "书面回复" in client.get(r["Location"]).content.decode()
    assert "已受理，正在办理" in client.get(r["Location"]).content.decode()


def test_public_report_errors_are_shown(client: Client) -> None:
    client.get("/report/")
    r = client.post("/report/", {"child_name": "", "village": "", "description": ""})
    assert r.status_code == 200
    body = r.content.decode()
    assert "请至少选择一种情形" in body and "请选择儿童所在的村" in body
