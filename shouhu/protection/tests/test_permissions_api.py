"""Who sees what (R11.1): reporter progress only; another township's worker 404; a provider only its
referrals; reporter identity only for police and civil affairs; illegal or unauthorised moves 400."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _report(api: Any, user: Any, child: Any, situations: list[str] | None = None) -> dict[str, Any]:
    r = api(user).post(
        "/api/v1/reports/",
        {
            "child": str(child.pk),
            "situations": situations or ["living_alone"],
            "discovered_at": timezone.now().isoformat(),
            "description": "独居",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    return r.json()


@pytest.fixture
def case(users, make_child, api) -> dict[str, Any]:
    child = make_child(name="权限")
    rep = _report(api, users["vw"], child)
    return {"id": rep["case"], "report": rep["id"], "child": child}


def test_case_lists_follow_the_reach(users, api, case) -> None:
    """Who may open a case at all is the generated matrix (web/tests/test_matrix.py); here, the lists."""
    for name, listed in (
        ("officer", True),
        ("sup", True),
        ("county", True),
        ("vw", True),
        ("officer_other", False),
        ("sup_other", False),
        ("vw_other", False),
        ("vw_same_town", False),
    ):
        ids = [c["id"] for c in api(users[name]).get("/api/v1/cases/").json()["results"]]
        assert (case["id"] in ids) is listed, name
    for name in ("school", "doctor", "social", "edu", "leader", "auditor", "admin", "nobody"):
        assert api(users[name]).get("/api/v1/cases/").status_code == 403, name


def test_reporter_sees_progress_not_case_and_identity_is_confidential(users, api, case) -> None:
    vw = api(users["vw"])
    assert vw.get(f"/api/v1/reports/{case['report']}/").json()["state"] == "reported"
    # another user cannot read the report's progress
    assert api(users["sup"]).get(f"/api/v1/reports/{case['report']}/").status_code == 404
    # the village worker sees the case file (assists the assessment) but not the reporter's identity
    d = vw.get(f"/api/v1/cases/{case['id']}/").json()["detail"]["reports"][0]
    assert "reporter" not in d and "reporter_name" not in d
    for name in ("officer", "sup", "county"):
        d = api(users[name]).get(f"/api/v1/cases/{case['id']}/").json()["detail"]["reports"][0]
        assert d["reporter"] == "vw_102201", name


def test_school_reporter_gets_404_on_case(users, make_child, api) -> None:
    child = make_child(name="学校报")
    rep = _report(api, users["school"], child) if False else None
    r = api(users["school"]).post(
        "/api/v1/reports/",
        {
            "child_name": "学校报",
            "village": child.village_id,
            "situations": ["guardian_neglect"],
            "discovered_at": timezone.now().isoformat(),
            "description": "x",
        },
        format="json",
    )
    assert r.status_code == 201 and rep is None
    assert api(users["school"]).get(f"/api/v1/cases/{r.json()['case']}/").status_code == 403
    assert api(users["school"]).get("/api/v1/cases/").status_code == 403
    assert api(users["school"]).get("/api/v1/reports/").json()["count"] == 1


def test_illegal_and_unauthorised_transitions_answer_400_with_reason(users, api, case) -> None:
    url = f"/api/v1/cases/{case['id']}/transitions/"
    r = api(users["officer"]).post(url, {"to": "assessed"}, format="json")
    assert r.status_code == 400 and "不能从“已报告”转为“已评估”" in r.json()["to"][0]
    r = api(users["sup"]).post(url, {"to": "received"}, format="json")
    assert r.status_code == 400 and "无权" in r.json()["to"][0]
    r = api(users["officer"]).post(url, {"to": "flying"}, format="json")
    assert r.status_code == 400 and "to" in r.json()
    assert api(users["officer_other"]).post(url, {"to": "received"}, format="json").status_code == 404
    assert api(users["vw"]).get(f"/api/v1/cases/{case['id']}/").json()["allowed_transitions"] == []
    assert api(users["officer"]).get(f"/api/v1/cases/{case['id']}/").json()["allowed_transitions"] == [
        "received"
    ]
    # a measure outside the situation's checklist is refused
    api(users["officer"]).post(url, {"to": "received"}, format="json")
    r = api(users["officer"]).post(url, {"to": "responded", "measures": ["rapid_search"]}, format="json")
    assert r.status_code == 400 and "处置清单" in r.json()["measures"][0]
    r = api(users["officer"]).post(url, {"to": "responded"}, format="json")
    assert r.status_code == 400 and "measures" in r.json()


def _to_assisting(users, api, case_id: str, fulian) -> None:
    url = f"/api/v1/cases/{case_id}/transitions/"
    p, s = api(users["officer"]), api(users["sup"])
    p.post(url, {"to": "received"}, format="json")
    p.post(url, {"to": "responded", "measures": ["dispatch"]}, format="json")
    p.post(url, {"to": "township_notified"}, format="json")
    s.post(
        url,
        {
            "to": "assessed",
            "assessment": {
                "participants": "乡镇、民政、公安",
                "safety": "concern",
                "guardianship": "ok",
                "physical_health": "ok",
                "mental_health": "ok",
            },
        },
        format="json",
    )
    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    r = s.post(
        url,
        {
            "to": "assisting",
            "plan": "方案",
            "referrals": [
                {"service_kind": "counselling", "provider": "城口县阳光社会工作服务中心", "due_date": due},
                {"service_kind": "guardianship_guidance", "provider": "县妇联", "due_date": due},
            ],
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["risk_level"] == "medium"


def test_provider_sees_only_its_referrals(users, api, case, fulian) -> None:
    _to_assisting(users, api, case["id"], fulian)
    social = api(users["social"])
    mine = social.get("/api/v1/referrals/").json()["results"]
    assert [r["service_kind"] for r in mine] == ["counselling"]
    assert mine[0]["child_name"] == "权限" and mine[0]["need"] == ""
    # pending: what deciding needs — age, risk, the items referred —, not yet how to reach the family
    brief = mine[0]["brief"]
    assert brief["age"] >= 0 and brief["risk_level"] == "medium" and brief["items"][0]["service_kind"]
    assert "contacts" not in brief and "address" not in brief
    theirs = api(fulian).get("/api/v1/referrals/").json()["results"]
    assert [r["service_kind"] for r in theirs] == ["guardianship_guidance"]
    assert social.get(f"/api/v1/referrals/{theirs[0]['id']}/").status_code == 404
    assert (
        social.post(
            f"/api/v1/referrals/{theirs[0]['id']}/respond/", {"action": "accept"}, format="json"
        ).status_code
        == 404
    )
    assert social.get(f"/api/v1/cases/{case['id']}/").status_code == 403  # providers open no case
    # refusing needs a reason; a refused referral must be withdrawn with a reason before closing
    r = social.post(f"/api/v1/referrals/{mine[0]['id']}/respond/", {"action": "accept"}, format="json")
    # accepted: how to reach the family to serve the child (R6.5, issue 9 part 2)
    brief = r.json()["brief"]
    assert brief["address"] == "巴山镇梨山村3组" and brief["child_name"] == "权限"
    assert brief["contacts"] == [] or all(c["name"] for c in brief["contacts"])
    assert "illness" not in str(r.json()) and "health" not in brief
    r = social.post(f"/api/v1/referrals/{mine[0]['id']}/respond/", {"action": "refuse"}, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    r = social.post(
        f"/api/v1/referrals/{mine[0]['id']}/respond/",
        {"action": "refuse", "reason": "本月人手不足"},
        format="json",
    )
    assert r.json()["state"] == "refused"
    sup = api(users["sup"])
    r = sup.post(f"/api/v1/cases/{case['id']}/transitions/", {"to": "closed", "note": "结案"}, format="json")
    assert r.status_code == 400
    assert (
        social.post(f"/api/v1/referrals/{mine[0]['id']}/close/", {"reason": "x"}, format="json").status_code
        == 403  # withdrawing is civil affairs' step (case.assist)
    )
    r = sup.post(
        f"/api/v1/referrals/{mine[0]['id']}/close/", {"reason": "改由学校心理老师跟进"}, format="json"
    )
    assert r.json()["state"] == "closed"
    api(fulian).post(f"/api/v1/referrals/{theirs[0]['id']}/respond/", {"action": "accept"}, format="json")
    api(fulian).post(f"/api/v1/referrals/{theirs[0]['id']}/respond/", {"action": "done"}, format="json")
    r = sup.post(f"/api/v1/cases/{case['id']}/transitions/", {"to": "closed", "note": "结案"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "closed"


def test_anonymous_api_is_401(client, case) -> None:
    assert client.get("/api/v1/cases/").status_code == 401
    assert client.post("/api/v1/reports/", {}, content_type="application/json").status_code == 401


def test_case_list_query_count_is_constant(users, make_child, api, django_assert_max_num_queries) -> None:
    for i in range(6):
        _report(api, users["vw"], make_child(name=f"计数{i}"))
    county = api(users["county"])
    with django_assert_max_num_queries(16):
        r = county.get("/api/v1/cases/?page_size=100")
    assert r.json()["count"] == 6
