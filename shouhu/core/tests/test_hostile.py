"""Hostile input never gives a 500 (issue 10 part 9): the known cases, each a 400 in API.md's error
shape (`{"field": [...]}` or `{"detail": ...}`) saying what to fix. `make fuzz` (schemathesis) covers
every endpoint beyond these."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from shouhu.core.api_input import MAX_JSON_DEPTH, json_problem

pytestmark = pytest.mark.django_db

VILLAGE = "500229102201"


def _api(user: Any = None) -> Client:
    c = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
    if user is not None:
        c.force_login(user)
    return c


def _case(api: Client) -> str:
    r = api.post(
        "/api/v1/reports/",
        {
            "child_name": "受测儿童",
            "village": VILLAGE,
            "situations": ["living_alone"],
            "discovered_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "description": "独居",
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    return str(r.json()["case"])


@pytest.mark.parametrize(
    "url,field",
    [
        ("/api/v1/children/?left_behind=%25", "left_behind"),
        ("/api/v1/children/?key_target=%25", "key_target"),
        ("/api/v1/alerts/?open=%25", "open"),
    ],
)
def test_percent_in_a_boolean_filter(users: dict[str, Any], url: str, field: str) -> None:
    r = _api(users["county"]).get(url)
    assert r.status_code == 400 and "true" in r.json()[field][0]


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_even_unauthenticated(users: dict[str, Any], opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    for body in (
        opening * 100_000 + "1" + closing * 100_000,
        opening * (MAX_JSON_DEPTH + 1) + "1" + closing * (MAX_JSON_DEPTH + 1),
    ):
        r = _api().post("/api/v1/auth/token/", body, content_type="application/json")
        assert r.status_code == 400 and "嵌套" in r.json()["detail"]
    r = _api(users["county"]).post(
        "/api/v1/reports/", opening * 5000 + "1" + closing * 5000, content_type="application/json"
    )
    assert r.status_code == 400


@pytest.mark.parametrize("note", [5, 1.5, ["x"], {"a": 1}, True])
def test_a_follow_up_note_that_is_not_text(users: dict[str, Any], note: Any) -> None:
    api = _api(users["county"])
    case = _case(api)
    r = api.post(f"/api/v1/cases/{case}/follow-ups/", {"note": note}, content_type="application/json")
    assert r.status_code == 400 and "note" in r.json()


def test_other_fields_that_are_not_text(users: dict[str, Any]) -> None:
    api = _api(users["county"])
    case = _case(api)
    for path, body, field in [
        ("reassign", {"station": "x", "reason": 5}, "station"),
        ("reassign", {"station": 10**30, "reason": "x"}, "station"),
        (
            "guardian-measures",
            {"guardian_name": 5, "kind": "education", "conduct": "violence"},
            "guardian_name",
        ),
        ("petitions", {"petitioner": "civil_affairs", "guardian_name": 5, "grounds": ["a"]}, "guardian_name"),
    ]:
        r = api.post(f"/api/v1/cases/{case}/{path}/", body, content_type="application/json")
        assert r.status_code == 400 and field in r.json(), (path, r.content)


def test_a_malformed_child_id(users: dict[str, Any]) -> None:
    api = _api(users["county"])
    r = api.post(
        "/api/v1/reports/",
        {
            "child": "not-an-id",
            "situations": ["missing"],
            "discovered_at": timezone.now().isoformat(),
            "description": "x",
        },
        content_type="application/json",
    )
    assert r.status_code == 400 and "child" in r.json()
    r = api.post(
        "/api/v1/reports/",
        {
            "child": ["x"],
            "situations": ["missing"],
            "discovered_at": timezone.now().isoformat(),
            "description": "x",
        },
        content_type="application/json",
    )
    assert r.status_code == 400 and "child" in r.json()
    assert api.get("/api/v1/alerts/?child=not-an-id").status_code == 400
    for url in ("/api/v1/children/not-an-id/", "/api/v1/children/12345/contacts/", "/api/v1/cases/x%20y/"):
        assert api.get(url).status_code == 404  # API.md: missing (a path that names nothing)
    case = _case(api)
    r = api.post(f"/api/v1/cases/{case}/confirm-child/", {"child": 5}, content_type="application/json")
    assert r.status_code == 400 and "child" in r.json()


def test_a_nul_byte_in_a_region_code(users: dict[str, Any]) -> None:
    api = _api(users["county"])
    for url in (
        "/api/v1/regions/?parent=5002%00",
        "/api/v1/children/?region=%00",
        "/api/v1/regions/5002%0029/",
    ):
        r = api.get(url)
        assert r.status_code == 400 and "空字符" in r.json()["detail"][0], url
    body = {"name": "甲", "village": "5002\u000029102201", "birth_date": "2016-01-01"}
    r = api.post("/api/v1/children/", body, content_type="application/json")
    assert r.status_code == 400 and "空字符" in json.dumps(r.json(), ensure_ascii=False)
    web = _api(users["county"])
    r = web.get("/children/?region=5002%00")
    assert r.status_code == 400
    public = Client(raise_request_exception=False)
    public.get("/report/")
    form = "village=5002%00&child_name=x"  # what a browser sends (urlencoded)
    assert public.post("/report/", form, content_type="application/x-www-form-urlencoded").status_code == 400


def test_a_value_too_large_for_the_database_is_a_400(users: dict[str, Any]) -> None:
    api = _api(users["county"])
    r = api.post(
        f"/api/v1/cases/{_case(api)}/referrals/",
        {"service_kind": "counselling", "provider": "9" * 40, "due_date": "2026-01-01"},
        content_type="application/json",
    )
    assert r.status_code == 400


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
    max_leaves=20,
)


@given(json_values)
def test_json_problem_names_nesting_and_nul_only(value: Any) -> None:
    def depth(v: Any) -> int:
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in [*v.keys(), *v.values()]), default=0)
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        return 0

    text = json.dumps(value)
    problem = json_problem(value)
    assert (problem is not None) == (depth(value) > MAX_JSON_DEPTH or "\\u0000" in text)


def test_malformed_row_numbers_in_the_case_forms(users: dict[str, Any]) -> None:
    api = _api(users["county"])
    case = _case(api)
    web = _api(users["officer"])
    for action, form in [
        ("placement_end", {"placement": "x"}),
        ("placement_end", {"placement": "9" * 30}),
        ("reassign", {"station": "x", "reason": "改派"}),
    ]:
        r = web.post(f"/protection/cases/{case}/do/{action}/", form)
        assert r.status_code == 302, (action, r.status_code)
    sup = _api(users["sup"])
    assert sup.post(f"/protection/cases/{case}/do/petition_update/", {"petition": "x"}).status_code == 404
