"""The schooling API (API.md "Schooling (R4)"): enrolments, absences, dropouts and their transitions,
pairings and school contacts — own school only, 404 for another school's pupils, 400 with a Chinese
message for bad input, never a 500."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shouhu.core.identity import compose_id_number
from shouhu.registry.models import Child
from shouhu.schooling.models import Enrolment, Pairing, SchoolContact
from shouhu.schooling.tests.conftest import enrol, make_child

pytestmark = pytest.mark.django_db


def client(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def last_school_days(n: int) -> list[date]:
    d, out = timezone.localdate(), list[date]()
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d -= timedelta(days=1)
    return sorted(out)


def test_enrolments_are_the_schools_own(users: dict[str, Any], school: Any, other_school: Any) -> None:
    mine = enrol(school, make_child(users, name="本校生"), n=1)
    theirs = enrol(other_school, make_child(users, name="外校生"), n=2)
    r = client(users["school"]).get("/api/v1/enrolments/")
    assert r.status_code == 200
    assert [row["id"] for row in r.json()["results"]] == [mine.pk]
    row = r.json()["results"][0]
    assert (
        row["left_behind_mark"] is True and row["school"] == school.pk and row["child"] == str(mine.child_id)
    )
    assert "id_number" not in row
    assert client(users["school"]).get(f"/api/v1/enrolments/{theirs.pk}/").status_code == 404
    assert (
        client(users["school"])
        .patch(f"/api/v1/enrolments/{theirs.pk}/", {"grade": "五年级"}, format="json")
        .status_code
        == 404
    )
    # the education commission sees both (county reach); the village worker the village's pupils
    assert client(users["edu"]).get("/api/v1/enrolments/").json()["count"] == 2
    assert client(users["vw_other"]).get("/api/v1/enrolments/").json()["count"] == 0


def test_update_with_version_and_bad_dates(users: dict[str, Any], school: Any) -> None:
    e = enrol(school, make_child(users), n=3)
    c = client(users["school"])
    r = c.patch(f"/api/v1/enrolments/{e.pk}/", {"class_name": "2班", "version": 1}, format="json")
    assert r.status_code == 200 and r.json()["class_name"] == "2班" and r.json()["version"] == 2
    assert (
        c.patch(f"/api/v1/enrolments/{e.pk}/", {"grade": "五年级", "version": 1}, format="json").status_code
        == 409
    )
    r = c.patch(f"/api/v1/enrolments/{e.pk}/", {"until": "2026-01-01"}, format="json")
    assert r.status_code == 400 and "离校日期" in r.json()["until"][0]


def test_a_pupil_not_on_the_ledger_opens_a_provisional_file(users: dict[str, Any], school: Any) -> None:
    c = client(users["school"])
    number = compose_id_number("500229", date(2017, 3, 3), 555)
    r = c.post(
        "/api/v1/enrolments/",
        {
            "id_number": number,
            "name": "新转来",
            "birth_date": "2017-03-03",
            "grade": "二年级",
            "class_name": "1班",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    child = Child.objects.get(pk=r.json()["child"])
    assert child.is_provisional and child.village_id == "500229102201" and child.school == school
    # a bad ID number and a missing name: 400 saying what to fix, nothing written
    r = c.post("/api/v1/enrolments/", {"id_number": "123", "birth_date": "2017-03-03"}, format="json")
    assert r.status_code == 400 and set(r.json()) >= {"name", "id_number"}
    assert Enrolment.objects.count() == 1
    # the same pupil again: already enrolled here
    r = c.post("/api/v1/enrolments/", {"child": str(child.pk)}, format="json")
    assert r.status_code == 400 and "已有在读学籍" in r.json()["child"][0]


def test_a_ledger_pupil_is_matched_by_id_number(users: dict[str, Any], school: Any) -> None:
    kid = make_child(users, name="台账生")
    r = client(users["school"]).post(
        "/api/v1/enrolments/",
        {"id_number": kid.id_number, "name": kid.name, "birth_date": kid.birth_date.isoformat()},
        format="json",
    )
    assert r.status_code == 201 and r.json()["child"] == str(kid.pk) and r.json()["match"] == "id"


def test_absences_open_a_dropout_case_at_once(users: dict[str, Any], school: Any, other_school: Any) -> None:
    kid = make_child(users)
    enrol(school, kid, n=4)
    c = client(users["school"])
    days = last_school_days(3)
    for d in days[:2]:
        r = c.post("/api/v1/absences/", {"child": str(kid.pk), "date": d.isoformat()}, format="json")
        assert r.status_code == 201 and r.json()["dropout"] is None
    r = c.post("/api/v1/absences/", {"child": str(kid.pk), "date": days[2].isoformat()}, format="json")
    assert r.status_code == 201 and r.json()["dropout"]
    case_id = r.json()["dropout"]
    alerts = client(users["vw"]).get("/api/v1/alerts/?kind=dropout").json()["results"]
    assert [a["child"] for a in alerts] == [str(kid.pk)]
    # bad input: 400, never a 500
    for body, field in (
        ({"child": str(kid.pk), "date": "2026-13-01"}, "date"),
        ({"child": str(kid.pk), "date": days[0].isoformat(), "days": "0.3"}, "days"),
        ({"child": str(kid.pk), "date": (timezone.localdate() + timedelta(days=3)).isoformat()}, "date"),
    ):
        r = c.post("/api/v1/absences/", body, format="json")
        assert r.status_code == 400 and field in r.json(), body
    # another school's pupil: 404
    stranger = make_child(users, name="外校")
    enrol(other_school, stranger, n=5)
    assert (
        c.post(
            "/api/v1/absences/", {"child": str(stranger.pk), "date": days[0].isoformat()}, format="json"
        ).status_code
        == 404
    )

    # the case: allowed transitions, deadlines, timeline; a move as for cases
    d = c.get(f"/api/v1/dropouts/{case_id}/").json()
    assert d["state"] == "absent" and "registered" in d["allowed_transitions"]
    assert [x["step"] for x in d["deadlines"]] == ["registered", "persuading", "reported"]
    assert d["timeline"][0]["to"] == "absent"
    r = c.post(f"/api/v1/dropouts/{case_id}/transitions/", {"to": "reported", "note": "x"}, format="json")
    assert r.status_code == 400 and "可以转为" in r.json()["to"][0]
    r = c.post(f"/api/v1/dropouts/{case_id}/transitions/", {"to": "registered"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "registered"
    r = c.post(f"/api/v1/dropouts/{case_id}/transitions/", {"to": "persuading"}, format="json")
    assert r.status_code == 400 and "note" in r.json()
    # the village worker persuades too; another township's worker does not see the case
    r = client(users["vw"]).post(
        f"/api/v1/dropouts/{case_id}/transitions/",
        {"to": "persuading", "note": "上门", "by_unit": "village"},
        format="json",
    )
    assert r.status_code == 200
    r = client(users["vw"]).post(
        f"/api/v1/dropouts/{case_id}/attempts/", {"note": "再次上门", "by_unit": "village"}, format="json"
    )
    assert r.status_code == 201 and r.json()["timeline"][-1]["attempt"] is True
    assert client(users["vw_other"]).get(f"/api/v1/dropouts/{case_id}/").status_code == 404
    assert client(users["officer"]).get(f"/api/v1/dropouts/{case_id}/").status_code == 403


def test_pairings_and_school_contacts(users: dict[str, Any], school: Any) -> None:
    kid = make_child(users)
    enrol(school, kid, n=6)
    c = client(users["school"])
    r = c.post(
        "/api/v1/pairings/",
        {"child": str(kid.pk), "teacher_name": "王老师", "position": "class_teacher"},
        format="json",
    )
    assert r.status_code == 201
    assert (
        c.post(
            "/api/v1/pairings/", {"child": str(kid.pk), "teacher_name": "", "position": "x"}, format="json"
        ).status_code
        == 400
    )
    r = c.post(
        "/api/v1/school-contacts/",
        {"child": str(kid.pk), "kind": "home_visit", "with_whom": "祖母"},
        format="json",
    )
    assert r.status_code == 201
    assert SchoolContact.objects.get().pairing == Pairing.objects.get()
    assert c.get("/api/v1/school-contacts/").json()["count"] == 1
    assert client(users["vw"]).get("/api/v1/pairings/").status_code == 403


def test_wellbeing_records_and_the_report_clock(users: dict[str, Any], school: Any) -> None:
    from shouhu.protection.models import Finding

    kid = make_child(users)
    enrol(school, kid, n=7)
    c = client(users["school"])
    r = c.post(
        "/api/v1/wellbeing/",
        {"child": str(kid.pk), "kind": "psychological", "note": "情绪低落", "counselling": True},
        format="json",
    )
    assert r.status_code == 201 and not Finding.objects.exists()
    r = c.post(
        "/api/v1/wellbeing/", {"child": str(kid.pk), "kind": "dormitory", "note": "夜里哭"}, format="json"
    )
    assert r.status_code == 400 and "不寄宿" in r.json()["kind"][0]
    r = c.post(
        "/api/v1/wellbeing/",
        {"child": str(kid.pk), "kind": "behaviour", "note": "x", "situations": ["nope"]},
        format="json",
    )
    assert r.status_code == 400 and "nope" in r.json()["situations"][0]
    r = c.post(
        "/api/v1/wellbeing/",
        {
            "child": str(kid.pk),
            "kind": "behaviour",
            "note": "身上有伤，自述被打",
            "situations": ["domestic_violence"],
        },
        format="json",
    )
    assert r.status_code == 201
    f = Finding.objects.get()
    assert (f.unit, f.child, f.situations, f.source) == (
        school,
        kid,
        ["domestic_violence"],
        "school_wellbeing",
    )
    assert c.get("/api/v1/wellbeing/").json()["count"] == 2
