"""REST API v1, core part: token login, 401, schema and docs page, regions, `shouhu_access` marks."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from shouhu.accounts.testing import totp_for
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

BASHAN = "500229102000"


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- token ----------------------------------------------------------------------------------------


def test_token_with_good_credentials_then_used_as_header(users: dict[str, Any]) -> None:
    client = APIClient()
    body = {"username": "county", "password": DEMO_PASSWORD}
    response = client.post("/api/v1/auth/token/", {**body, "otp": totp_for(users["county"])}, format="json")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert token and response.json()["expires_at"]
    # Each login gets its own token (stored hashed, issue 10), and it authenticates.
    again = client.post("/api/v1/auth/token/", {**body, "otp": totp_for(users["county"])}, format="json")
    assert again.status_code == 200 and again.json()["token"] != token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/regions/").status_code == 200


def test_token_with_bad_password_is_400_with_a_message(users: dict[str, Any]) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "county", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"]
    assert "token" not in response.json()


def test_token_with_unknown_user_or_missing_fields_is_400(users: dict[str, Any]) -> None:
    client = APIClient()
    assert (
        client.post("/api/v1/auth/token/", {"username": "ghost", "password": "x"}, format="json").status_code
        == 400
    )
    response = client.post("/api/v1/auth/token/", {"username": "county"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_token_for_inactive_user_is_400(users: dict[str, Any]) -> None:
    user = users["county"]
    user.is_active = False
    user.save()
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "county", "password": DEMO_PASSWORD}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/regions/", "/api/v1/children/", f"/api/v1/regions/{BASHAN}/"])
def test_without_credentials_is_401(users: dict[str, Any], url: str) -> None:
    assert APIClient().get(url).status_code == 401


def test_bad_token_is_401(users: dict[str, Any]) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/regions/").status_code == 401


def test_error_language_follows_accept_language(users: dict[str, Any]) -> None:
    client = APIClient()
    en = client.post("/api/v1/auth/token/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    zh = client.post("/api/v1/auth/token/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    default = client.post("/api/v1/auth/token/", {}, format="json")
    assert en.status_code == zh.status_code == 400
    assert en.json()["username"] == ["This field is required."]
    assert zh.json()["username"] != en.json()["username"]
    assert default.json()["username"] == zh.json()["username"]


# --- schema and docs ---------------------------------------------------------------------------------


def test_schema_is_openapi_3_and_lists_the_resources(users: dict[str, Any]) -> None:
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    for p in ["/api/v1/children/", "/api/v1/children/{id}/", "/api/v1/regions/", "/api/v1/auth/token/"]:
        assert p in spec["paths"]
    params = {p["name"] for p in spec["paths"]["/api/v1/children/"]["get"]["parameters"]}
    assert {"region", "left_behind", "key_target", "q", "page", "page_size"} <= params
    # YAML by default
    assert b"/api/v1/children/" in APIClient().get("/api/v1/schema/").content


def test_docs_page_uses_no_cdn(users: dict[str, Any]) -> None:
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/schema/" in html
    assert "cdn" not in html.lower()
    assert "<script src=" not in html


# --- regions ---------------------------------------------------------------------------------------


def test_regions_list_filter_and_lookup(users: dict[str, Any]) -> None:
    client = api(users["nobody"])  # reference data: any logged-in user
    response = client.get("/api/v1/regions/", {"parent": BASHAN, "page_size": 500})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] > 0
    assert all(r["parent"] == BASHAN for r in body["results"])
    assert all(set(r) == {"code", "name", "kind", "parent"} for r in body["results"])
    assert {r["kind"] for r in body["results"]} <= {"village", "community"}

    one = client.get(f"/api/v1/regions/{BASHAN}/")
    assert one.status_code == 200
    assert one.json() == {"code": BASHAN, "name": "巴山镇", "kind": "town", "parent": "500229000000"}
    county = client.get("/api/v1/regions/500229000000/").json()
    assert county["parent"] is None and county["kind"] == "county"


def test_regions_missing_and_malformed_are_404(users: dict[str, Any]) -> None:
    client = api(users["vw"])
    assert client.get("/api/v1/regions/999999999999/").status_code == 404
    assert client.get("/api/v1/regions/not-a-code/").status_code == 404


def test_regions_are_read_only(users: dict[str, Any]) -> None:
    client = api(users["county"])
    assert client.post("/api/v1/regions/", {"code": "1", "name": "x"}, format="json").status_code == 405


# --- every API URL says who may reach it -----------------------------------------------------------


def _api_patterns() -> list[URLPattern]:
    found: list[URLPattern] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif (prefix + str(p.pattern)).startswith("api/v1/"):
                found.append(p)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_view_declares_its_access() -> None:
    patterns = _api_patterns()
    assert len(patterns) >= 7
    for p in patterns:
        cls = getattr(p.callback, "cls", None) or getattr(p.callback, "view_class", None)
        assert getattr(cls, "shouhu_access", None) in {"public", "reference", "scoped"}, p.pattern
        assert getattr(p.callback, "shouhu_access", None) == cls.shouhu_access
