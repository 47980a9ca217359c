"""R7: measures against a guardian, the three revocation grounds from the records with evidence, the
petition → hearing → decision, and the new guardian written on the child's file by the registry."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shouhu.protection import rules, services
from shouhu.registry.models import Guardian

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def facts(**kw):
    base = dict(
        child_birth=date(2016, 5, 1),
        reports=(),
        conduct=(),
        assessment_guardianship_serious=False,
        assessment_health_serious=False,
        assessment_on=None,
    )
    base.update(kw)
    return rules.GroundsFacts(**base)


def test_ground_a_needs_education_then_repeat() -> None:
    r1 = rules.ReportFact(date(2026, 1, 5), frozenset({"living_alone"}), "报告1")
    edu = rules.GuardianConduct(date(2026, 1, 6), "education", "unattended", None, False, "批评教育")
    g = {
        x.code: x
        for x in rules.revocation_grounds(
            facts(reports=(r1,), conduct=(edu,)), today=date(2026, 2, 1), months_limit=6
        )
    }
    assert not g["a"].met
    r2 = rules.ReportFact(date(2026, 1, 20), frozenset({"living_alone"}), "报告2")
    g = {
        x.code: x
        for x in rules.revocation_grounds(
            facts(reports=(r1, r2), conduct=(edu,)), today=date(2026, 2, 1), months_limit=6
        )
    }
    assert g["a"].met and [e.text for e in g["a"].evidence] == ["报告1", "批评教育", "报告2"]


def test_ground_b_six_months_of_non_performance() -> None:
    r1 = rules.ReportFact(date(2025, 7, 1), frozenset({"guardian_neglect"}), "不履行监护")
    f = facts(reports=(r1,), assessment_guardianship_serious=True)
    g = {x.code: x for x in rules.revocation_grounds(f, today=date(2025, 12, 31), months_limit=6)}
    assert not g["b"].met and "5 个月" in g["b"].reason
    g = {x.code: x for x in rules.revocation_grounds(f, today=date(2026, 1, 1), months_limit=6)}
    assert g["b"].met and "6 个月" in g["b"].reason and g["b"].evidence[0].text == "不履行监护"


def test_ground_c_serious_harm() -> None:
    dv = rules.GuardianConduct(date(2026, 1, 6), "penalty", "violence", None, True, "治安处罚")
    g = {
        x.code: x
        for x in rules.revocation_grounds(facts(conduct=(dv,)), today=date(2026, 2, 1), months_limit=6)
    }
    assert g["c"].met and not g["a"].met and not g["b"].met


def test_petition_decision_sets_new_guardian(users, make_child, api) -> None:
    child = make_child(name="监护干预")
    rep = services.report_submit(
        actor=users["vw"],
        data={
            "child": child.pk,
            "situations": ["domestic_violence"],
            "discovered_at": datetime.now(TZ) - timedelta(hours=1),
            "description": "父亲殴打",
        },
    )
    case = rep.case
    police, county = api(users["officer"]), api(users["county"])
    r = police.post(
        f"/api/v1/cases/{case.pk}/guardian-measures/",
        {
            "guardian_name": "张大山",
            "guardian_relation": "父亲",
            "conduct": "violence",
            "kind": "penalty",
            "decided_on": "2026-11-01",
            "outcome": "行政拘留十日",
            "serious_harm": True,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    grounds = county.get(f"/api/v1/cases/{case.pk}/grounds/").json()
    c = next(g for g in grounds if g["code"] == "c")
    assert c["met"] and any("治安管理处罚" in e["text"] for e in c["evidence"])
    # a petition on a ground the records do not show is refused
    r = county.post(
        f"/api/v1/cases/{case.pk}/petitions/",
        {
            "petitioner": "civil_affairs",
            "guardian_name": "张大山",
            "grounds": ["b"],
            "court": "城口县人民法院",
            "filed_on": "2026-11-10",
        },
        format="json",
    )
    assert r.status_code == 400 and "grounds" in r.json()
    assert (
        police.post(
            f"/api/v1/cases/{case.pk}/petitions/",
            {
                "petitioner": "civil_affairs",
                "guardian_name": "张大山",
                "grounds": ["c"],
                "court": "城口县人民法院",
            },
            format="json",
        ).status_code
        == 400
    )
    r = county.post(
        f"/api/v1/cases/{case.pk}/petitions/",
        {
            "petitioner": "civil_affairs",
            "guardian_name": "张大山",
            "grounds": ["c"],
            "court": "城口县人民法院",
            "filed_on": "2026-11-10",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    pid = r.json()["detail"]["petitions"][0]["id"]
    county.post(f"/api/v1/cases/{case.pk}/petitions/{pid}/", {"hearing_on": "2026-11-20"}, format="json")
    r = county.post(f"/api/v1/cases/{case.pk}/petitions/{pid}/", {"decision": "revoked"}, format="json")
    assert r.status_code == 400 and "new_guardian" in r.json()
    r = county.post(
        f"/api/v1/cases/{case.pk}/petitions/{pid}/",
        {
            "decision": "revoked",
            "decided_on": "2026-11-25",
            "new_guardian": {"name": "李秀英", "relationship": "62"},
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    p = r.json()["detail"]["petitions"][0]
    assert (
        p["decision"] == "revoked" and p["hearing_on"] == "2026-11-20" and p["new_guardian_name"] == "李秀英"
    )
    assert Guardian.objects.get(child=child, role="carer").name == "李秀英"
