"""API.md: /api/v1/children/{id}/contacts/, /visits/ and /api/v1/alerts/ — fields, filters, scope, errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shouhu.care.alerts import AlertSpec, open_alert
from shouhu.care.models import Alert

pytestmark = pytest.mark.django_db


def api(user: Any = None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


def test_contacts_create_list_and_future_refused(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    url = f"/api/v1/children/{child.pk}/contacts/"
    now = timezone.now().replace(microsecond=0)
    r = api(users["vw"]).post(
        url,
        {
            "parent": "mother",
            "channel": "video",
            "facilitated_by": "school",
            "occurred_at": (now - timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["channel"] == "video" and r.json()["facilitated_by"] == "school"
    future = api(users["vw"]).post(
        url,
        {"parent": "mother", "channel": "phone", "occurred_at": (now + timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert future.status_code == 400 and "occurred_at" in future.json()
    bad = api(users["vw"]).post(url, {"parent": "uncle", "channel": "fax", "occurred_at": "x"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) >= {"parent", "channel", "occurred_at"}
    listed = api(users["vw"]).get(url).json()
    assert listed["count"] == 1 and set(listed["results"][0]) >= {
        "parent",
        "channel",
        "facilitated_by",
        "occurred_at",
    }
    # another village's worker: 404, exactly like a missing child; anonymous: 401
    assert api(users["vw_other"]).get(url).status_code == 404
    assert api(users["vw_other"]).post(url, {}, format="json").status_code == 404
    assert api(users["nobody"]).get(url).status_code == 403  # no role: refused whatever the child
    assert api().get(url).status_code == 401
    assert api(users["vw"]).get("/api/v1/children/not-a-uuid/contacts/").status_code == 404
    # police see the child but may not write contacts: 403
    r = api(users["officer"]).post(
        url, {"parent": "mother", "channel": "phone", "occurred_at": now.isoformat()}, format="json"
    )
    assert r.status_code == 403


def test_visits_update_the_rating_and_living_alone_raises_unattended(
    users: dict[str, Any], make_child: Any
) -> None:
    child = make_child(guardianship_rating="good")
    url = f"/api/v1/children/{child.pk}/visits/"
    when = (timezone.now() - timedelta(minutes=5)).isoformat()
    r = api(users["vw"]).post(
        url,
        {
            "occurred_at": when,
            "kind": "key_target_check",
            "visitor_role": "resident_cadre",
            "findings": {"living_conditions": "房屋漏雨", "living_alone": True},
            "guardianship_rating": "poor",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["living_alone"] is True and body["alert"]["kind"] == "unattended"
    assert body["alert"]["assignee"] == users["vw"].username
    child.refresh_from_db()
    assert child.guardianship_rating == "poor" and child.care_arrangement == "unattended"
    unknown = api(users["vw"]).post(url, {"occurred_at": when, "findings": {"colour": "blue"}}, format="json")
    assert unknown.status_code == 400 and "findings" in unknown.json()
    assert api(users["vw"]).get(url).json()["count"] == 1
    assert api(users["vw_same_town"]).get(url).status_code == 404
    assert api(users["sup"]).get(url).json()["count"] == 1
    assert api(users["sup_other"]).get(url).status_code == 404


def test_alerts_list_fields_filters_and_scope(users: dict[str, Any], make_child: Any) -> None:
    mine = make_child()
    other = make_child(actor=users["vw_other"], village="500229201201")
    now = timezone.now()
    open_alert(
        kind="visit_overdue",
        spec=AlertSpec(
            key=f"child:{mine.pk}",
            region_id=mine.village_id,
            message="m1",
            child_id=mine.pk,
            assignee_id=users["vw"].pk,
        ),
        at=now,
    )
    open_alert(
        kind="contact_overdue",
        spec=AlertSpec(key=f"child:{other.pk}", region_id=other.village_id, message="m2", child_id=other.pk),
        at=now,
    )
    data = api(users["vw"]).get("/api/v1/alerts/").json()
    assert data["count"] == 1
    row = data["results"][0]
    assert set(row) >= {"id", "kind", "child", "opened_at", "resolved_at", "assignee", "message"}
    assert (
        row["child"] == str(mine.pk)
        and row["assignee"] == users["vw"].username
        and row["resolved_at"] is None
    )
    other_id = Alert.objects.get(message="m2").pk
    assert api(users["vw"]).get(f"/api/v1/alerts/{other_id}/").status_code == 404
    county = api(users["county"])
    assert county.get("/api/v1/alerts/?kind=contact_overdue").json()["count"] == 1
    assert county.get(f"/api/v1/alerts/?child={mine.pk}").json()["count"] == 1
    assert county.get("/api/v1/alerts/?open=false").json()["count"] == 0
    assert county.get("/api/v1/alerts/?open=true").json()["count"] == 2
    assert county.get("/api/v1/alerts/?open=maybe").status_code == 400
    assert api(users["nobody"]).get("/api/v1/alerts/").status_code == 403
    assert api().get("/api/v1/alerts/").status_code == 401
    assert api(users["county"]).post("/api/v1/alerts/", {}, format="json").status_code == 405
