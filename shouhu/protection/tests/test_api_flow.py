"""The issue's end-to-end check through the API: a school reports a child living alone → police accept,
order the father back and admonish the parents, notify the township → the township assesses the risk
as high and refers to counselling and guardianship guidance → both providers accept and complete →
the case closes. Every step's deadline is met and shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shouhu.core.models import Event
from shouhu.protection.models import Accountability, Case, Report

pytestmark = pytest.mark.django_db


def test_school_report_to_closed_case(users, make_child, api, fulian, orgs) -> None:
    child = make_child(name="王小虎")
    from shouhu.registry.models import Child

    Child.objects.filter(pk=child.pk).update(school=orgs["巴山中心小学"])
    school, police, sup = api(users["school"]), api(users["officer"]), api(users["sup"])
    now = timezone.now()

    r = school.post(
        "/api/v1/reports/",
        {
            "child": str(child.pk),
            "situations": ["living_alone"],
            "discovered_at": (now - timedelta(hours=2)).isoformat(),
            "description": "连续三天放学后独自在家，无成年人照料。",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    case_id = r.json()["case"]
    report_id = r.json()["id"]
    case = Case.objects.get(pk=case_id)
    assert case.station == orgs["城口县公安局巴山派出所"]  # routed to the station of the village at once
    assert case.state == "reported"

    # the school sees its report's progress, not the case file (it opens no case at all: 403)
    assert school.get(f"/api/v1/reports/{report_id}/").json()["state"] == "reported"
    assert school.get(f"/api/v1/cases/{case_id}/").status_code == 403

    queue = police.get("/api/v1/cases/?state=reported").json()
    assert [c["id"] for c in queue["results"]] == [case_id]
    assert queue["results"][0]["allowed_transitions"] == ["received"]

    r = police.post(
        f"/api/v1/cases/{case_id}/transitions/", {"to": "received", "note": "已受理，出警"}, format="json"
    )
    assert r.status_code == 200, r.content
    ack = school.get(f"/api/v1/reports/{report_id}/").json()
    assert ack["state"] == "received" and ack["acknowledged_at"]
    # the written answer cites the report's own number, not the case's (issue 9 part 8)
    assert ack["number"] in ack["acknowledgement"] and case.number not in ack["acknowledgement"]

    detail = police.get(f"/api/v1/cases/{case_id}/").json()
    checklist = {i["code"] for i in detail["detail"]["checklist"]}
    assert {"order_parents_return", "admonish_parents", "appoint_entrusted_guardian"} <= checklist
    assert detail["detail"]["reports"][0]["reporter"] == "school_bashan"  # police see the reporter

    r = police.post(
        f"/api/v1/cases/{case_id}/transitions/",
        {
            "to": "responded",
            "note": "责令父亲返回，训诫父母",
            "measures": ["dispatch", "order_parents_return", "admonish_parents"],
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    r = police.post(
        f"/api/v1/cases/{case_id}/transitions/",
        {"to": "township_notified", "note": "通报巴山镇"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["holder"] == "巴山镇人民政府"

    r = sup.post(
        f"/api/v1/cases/{case_id}/transitions/",
        {
            "to": "assessed",
            "note": "联合评估",
            "assessment": {
                "participants": ["巴山镇督导员", "县民政局", "巴山派出所", "梨山村儿童主任", "巴山中心小学"],
                "safety": "serious",
                "guardianship": "serious",
                "physical_health": "ok",
                "mental_health": "concern",
            },
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["risk_level"] == "high"

    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    r = sup.post(
        f"/api/v1/cases/{case_id}/transitions/",
        {
            "to": "assisting",
            "plan": "心理疏导与监护指导，父亲返乡照料",
            "referrals": [
                {
                    "service_kind": "counselling",
                    "provider": "城口县阳光社会工作服务中心",
                    "due_date": due,
                    "need": "心理疏导",
                },
                {
                    "service_kind": "guardianship_guidance",
                    "provider": "县妇联",
                    "due_date": due,
                    "need": "家庭教育指导",
                },
            ],
        },
        format="json",
    )
    assert r.status_code == 200, r.content

    # closing with open referrals is refused with the reason
    r = sup.post(f"/api/v1/cases/{case_id}/transitions/", {"to": "closed", "note": "结案"}, format="json")
    assert r.status_code == 400 and "转介未完成" in r.json()["to"][0]

    for provider in (api(users["social"]), api(fulian)):
        mine = provider.get("/api/v1/referrals/").json()["results"]
        assert len(mine) == 1
        rid = mine[0]["id"]
        assert (
            provider.post(
                f"/api/v1/referrals/{rid}/respond/", {"action": "accept"}, format="json"
            ).status_code
            == 200
        )
        r = provider.post(
            f"/api/v1/referrals/{rid}/respond/",
            {"action": "done", "outcome": "已完成 4 次服务"},
            format="json",
        )
        assert r.status_code == 200 and r.json()["state"] == "done"

    r = sup.post(
        f"/api/v1/cases/{case_id}/transitions/",
        {"to": "closed", "note": "父亲已返乡照料，服务完成"},
        format="json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "closed"
    assert [d["step"] for d in body["deadlines"]] == [
        "received",
        "responded",
        "township_notified",
        "assessed",
        "assisting",
    ]
    assert all(d["met"] is True and d["due"] and d["done_at"] for d in body["deadlines"])
    assert [t["to"] for t in body["timeline"]] == [
        "received",
        "responded",
        "township_notified",
        "assessed",
        "assisting",
        "closed",
    ]
    assert school.get(f"/api/v1/reports/{report_id}/").json()["state"] == "concluded"
    # the child's timeline shows the chain; no accountability for anyone
    verbs = set(Event.objects.filter(child_id=str(child.pk)).values_list("verb", flat=True))
    assert {"case.opened", "case.transition", "referral.accept", "referral.done"} <= verbs
    assert not Accountability.objects.exists()
    assert Report.objects.get(pk=report_id).received_at is not None


def test_citizen_report_opens_provisional_file_and_reopen(users, api) -> None:
    r = api(users["nobody"]).post(
        "/api/v1/reports/",
        {
            "child_name": "小红",
            "village": "500229102201",
            "child_age": 8,
            "situations": ["domestic_violence"],
            "discovered_at": timezone.now().isoformat(),
            "description": "邻居家常有打骂声",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    case = Case.objects.select_related("child").get(pk=r.json()["case"])
    assert case.child.is_provisional and case.child.village_id == "500229102201"
    assert case.station.name == "城口县公安局巴山派出所"
    rep = Report.objects.get(pk=r.json()["id"])
    assert rep.reporter_kind == "citizen" and not rep.mandated
    # second report about the same child joins the open case
    r2 = api(users["vw"]).post(
        "/api/v1/reports/",
        {
            "child": str(case.child_id),
            "situations": ["injury_or_harm"],
            "discovered_at": timezone.now().isoformat(),
            "description": "手臂有淤青",
        },
        format="json",
    )
    assert r2.status_code == 201 and r2.json()["case"] == str(case.pk)
    case.refresh_from_db()
    assert case.situations == ["domestic_violence", "injury_or_harm"]
    police = api(users["officer"])
    police.post(f"/api/v1/cases/{case.pk}/transitions/", {"to": "received"}, format="json")
    r = police.post(f"/api/v1/cases/{case.pk}/transitions/", {"to": "unfounded"}, format="json")
    assert r.status_code == 400 and "note" in r.json()
    r = police.post(
        f"/api/v1/cases/{case.pk}/transitions/", {"to": "unfounded", "note": "经查为正常管教"}, format="json"
    )
    assert r.json()["state"] == "unfounded" and r.json()["allowed_transitions"] == ["reopened"]
    r = api(users["sup"]).post(
        f"/api/v1/cases/{case.pk}/transitions/", {"to": "reopened", "note": "再次接到反映"}, format="json"
    )
    assert r.status_code == 200 and r.json()["state"] == "reopened"
    assert r.json()["allowed_transitions"] == ["assessed"]


def test_report_validation_messages(users, api) -> None:
    r = api(users["school"]).post(
        "/api/v1/reports/",
        {
            "child_name": "",
            "village": "123",
            "situations": ["nope"],
            "discovered_at": timezone.now().isoformat(),
            "description": "x",
        },
        format="json",
    )
    assert r.status_code == 400
    body = r.json()
    assert "situations" in body and "village" in body and "child_name" in body


def test_late_mandated_report_is_accountable(users, make_child, api, orgs) -> None:
    child = make_child(name="迟报")
    r = api(users["doctor"]).post(
        "/api/v1/reports/",
        {
            "child_name": "迟报",
            "village": child.village_id,
            "situations": ["injury_or_harm"],
            "discovered_at": (timezone.now() - timedelta(days=3)).isoformat(),
            "description": "就诊时发现多处伤痕",
        },
        format="json",
    )
    assert r.status_code == 201
    assert r.json()["case"]
    acc = Accountability.objects.get(kind="late_report")
    assert acc.unit.name == "巴山卫生院"


def test_reassignment_is_recorded(users, make_child, api) -> None:
    from shouhu.core.models import Organisation

    child = make_child(name="改派")
    r = api(users["vw"]).post(
        "/api/v1/reports/",
        {
            "child": str(child.pk),
            "situations": ["missing"],
            "discovered_at": timezone.now().isoformat(),
            "description": "走失",
        },
        format="json",
    )
    case_id = r.json()["case"]
    other = Organisation.objects.get(name="城口县公安局龙田派出所")
    r = api(users["officer"]).post(
        f"/api/v1/cases/{case_id}/reassign/",
        {"station": other.pk, "reason": "孩子在龙田乡走失"},
        format="json",
    )
    assert r.status_code == 200
    assert api(users["officer"]).get(f"/api/v1/cases/{case_id}/").status_code == 404
    d = api(users["officer_other"]).get(f"/api/v1/cases/{case_id}/").json()
    assert [c["to"] for c in d["detail"]["station_changes"]] == [
        "城口县公安局巴山派出所",
        "城口县公安局龙田派出所",
    ]
    # missing: responding needs the rapid search
    p = api(users["officer_other"])
    p.post(f"/api/v1/cases/{case_id}/transitions/", {"to": "received"}, format="json")
    r = p.post(
        f"/api/v1/cases/{case_id}/transitions/", {"to": "responded", "measures": ["dispatch"]}, format="json"
    )
    assert r.status_code == 400 and "快速查找" in r.json()["measures"][0]
    r = p.post(f"/api/v1/cases/{case_id}/searches/", {"action": "start"}, format="json")
    assert r.status_code == 200
    r = p.post(
        f"/api/v1/cases/{case_id}/transitions/",
        {"to": "responded", "measures": ["rapid_search"]},
        format="json",
    )
    assert r.status_code == 200
    r = p.post(
        f"/api/v1/cases/{case_id}/searches/", {"action": "end", "outcome": "已在亲戚家找到"}, format="json"
    )
    assert r.json()["detail"]["searches"][0]["outcome"] == "已在亲戚家找到"
    r = p.post(
        f"/api/v1/cases/{case_id}/placements/",
        {
            "place_kind": "relative",
            "place": "外婆家",
            "start": timezone.now().isoformat(),
            "notified": "父亲张大山（电话）",
        },
        format="json",
    )
    assert r.status_code == 201 and r.json()["detail"]["placements"][0]["notified"] == "父亲张大山（电话）"


def test_a_json_array_body_is_a_400_not_a_crash(users, make_child, api) -> None:
    """Case actions read fields off the body: an array is refused with the API's error format."""
    child = make_child(name="李小花")
    r = api(users["vw"]).post(
        "/api/v1/reports/",
        {
            "child": str(child.pk),
            "situations": ["living_alone"],
            "discovered_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "description": "独自在家。",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    case_id = r.json()["case"]
    police = api(users["officer"])
    for action in ("measures", "searches", "follow-ups", "placements", "transitions"):
        r = police.post(f"/api/v1/cases/{case_id}/{action}/", ["dispatch"], format="json")
        assert r.status_code == 400, (action, r.content)
    r = police.post(f"/api/v1/cases/{case_id}/measures/", ["dispatch"], format="json")
    assert r.json() == {"detail": ["请求体须为 JSON 对象"]}
