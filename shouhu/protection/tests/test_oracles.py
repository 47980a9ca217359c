"""No existence oracles (R11.1; issue 9 part 8): a reporter — the public page included — learns only
their own report's progress, never whether a case about the named child was already open, nor its stage
or number."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from shouhu.protection import services
from shouhu.protection.models import Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_case(users: dict[str, Any], make_child: Any) -> Any:
    """A case about 王小丫 that the station already holds (received, responded)."""
    child = make_child(name="王小丫")
    report = services.report_submit(
        actor=users["vw"],
        data={
            "child": str(child.pk),
            "situations": ["living_alone"],
            "discovered_at": timezone.now(),
            "description": "独居",
        },
    )
    case = report.case
    services.case_transition(actor=users["officer"], case_id=case.pk, to="received")
    services.case_transition(
        actor=users["officer"], case_id=case.pk, to="responded", data={"measures": ["dispatch"]}
    )
    return case


def _public(child_name: str) -> Any:
    client = Client(REMOTE_ADDR="10.1.2.3")
    data = {
        "child_name": child_name,
        "village": "500229102201",
        "situations": ["living_alone"],
        "discovered_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "description": "路过看到",
        "anonymous": "on",
    }
    client.get("/report/")  # the page gives the browser its id (a signed cookie)
    r = client.post("/report/", data)
    assert r.status_code == 302
    return client, r["Location"]


def test_the_public_page_tells_nothing_about_an_open_case(users: dict[str, Any], open_case: Any) -> None:
    client, ack_url = _public("王小丫")  # a child with a case the station already holds
    page = client.get(ack_url).content.decode()
    _new_client, new_ack = _public("李无案")  # a child with no case at all
    other = Client().get(new_ack).content.decode()
    for text in (page, other):
        assert "已提交，等待派出所受理" in text and "报告编号" in text
        assert "已处置" not in text and "已受理，正在办理" not in text
    assert open_case.number not in page
    report = Report.objects.get(child_name="王小丫", anonymous=True)
    assert report.case_id == open_case.pk and report.received_at is None  # joined, not received for them
    # the station receives the new report and answers the reporter in writing
    assert services.reports_receive(actor=users["officer"], case_id=open_case.pk)
    page = client.get(ack_url).content.decode()
    assert "已受理，正在办理" in page and report.number in page and open_case.number not in page


def test_the_police_see_a_joined_report_waiting(users: dict[str, Any], open_case: Any) -> None:
    _public("王小丫")
    web = Client()
    web.force_login(users["officer"])
    page = web.get(f"/protection/cases/{open_case.pk}/").content.decode()
    assert 'id="pending-reports"' in page and "受理并书面回复" in page
    r = web.post(f"/protection/cases/{open_case.pk}/do/receive_reports/")
    assert r.status_code == 302
    assert not Report.objects.filter(case=open_case, received_at__isnull=True).exists()
    assert 'id="pending-reports"' not in web.get(f"/protection/cases/{open_case.pk}/").content.decode()
    # only the station receives: the township's supervisor cannot
    _public("王小丫")
    sup = Client()
    sup.force_login(users["sup"])
    sup.post(f"/protection/cases/{open_case.pk}/do/receive_reports/")
    assert Report.objects.filter(case=open_case, received_at__isnull=True).count() == 1


def test_the_api_answers_a_reporter_with_their_own_progress(users: dict[str, Any], open_case: Any) -> None:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(users["doctor"])
    r = api.post(
        "/api/v1/reports/",
        {
            "child_name": "王小丫",
            "village": "500229102201",
            "situations": ["injury_or_harm"],
            "discovered_at": timezone.now().isoformat(),
            "description": "就诊发现伤痕",
        },
        format="json",
    )
    body = r.json()
    assert r.status_code == 201 and body["case"] == str(open_case.pk)  # API.md: the case it joined
    assert body["state"] == "reported" and body["number"].startswith("BG")
    assert "case_number" not in body and open_case.number not in str(body)
    assert api.get(f"/api/v1/reports/{body['id']}/").json()["state"] == "reported"
    # another reporter's report is not theirs to read
    other = Report.objects.exclude(pk=body["id"]).first()
    assert api.get(f"/api/v1/reports/{other.pk}/").status_code == 404
