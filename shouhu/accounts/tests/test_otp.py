"""Second factor (issue 10 part 2): TOTP on the API and the pages, wrong and reused codes, enrolment
with a QR code and recovery codes, and roles added by policy."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from shouhu.accounts.otp import code_now, demo_key, needs_second_factor
from shouhu.accounts.testing import totp_for
from shouhu.core.demo import DEMO_PASSWORD
from shouhu.core.models import PolicyParameter, RoleAssignment, User

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"


def _token(username: str, **extra: Any) -> Any:
    return APIClient().post(TOKEN, {"username": username, "password": DEMO_PASSWORD, **extra}, format="json")


@pytest.mark.parametrize("who", ["admin", "county", "auditor"])
def test_roles_that_need_it_get_no_token_without_a_right_code(users: dict[str, Any], who: str) -> None:
    user = users[who]
    assert needs_second_factor(user)
    for extra in ({}, {"otp": ""}, {"otp": "12345"}, {"otp": "abcdef"}):
        r = _token(user.username, **extra)
        assert r.status_code == 401 and r.json()["code"] == "otp_required", extra
    good = totp_for(user)
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    assert _token(user.username, otp=wrong).status_code == 401
    r = _token(user.username, otp=good)
    assert r.status_code == 200 and r.json()["token"]


def test_a_code_is_accepted_once(users: dict[str, Any]) -> None:
    code = totp_for(users["county"])
    assert _token("county", otp=code).status_code == 200
    r = _token("county", otp=code)
    assert r.status_code == 401 and r.json()["code"] == "otp_required"


def test_other_roles_need_no_code_unless_policy_adds_them(users: dict[str, Any]) -> None:
    assert _token("vw_102201").status_code == 200
    PolicyParameter.objects.update_or_create(
        key="second_factor_extra_roles", defaults={"value": ["village_worker"]}
    )
    vw = User.objects.get(username="vw_102201")
    assert needs_second_factor(vw)
    r = _token("vw_102201")
    assert r.status_code == 401 and r.json()["code"] == "otp_required"


def test_demo_secret_is_deterministic_and_matches_the_device(users: dict[str, Any]) -> None:
    import base64

    device = TOTPDevice.objects.get(user=users["county"], confirmed=True)
    assert device.bin_key == demo_key("county")
    secret = base64.b32encode(demo_key("county")).decode().rstrip("=")
    assert code_now(secret) == code_now(device)


def _password_login(client: Client, username: str, password: str = DEMO_PASSWORD) -> Any:
    return client.post("/login/", {"username": username, "password": password}, follow=False)


def test_web_login_asks_for_the_code_before_any_page(users: dict[str, Any]) -> None:
    c = Client()
    r = _password_login(c, "county")
    assert r.status_code == 302
    r = c.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/account/otp/")
    assert c.get("/children/").status_code == 302
    assert c.get("/api/v1/regions/").json()["code"] == "otp_required"
    r = c.post("/account/otp/", {"code": "000000", "next": "/children/"})
    assert r.status_code == 200 and "验证码不正确" in r.content.decode()
    r = c.post("/account/otp/", {"code": totp_for(users["county"]), "next": "/children/"})
    assert r.status_code == 302 and r["Location"] == "/children/"
    assert c.get("/children/").status_code == 200


def test_admin_site_needs_the_second_factor(users: dict[str, Any]) -> None:
    c = Client()
    _password_login(c, "admin")
    r = c.get("/admin/")
    assert r.status_code == 302 and r["Location"].startswith("/account/otp/")
    c.post("/account/otp/", {"code": totp_for(users["admin"])})
    assert c.get("/admin/").status_code == 200


def test_a_village_worker_goes_straight_in(users: dict[str, Any]) -> None:
    c = Client()
    _password_login(c, "vw_102201")
    assert c.get("/").status_code == 200


@pytest.mark.real_second_factor
def test_force_login_alone_is_not_verified(users: dict[str, Any]) -> None:
    c = Client()
    c.force_login(users["county"])
    assert c.get("/").status_code == 302


def test_enrolment_with_qr_code_and_recovery_codes(users: dict[str, Any], county: dict[str, Any]) -> None:
    user = User.objects.create_user("county2", password="Long-enough-pass-2026")
    RoleAssignment.objects.create(user=user, role="county_admin", region_id="500229000000")
    c = Client()
    _password_login(c, "county2", "Long-enough-pass-2026")
    r = c.get("/", follow=True)
    page = r.content.decode()
    assert r.redirect_chain[-1][0].startswith("/account/otp/setup/")
    assert "<svg" in page
    secret = re.search(r'id="otp-secret">([A-Z2-7]+)<', page).group(1)  # type: ignore[union-attr]
    r = c.post("/account/otp/setup/", {"code": "000000", "next": "/"})
    assert "验证码不正确" in r.content.decode()
    r = c.post("/account/otp/setup/", {"code": code_now(secret), "next": "/"})
    codes = re.findall(r'<li class="list-group-item">([0-9a-f]{10})</li>', r.content.decode())
    assert len(codes) == 10
    assert c.get("/").status_code == 200
    # a new login: one recovery code works once
    again = Client()
    _password_login(again, "county2", "Long-enough-pass-2026")
    assert again.post("/account/otp/", {"code": codes[0], "next": "/"}).status_code == 302
    assert again.get("/").status_code == 200
    third = Client()
    _password_login(third, "county2", "Long-enough-pass-2026")
    assert third.post("/account/otp/", {"code": codes[0], "next": "/"}).status_code == 200
    # the setup page is closed once a device is confirmed (a stolen session cannot move the factor)
    assert third.get("/account/otp/setup/")["Location"].startswith("/account/otp/")


def test_next_must_stay_on_this_site(users: dict[str, Any]) -> None:
    c = Client()
    _password_login(c, "county")
    r = c.post("/account/otp/", {"code": totp_for(users["county"]), "next": "https://evil.example/"})
    assert r["Location"] == "/"


def test_operator_resets_a_lost_second_factor(users: dict[str, Any]) -> None:
    import io

    from django.core.management import call_command

    from shouhu.core.models import Event

    call_command("reset_second_factor", "county", reason="手机丢失", stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(user=users["county"]).exists()
    assert Event.objects.filter(verb="auth.second_factor_reset", subject_id=str(users["county"].pk)).exists()
    c = Client()
    _password_login(c, "county")
    assert c.get("/", follow=True).redirect_chain[-1][0].startswith("/account/otp/setup/")
