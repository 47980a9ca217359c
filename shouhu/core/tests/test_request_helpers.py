"""The two request helpers every view and API uses: `acting_user` (the logged-in user, typed as ours)
and `request_body` (a JSON object, or a 400 in the API's error format)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from shouhu.core.api import request_body
from shouhu.core.jurisdiction import acting_user


def _api_request(body: Any, *, format: str = "json") -> Request:
    return Request(
        APIRequestFactory().post("/x/", body, format=format),
        parsers=[JSONParser(), FormParser(), MultiPartParser()],
    )


@pytest.mark.django_db
def test_acting_user_is_the_logged_in_user(users: dict[str, Any]) -> None:
    request = RequestFactory().get("/")
    request.user = users["vw"]
    assert acting_user(request) is users["vw"]


@pytest.mark.django_db
def test_acting_user_of_an_api_request(users: dict[str, Any]) -> None:
    raw = APIRequestFactory().get("/x/")
    force_authenticate(raw, user=users["county"])
    assert acting_user(Request(raw)) == users["county"]


def test_acting_user_refuses_an_anonymous_request() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        acting_user(request)


def test_acting_user_refuses_an_api_request_without_credentials() -> None:
    with pytest.raises(PermissionDenied):
        acting_user(Request(APIRequestFactory().get("/x/")))


def test_acting_user_refuses_a_user_of_another_type() -> None:
    request = RequestFactory().get("/")
    request.user = object()  # type: ignore[assignment]  # deliberately not a User: the helper must refuse it
    with pytest.raises(PermissionDenied):
        acting_user(request)


def test_request_body_returns_a_json_object() -> None:
    assert request_body(_api_request({"note": "已回访", "measures": ["dispatch"]})) == {
        "note": "已回访",
        "measures": ["dispatch"],
    }


def test_request_body_accepts_a_form_body() -> None:
    body = request_body(_api_request({"note": "已回访"}, format="multipart"))
    assert body.get("note") == "已回访"


@pytest.mark.parametrize("body", [["dispatch"], "dispatch", 3])
def test_request_body_refuses_anything_but_an_object(body: Any) -> None:
    with pytest.raises(exceptions.ValidationError) as info:
        request_body(_api_request(body))
    assert info.value.detail == {"detail": [exceptions.ErrorDetail("请求体须为 JSON 对象", code="invalid")]}
