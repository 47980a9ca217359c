"""API of the services module (API.md "Services (R8)"): needs, providers, programmes and activities in
/api/v1/ and in the OpenAPI description; 400s that say what to fix; scope by provider and volunteer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shouhu.core.models import RoleAssignment, User
from shouhu.services import activities, services
from shouhu.services.models import Enrolment, Need, Programme, Provider, Session

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    c = APIClient()
    c.default_format = "json"
    c.force_authenticate(user)
    return c


def test_need_create_and_its_shape(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    r = api(users["vw"]).post(
        "/api/v1/needs/",
        {"child": str(child.pk), "type": "homework_help", "source": "visit", "note": "作业跟不上"},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert {
        "id",
        "child",
        "type",
        "source",
        "note",
        "state",
        "provider",
        "allowed_transitions",
        "timeline",
    } <= set(body)
    assert body["child"] == str(child.pk) and body["type"] == "homework_help" and body["state"] == "open"
    assert body["provider"] is None and body["allowed_transitions"] == ["offered", "unmet"]
    assert [s["to_state"] for s in body["timeline"]] == ["open"]
    # the same open need again, an unknown type, no child, a child out of reach
    again = api(users["vw"]).post(
        "/api/v1/needs/", {"child": str(child.pk), "type": "homework_help", "source": "visit"}
    )
    assert again.status_code == 400 and "type" in again.json()
    bad = api(users["vw"]).post(
        "/api/v1/needs/", {"child": str(child.pk), "type": "flying", "source": "visit"}
    )
    assert bad.status_code == 400 and "flying" in bad.json()["type"][0]
    bad_source = api(users["vw"]).post(
        "/api/v1/needs/", {"child": str(child.pk), "type": "counselling", "source": "x"}
    )
    assert bad_source.status_code == 400 and "source" in bad_source.json()
    assert api(users["vw"]).post("/api/v1/needs/", {"type": "counselling"}).status_code == 400
    assert (
        api(users["vw_other"])
        .post("/api/v1/needs/", {"child": str(child.pk), "type": "counselling"})
        .status_code
        == 404
    )
    en = api(users["vw"]).post(
        "/api/v1/needs/", {"child": str(child.pk), "type": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert en.status_code == 400
    assert Need.objects.filter(child=child).count() == 1  # nothing half-written


def test_transitions_through_the_api_and_the_providers_view(
    users: dict[str, Any], make_child: Any, provider: Provider, staff: User
) -> None:
    child = make_child()
    need = services.need_record(
        actor=users["vw"], child=child, data={"type": "counselling", "source": "assessment"}
    )
    url = f"/api/v1/needs/{need.pk}/"
    assert api(staff).get(url).status_code == 404  # not offered to it yet
    assert api(staff).get("/api/v1/needs/").json()["count"] == 0
    m = api(users["vw"]).get(url + "matches/")
    assert m.status_code == 200 and [x["provider"] for x in m.json()] == [provider.pk]
    wrong = api(users["vw"]).post(url + "transitions/", {"to": "offered", "provider": 999999})
    assert wrong.status_code == 400 and "provider" in wrong.json()
    illegal = api(users["vw"]).post(url + "transitions/", {"to": "delivered"})
    assert illegal.status_code == 400 and "可以转为" in illegal.json()["to"][0]
    ok = api(users["vw"]).post(url + "transitions/", {"to": "offered", "provider": provider.pk})
    assert ok.status_code == 200 and ok.json()["provider"] == provider.pk and ok.json()["state"] == "offered"
    mine = api(staff).get("/api/v1/needs/").json()
    assert mine["count"] == 1 and mine["results"][0]["allowed_transitions"] == ["accepted", "open"]
    assert api(staff).post(url + "transitions/", {"to": "accepted"}).json()["state"] == "accepted"
    no_note = api(staff).post(url + "transitions/", {"to": "open"})
    assert no_note.status_code == 400
    assert api(staff).post(url + "transitions/", {"to": "delivered"}).json()["state"] == "delivered"
    assert api(staff).post(url + "transitions/", {"to": "closed"}).status_code == 400  # the village closes
    assert api(users["vw"]).post(url + "transitions/", {"to": "closed"}).json()["state"] == "closed"
    assert api(users["vw"]).post(url + "transitions/", ["x"], format="json").status_code == 400


def test_capacity_is_respected_by_matching(
    users: dict[str, Any], make_child: Any, provider: Provider
) -> None:
    kids = [make_child(name=f"容量{i}") for i in range(3)]
    needs = [
        services.need_record(actor=users["vw"], child=c, data={"type": "counselling", "source": "visit"})
        for c in kids
    ]
    for n in needs[:2]:
        services.need_transition(actor=users["vw"], need=n, to="offered", provider=provider.pk)
    r = api(users["vw"]).post(
        f"/api/v1/needs/{needs[2].pk}/transitions/", {"to": "offered", "provider": provider.pk}
    )
    assert r.status_code == 400 and "名额" in r.json()["provider"][0]


def test_providers_registered_and_approved_by_the_county(users: dict[str, Any]) -> None:
    body = {
        "name": "城口县青少年志愿服务队",
        "region": "500229000000",
        "category": "volunteer_team",
        "villages": ["500229102201", "500229102202"],
        "service_types": ["homework_help", "self_protection"],
        "capacity": 40,
    }
    assert api(users["sup"]).post("/api/v1/providers/", body).status_code == 403
    r = api(users["county"]).post("/api/v1/providers/", body)
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert r.json()["status"] == "pending" and r.json()["villages"] == ["500229102201", "500229102202"]
    bad = api(users["county"]).post(
        "/api/v1/providers/", {**body, "name": "另一个", "villages": ["500229102000"]}
    )
    assert bad.status_code == 400 and "villages" in bad.json()
    assert not Provider.objects.filter(organisation__name="另一个").exists()
    refused = api(users["county"]).post(f"/api/v1/providers/{pid}/decide/", {"status": "refused"})
    assert refused.status_code == 400 and "note" in refused.json()
    ok = api(users["county"]).post(f"/api/v1/providers/{pid}/decide/", {"status": "approved"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    # the village worker of a served village sees it; another township's does not
    assert api(users["vw"]).get(f"/api/v1/providers/{pid}/").status_code == 200
    assert api(users["vw_other"]).get(f"/api/v1/providers/{pid}/").status_code == 404


def _session_of_20(users: dict[str, Any], make_child: Any, provider: Provider) -> tuple[Session, list[Any]]:
    programme = services.programme_create(
        actor=users["county"],
        provider=provider,
        data={
            "name": "四点半课堂",
            "service_type": "homework_help",
            "village": "500229102201",
            "key_times": ["after_school"],
        },
    )
    kids = [make_child(name=f"课堂{i:02d}") for i in range(20)]
    Enrolment.objects.bulk_create(Enrolment(programme=programme, child=c) for c in kids)
    session = activities.session_create(
        actor=users["county"],
        programme=programme,
        data={"starts_at": timezone.now() - timedelta(hours=2), "hours": "2", "volunteer": "volunteer"},
    )
    return session, kids


def test_a_volunteer_takes_attendance_and_sees_only_their_sessions(
    users: dict[str, Any], make_child: Any, provider: Provider
) -> None:
    session, kids = _session_of_20(users, make_child, provider)
    other = Session.objects.create(programme=session.programme, starts_at=timezone.now() - timedelta(days=1))
    vol = users["volunteer"]
    listed = api(vol).get("/api/v1/activities/").json()
    assert [s["id"] for s in listed["results"]] == [session.pk]
    assert api(vol).get(f"/api/v1/activities/{other.pk}/").status_code == 404
    present = [str(c.pk) for c in kids[:17]]
    r = api(vol).post(
        f"/api/v1/activities/{session.pk}/attendance/",
        {"present": present, "feedback": {present[0]: "很开心"}},
    )
    assert r.status_code == 200, r.content
    rows = r.json()["attendance"]
    assert len(rows) == 20 and sum(a["present"] for a in rows) == 17
    assert {a["hours"] for a in rows if a["present"]} == {"2.0"}
    stranger = make_child(name="外人")
    bad = api(vol).post(f"/api/v1/activities/{session.pk}/attendance/", {"present": [str(stranger.pk)]})
    assert bad.status_code == 400 and "present" in bad.json()
    assert api(vol).post(f"/api/v1/activities/{session.pk}/attendance/", {"present": "x"}).status_code == 400
    assert api(vol).get("/api/v1/needs/").status_code == 403  # a volunteer sees no needs
    assert (
        api(users["vw"]).post(f"/api/v1/activities/{session.pk}/attendance/", {"present": []}).status_code
        == 403
    )


def test_a_provider_manages_only_its_own_programmes(
    users: dict[str, Any], provider: Provider, staff: User
) -> None:
    body = {
        "provider": provider.pk,
        "name": "七彩假期",
        "service_type": "homework_help",
        "village": "500229102201",
    }
    r = api(staff).post("/api/v1/programmes/", {**body, "key_times": ["vacation"]})
    assert r.status_code == 201 and r.json()["key_times"] == ["vacation"]
    assert api(staff).post("/api/v1/programmes/", {**body, "village": "500229201201"}).status_code == 400
    assert api(staff).post("/api/v1/programmes/", {**body, "key_times": ["midnight"]}).status_code == 400
    social = Provider.objects.create(organisation=users["social"].organisation, category="social_work")
    assert api(staff).post("/api/v1/programmes/", {**body, "provider": social.pk}).status_code == 404
    assert Programme.objects.filter(provider=provider).count() == 1


def test_the_openapi_description_names_the_services() -> None:
    user = User.objects.create_user("schema_reader", password="x-pass-12345")
    r = api(user).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    text = r.content.decode()
    for path in (
        "/api/v1/needs/",
        "/api/v1/needs/{id}/transitions/",
        "/api/v1/providers/",
        "/api/v1/activities/",
    ):
        assert path in text, path


def test_volunteer_role_reaches_only_sessions_naming_them(users: dict[str, Any]) -> None:
    a = RoleAssignment.objects.get(user=users["volunteer"])
    assert a.role == "service_volunteer"
    from shouhu.core.access import access_of

    acc = access_of(users["volunteer"])
    assert acc.holding("activity.attend").orgs == (("self", (users["volunteer"].pk,)),)
    assert not acc.has("service.view") and not acc.has("child.view")
