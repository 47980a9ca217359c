"""Lockout (issue 10 part 1): by username and by address, on the API, the login page and /admin/; the
right password is refused while locked, without hashing; supervisors see and lift locks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from shouhu.accounts import lockout
from shouhu.accounts.models import LoginFailure, LoginLock
from shouhu.core.demo import DEMO_PASSWORD
from shouhu.core.models import Event, PolicyParameter

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"


def _token(username: str, password: str, addr: str = "10.0.0.1", **extra: Any) -> Any:
    return APIClient().post(
        TOKEN, {"username": username, "password": password, **extra}, format="json", REMOTE_ADDR=addr
    )


def test_five_failures_lock_the_username_even_for_the_right_password(users: dict[str, Any]) -> None:
    for i in range(5):
        assert _token("vw_102201", "wrong-password", addr=f"10.0.1.{i}").status_code == 400
    r = _token("vw_102201", DEMO_PASSWORD, addr="10.0.2.1")
    assert r.status_code == 429
    assert r.json()["code"] == "locked_out" and r.json()["detail"]
    assert 800 < int(r["Retry-After"]) <= 15 * 60 + 1
    ev = Event.objects.get(verb="auth.locked_out", subject_id=str(LoginLock.objects.get(kind="username").pk))
    assert ev.after is not None and ev.after["key"] == "vw_102201" and ev.region_code == "500229102201"
    # another user is not affected
    assert _token("vw_102202", DEMO_PASSWORD, addr="10.0.2.2").status_code == 200


def test_lock_expires_after_the_policy_minutes(users: dict[str, Any]) -> None:
    for _ in range(5):
        _token("vw_102201", "wrong-password")
    assert _token("vw_102201", DEMO_PASSWORD, addr="10.9.9.9").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _token("vw_102201", DEMO_PASSWORD, addr="10.9.9.9").status_code == 200


def test_failures_outside_the_window_do_not_add_up(users: dict[str, Any]) -> None:
    start = timezone.now()
    for i in range(4):
        with time_machine.travel(start + timedelta(minutes=10 * i)):
            _token("vw_102201", "wrong-password", addr=f"10.0.3.{i}")
    with time_machine.travel(start + timedelta(minutes=41)):
        assert _token("vw_102201", DEMO_PASSWORD, addr="10.0.3.9").status_code == 200
    assert not LoginLock.objects.exists()


def test_the_limit_is_policy_data(users: dict[str, Any]) -> None:
    PolicyParameter.objects.update_or_create(key="login_failure_limit", defaults={"value": 2})
    _token("vw_102201", "wrong-password", addr="10.0.4.1")
    _token("vw_102201", "wrong-password", addr="10.0.4.2")
    assert _token("vw_102201", DEMO_PASSWORD, addr="10.0.4.3").status_code == 429


def test_five_failures_from_one_address_lock_the_address(users: dict[str, Any]) -> None:
    for i in range(5):
        _token(f"nobody{i}", "wrong-password", addr="10.0.5.5")
    r = _token("vw_102202", DEMO_PASSWORD, addr="10.0.5.5")
    assert r.status_code == 429 and r.json()["code"] == "locked_out"
    assert _token("vw_102202", DEMO_PASSWORD, addr="10.0.5.6").status_code == 200
    assert LoginLock.objects.filter(kind="address", key="10.0.5.5").exists()


def test_a_locked_username_is_refused_before_any_password_hashing(users: dict[str, Any]) -> None:
    for _ in range(5):
        _token("vw_102201", "wrong-password")
    locks, failures = LoginLock.objects.count(), LoginFailure.objects.count()
    with mock.patch.object(MD5PasswordHasher, "verify", autospec=True) as verify:
        for _ in range(20):
            assert _token("vw_102201", "wrong-password", addr="10.0.6.1").status_code == 429
        assert _token("vw_102201", DEMO_PASSWORD, addr="10.0.6.1").status_code == 429
    assert verify.call_count == 0
    # hammering while locked writes no failure rows and no further locks
    assert (LoginLock.objects.count(), LoginFailure.objects.count()) == (locks, failures)


def test_login_page_and_admin_are_locked_too(users: dict[str, Any]) -> None:
    for _ in range(5):
        Client().post("/login/", {"username": "admin", "password": "wrong-password"})
    r = Client().post("/login/", {"username": "admin", "password": DEMO_PASSWORD})
    assert r.status_code == 429 and "_auth_user_id" not in r.client.session
    assert "锁定" in r.content.decode() and int(r["Retry-After"]) > 0
    admin = Client()
    r = admin.post("/admin/login/", {"username": "admin", "password": DEMO_PASSWORD, "next": "/admin/"})
    assert "_auth_user_id" not in admin.session


def test_admin_login_failures_count(users: dict[str, Any]) -> None:
    for _ in range(5):
        Client().post("/admin/login/", {"username": "admin", "password": "wrong-password"})
    assert lockout.locked_until("admin", "127.0.0.1") is not None
    assert _token("admin", DEMO_PASSWORD, addr="10.0.7.1").status_code == 429


def test_wrong_second_factor_counts_as_a_failure(users: dict[str, Any]) -> None:
    for _ in range(5):
        r = _token("county", DEMO_PASSWORD, addr="10.0.8.1", otp="000000")
        assert r.status_code in (401, 429)
    r = _token("county", DEMO_PASSWORD, addr="10.0.8.2", otp="123456")
    assert r.status_code == 429 and r.json()["code"] == "locked_out"


def test_supervisor_sees_and_lifts_locks_in_their_region_only(users: dict[str, Any]) -> None:
    for _ in range(5):
        _token("vw_102201", "wrong-password", addr="10.0.9.1")
        _token("county", "wrong-password", addr="10.0.9.2")
    sup, other = Client(), Client()
    sup.force_login(users["sup"])
    other.force_login(users["sup_other"])
    page = sup.get("/account/lockouts/").content.decode()
    assert "vw_102201" in page and ">county<" not in page
    assert "vw_102201" not in other.get("/account/lockouts/").content.decode()
    lock = LoginLock.objects.get(key="vw_102201")
    county_lock = LoginLock.objects.get(key="county")
    assert other.post(f"/account/lockouts/{lock.pk}/lift/").status_code == 404
    assert sup.post(f"/account/lockouts/{county_lock.pk}/lift/").status_code == 404
    assert sup.post(f"/account/lockouts/{lock.pk}/lift/").status_code == 302
    assert _token("vw_102201", DEMO_PASSWORD, addr="10.0.9.3").status_code == 200
    ev = Event.objects.get(verb="auth.lock_lifted")
    assert ev.actor_id == users["sup"].pk
    # the county administrator sees the county-level lock; a village worker has no page
    county = Client()
    county.force_login(users["county"])
    assert "county" in county.get("/account/lockouts/").content.decode()
    vw = Client()
    vw.force_login(users["vw"])
    assert vw.get("/account/lockouts/").status_code == 403


def test_a_lifted_lock_does_not_return_with_the_next_mistake(users: dict[str, Any]) -> None:
    for _ in range(5):
        _token("vw_102201", "wrong-password", addr="10.0.10.1")
    lock = LoginLock.objects.get(key="vw_102201")
    lockout.lift(actor=users["county"], lock_id=lock.pk)
    assert _token("vw_102201", "wrong-password", addr="10.0.10.2").status_code == 400
    assert _token("vw_102201", DEMO_PASSWORD, addr="10.0.10.3").status_code == 200
