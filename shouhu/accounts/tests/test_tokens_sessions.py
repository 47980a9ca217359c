"""Tokens, sessions and passwords (issue 10 part 3): hashed tokens with an expiry, revoked on logout,
password change and deactivation; service tokens limited to their capabilities; idle and absolute
session limits; Django's password validators; the first-login password change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from shouhu.accounts import tokens
from shouhu.accounts.models import ApiToken, PasswordChangeRequired
from shouhu.core import grants
from shouhu.core.demo import DEMO_PASSWORD
from shouhu.core.models import Event, Organisation, User

pytestmark = pytest.mark.django_db


def _login(username: str = "vw_102201") -> str:
    r = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": DEMO_PASSWORD}, format="json"
    )
    assert r.status_code == 200, r.content
    return r.json()["token"]  # type: ignore[no-any-return]


def _get(token: str, url: str = "/api/v1/children/") -> int:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return c.get(url).status_code  # type: ignore[no-any-return]


def test_token_is_stored_hashed_and_answers_expires_at(users: dict[str, Any]) -> None:
    r = APIClient().post(
        "/api/v1/auth/token/", {"username": "vw_102201", "password": DEMO_PASSWORD}, format="json"
    )
    key = r.json()["token"]
    expires = parse_datetime(r.json()["expires_at"])
    assert expires is not None and timedelta(hours=7.9) < expires - timezone.now() <= timedelta(hours=8)
    row = ApiToken.objects.get(user=users["vw"])
    assert row.digest == tokens.digest_of(key) and key not in (row.digest, row.prefix)
    assert not ApiToken.objects.filter(digest=key).exists()
    assert _get(key) == 200


def test_token_expires(users: dict[str, Any]) -> None:
    key = _login()
    with time_machine.travel(timezone.now() + timedelta(hours=7, minutes=59)):
        assert _get(key) == 200
    with time_machine.travel(timezone.now() + timedelta(hours=8, minutes=1)):
        assert _get(key) == 401


def test_logout_revokes_the_token(users: dict[str, Any]) -> None:
    key, other = _login(), _login()
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert c.post("/api/v1/auth/logout/").status_code == 204
    assert _get(key) == 401
    assert _get(other) == 200  # another device's login stays
    assert APIClient().post("/api/v1/auth/logout/").status_code == 401


def test_password_change_and_reset_revoke_login_tokens(users: dict[str, Any]) -> None:
    key = _login()
    user = User.objects.get(username="vw_102201")
    user.set_password("A-new-password-2026")
    user.save()
    assert _get(key) == 401
    # an administrator's reset too
    user.set_password(DEMO_PASSWORD)
    user.save()
    key = _login()
    grants.password_reset(actor=users["county"], user=user)
    assert _get(key) == 401


def test_deactivation_revokes_every_token(users: dict[str, Any]) -> None:
    key = _login()
    _service, skey = tokens.issue_service_token(
        actor=users["county"],
        label="教委系统",
        capabilities=["stats.view"],
        expires_at=timezone.now() + timedelta(days=30),
    )
    grants.user_set_active(actor=users["county"], user=users["vw"], active=False, reason="调岗")
    assert _get(key) == 401
    county = User.objects.get(username="county")
    county.is_active = False
    county.save(update_fields=["is_active"])
    assert _get(skey, "/api/v1/regions/") == 401


def test_service_token_is_limited_to_its_capabilities(users: dict[str, Any]) -> None:
    c = Client()
    c.force_login(users["county"])
    r = c.post("/account/tokens/", {"label": "县教委学籍系统", "capabilities": ["child.view"], "days": 30})
    assert r.status_code == 200
    key = r.content.decode().split('id="token-key">')[1].split("<")[0]
    row = ApiToken.objects.get(digest=tokens.digest_of(key))
    assert row.kind == "service" and row.capabilities == ["child.view"]
    assert _get(key, "/api/v1/children/") == 200
    # child.view only: no audit, no writes
    assert _get(key, "/api/v1/audit/events/") == 403
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/v1/children/", {}, format="json").status_code == 403
    assert Event.objects.filter(verb="auth.token_issued").exists()
    # listed, then revoked on the page
    assert "县教委学籍系统" in c.get("/account/tokens/").content.decode()
    assert c.post(f"/account/tokens/{row.pk}/revoke/").status_code == 302
    assert _get(key) == 401
    # a password change does not end it (it belongs to an integration) — but revocation did
    assert ApiToken.objects.get(pk=row.pk).revoked_reason == "revoked"


def test_service_token_refusals(users: dict[str, Any]) -> None:
    in_a_year = timezone.now() + timedelta(days=30)
    with pytest.raises(tokens.TokenError):
        tokens.issue_service_token(
            actor=users["county"], label="x", capabilities=["config.edit"], expires_at=in_a_year
        )
    with pytest.raises(tokens.TokenError):
        tokens.issue_service_token(
            actor=users["county"], label="", capabilities=["stats.view"], expires_at=in_a_year
        )
    with pytest.raises(tokens.TokenError):
        tokens.issue_service_token(
            actor=users["county"],
            label="x",
            capabilities=["stats.view"],
            expires_at=timezone.now() + timedelta(days=400),
        )
    with pytest.raises(tokens.TokenError):
        tokens.issue_service_token(
            actor=users["sup"], label="x", capabilities=["stats.view"], expires_at=in_a_year
        )
    c = Client()
    c.force_login(users["county"])
    r = c.post("/account/tokens/", {"label": "x", "capabilities": ["stats.view"], "days": 9999})
    assert r.status_code == 200 and not ApiToken.objects.filter(kind="service").exists()


def test_session_idle_timeout(users: dict[str, Any]) -> None:
    c = Client()
    c.post("/login/", {"username": "vw_102201", "password": DEMO_PASSWORD})
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=29)):
        assert c.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=58)):
        assert c.get("/").status_code == 200  # 29 minutes after the last request
    with time_machine.travel(start + timedelta(minutes=89)):
        r = c.get("/children/")
        assert r.status_code == 302 and r["Location"].startswith("/login/")
        assert "_auth_user_id" not in c.session


def test_session_absolute_limit(users: dict[str, Any]) -> None:
    c = Client()
    c.post("/login/", {"username": "vw_102201", "password": DEMO_PASSWORD})
    start = timezone.now()
    for minutes in range(20, 8 * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert c.get("/").status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=8, minutes=5)):
        r = c.get("/")
        assert r.status_code == 302 and r["Location"].startswith("/login/")


@pytest.mark.parametrize("password", ["abcdefgh2", "password1234", "1234567890123", "vw_1022010", "Shouhu"])
def test_weak_passwords_are_refused(users: dict[str, Any], password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password, users["vw"])


def test_a_good_password_passes(users: dict[str, Any]) -> None:
    validate_password("Lantern-river-2026", users["vw"])


def test_account_created_by_an_administrator_must_change_its_password(users: dict[str, Any]) -> None:
    org = Organisation.objects.get(name="县民政局")
    user, temp = grants.user_create(
        actor=users["county"], username="new_worker", full_name="新人", organisation=org
    )
    assert PasswordChangeRequired.objects.filter(user=user).exists()
    api = APIClient().post("/api/v1/auth/token/", {"username": "new_worker", "password": temp}, format="json")
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    c = Client()
    c.post("/login/", {"username": "new_worker", "password": temp})
    r = c.get("/children/")
    assert r.status_code == 302 and r["Location"] == "/account/password/"
    r = c.post(
        "/account/password/", {"old_password": temp, "new_password1": "short", "new_password2": "short"}
    )
    assert r.status_code == 200 and not User.objects.get(pk=user.pk).check_password("short")
    good = "Lantern-river-2026"
    r = c.post("/account/password/", {"old_password": temp, "new_password1": good, "new_password2": good})
    assert r.status_code == 302
    assert c.get("/").status_code == 200  # the session survives its own password change
    assert not PasswordChangeRequired.objects.filter(user=user).exists()
    api = APIClient().post("/api/v1/auth/token/", {"username": "new_worker", "password": good}, format="json")
    assert api.status_code == 200


def test_password_page_needs_the_second_factor_first(users: dict[str, Any]) -> None:
    """A stolen password alone cannot replace itself: the password page waits for the code."""
    c = Client()
    c.post("/login/", {"username": "county", "password": DEMO_PASSWORD})
    r = c.get("/account/password/")
    assert r.status_code == 302 and r["Location"].startswith("/account/otp/")


def test_expires_at_is_in_county_time(users: dict[str, Any]) -> None:
    r = APIClient().post(
        "/api/v1/auth/token/", {"username": "vw_102201", "password": DEMO_PASSWORD}, format="json"
    )
    assert r.json()["expires_at"].endswith("+08:00")
