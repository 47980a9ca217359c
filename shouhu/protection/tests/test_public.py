"""Public reports (issue 10 part 8): the client's address behind trusted proxies, limits per address and
per browser, a county-wide surge flagged to the county, and a child not on file confirmed by the
township before any file is created — while the police have the case at once."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from shouhu.core.clientip import client_ip
from shouhu.core.models import Event, PolicyParameter
from shouhu.protection import services
from shouhu.protection.models import Case, Report
from shouhu.registry.models import Child

VILLAGE = "500229102201"


def _req(remote: str, xff: str | None = None) -> Any:
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


# --- the client's address --------------------------------------------------------------------------


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    with override_settings(SHOUHU_TRUSTED_PROXIES=[]):
        assert client_ip(_req("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    with override_settings(SHOUHU_TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert client_ip(_req("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


@override_settings(SHOUHU_TRUSTED_PROXIES=["10.0.0.0/8", "127.0.0.1"])
def test_forwarded_for_from_a_trusted_proxy_names_the_nearest_untrusted_hop() -> None:
    assert client_ip(_req("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    # a client that forges a prefix cannot choose its address: the hop our proxy added wins
    assert client_ip(_req("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.1.1")) == "198.51.100.7"
    assert client_ip(_req("10.0.0.2", "garbage, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_req("10.0.0.2", "198.51.100.7, garbage")) == "10.0.0.2"
    assert client_ip(_req("10.0.0.2", "")) == "10.0.0.2"
    assert client_ip(_req("10.0.0.2", "[2001:db8::5]:443")) == "2001:db8::5"
    assert client_ip(_req("", "198.51.100.7")) is None


@override_settings(SHOUHU_TRUSTED_PROXIES=["10.0.0.0/8"])
@given(st.text(max_size=80), st.ip_addresses())
def test_the_client_address_is_always_an_address_the_request_named(header: str, peer: Any) -> None:
    got = client_ip(_req(str(peer), header))
    assert got is not None
    ipaddress.ip_address(got)
    assert got == str(peer) or got in header


# --- limits, the cookie and the surge ----------------------------------------------------------------


def _form(name: str = "路边孩子") -> dict[str, Any]:
    return {
        "child_name": name,
        "village": VILLAGE,
        "situations": ["living_alone"],
        "discovered_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "description": "深夜独自在路边",
        "anonymous": "on",
    }


def _browser(**extra: Any) -> Client:
    c = Client(**extra)
    assert c.get("/report/").status_code == 200
    return c


@pytest.mark.django_db
def test_a_post_without_the_page_cookie_is_refused_with_a_reason(users: dict[str, Any]) -> None:
    r = Client().post("/report/", _form())
    assert r.status_code == 400 and "Cookie" in r.content.decode()
    assert not Report.objects.exists()
    forged = Client()
    forged.cookies["shouhu_reporter"] = "not-signed"
    assert forged.post("/report/", _form()).status_code == 400


@pytest.mark.django_db
def test_limits_per_browser_and_per_address(users: dict[str, Any]) -> None:
    PolicyParameter.objects.update_or_create(
        key="protection_public_reports_per_browser_hour", defaults={"value": 2, "description": "x"}
    )
    PolicyParameter.objects.update_or_create(
        key="protection_public_reports_per_hour", defaults={"value": 3, "description": "x"}
    )
    one = _browser(REMOTE_ADDR="198.51.100.1")
    assert [one.post("/report/", _form()).status_code for _ in range(3)] == [302, 302, 429]
    assert "同一浏览器" in one.post("/report/", _form()).content.decode()
    two = _browser(REMOTE_ADDR="198.51.100.1")  # the same address, another browser
    assert [two.post("/report/", _form()).status_code for _ in range(2)] == [302, 429]
    assert "同一网络地址" in two.post("/report/", _form()).content.decode()
    assert _browser(REMOTE_ADDR="198.51.100.2").post("/report/", _form()).status_code == 302


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_citizen_has_an_own_limit(users: dict[str, Any]) -> None:
    PolicyParameter.objects.update_or_create(
        key="protection_public_reports_per_hour", defaults={"value": 1, "description": "x"}
    )
    with override_settings(SHOUHU_TRUSTED_PROXIES=["127.0.0.1"]):
        for n in range(3):  # three citizens through the one proxy: none blocks the others
            c = _browser(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 10}")
            assert c.post("/report/", _form()).status_code == 302
        again = _browser(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.10")
        assert again.post("/report/", _form()).status_code == 429


@pytest.mark.django_db
def test_a_surge_is_flagged_to_the_county_once(users: dict[str, Any]) -> None:
    PolicyParameter.objects.update_or_create(
        key="protection_public_surge_per_hour", defaults={"value": 3, "description": "x"}
    )
    for n in range(5):
        assert _browser(REMOTE_ADDR=f"198.51.100.{n + 1}").post("/report/", _form()).status_code == 302
    flags = Event.objects.filter(verb="protection.public_surge")
    assert flags.count() == 1 and flags.get().region_code == "500229000000"
    county = Client()
    county.force_login(users["county"])
    assert 'id="public-surge"' in county.get("/protection/cases/").content.decode()
    officer = Client()
    officer.force_login(users["officer"])
    assert 'id="public-surge"' not in officer.get("/protection/cases/").content.decode()


# --- a child not on file ---------------------------------------------------------------------------


def _receipt(client: Client, location: str) -> str:
    """The receipt with what differs between any two reports (number, times) blanked out."""
    page = client.get(location).content.decode()
    body = page[page.index('<dl class="row" id="receipt">') : page.index("</section>")]
    return re.sub(r"BG\d{8}-[0-9A-F]{6}|\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "X", body)


@pytest.mark.django_db
def test_a_child_not_on_file_waits_for_the_township(users: dict[str, Any], make_child: Any) -> None:
    make_child(name="在档儿童", village=VILLAGE)
    on_file = _browser(REMOTE_ADDR="198.51.100.3")
    r_known = on_file.post("/report/", _form("在档儿童"))
    unknown = _browser(REMOTE_ADDR="198.51.100.4")
    r_unknown = unknown.post("/report/", _form("不在档"))
    assert r_known.status_code == r_unknown.status_code == 302
    # the receipt does not tell whether the child is on file
    assert _receipt(on_file, r_known["Location"]) == _receipt(unknown, r_unknown["Location"])
    case = Case.objects.get(pending_name="不在档")
    assert case.child is None and not Child.objects.filter(name="不在档").exists()
    # the police have it at once, and can work the first steps
    officer = Client()
    officer.force_login(users["officer"])
    assert "不在档" in officer.get("/protection/cases/").content.decode()
    services.case_transition(actor=users["officer"], case_id=case.pk, to="received")
    # the village worker may not confirm; the township may
    with pytest.raises(Exception, match="无权"):
        services.case_confirm_child(actor=users["vw"], case_id=case.pk)
    page = Client()
    page.force_login(users["sup"])
    html = page.get(f"/protection/cases/{case.pk}/").content.decode()
    assert 'id="confirm-child"' in html
    r = page.post(f"/protection/cases/{case.pk}/do/confirm_child/", {"birth_date": "2016-05-01", "sex": "2"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.child is not None and case.child.is_provisional and case.child.name == "不在档"
    assert str(case.child.birth_date) == "2016-05-01" and case.pending_name == ""
    assert Event.objects.filter(verb="case.child_confirmed", subject_id=str(case.pk)).exists()


@pytest.mark.django_db
def test_confirming_links_a_file_and_refuses_a_second_open_case(
    users: dict[str, Any], make_child: Any
) -> None:
    twin = make_child(name="小明同名", village=VILLAGE)
    make_child(name="小明同名", village=VILLAGE, birth_date=twin.birth_date - timedelta(days=400))
    c = _browser(REMOTE_ADDR="198.51.100.5")
    assert c.post("/report/", _form("小明同名")).status_code == 302  # two on file: the township decides
    case = Case.objects.get(pending_name="小明同名")
    api = Client()
    api.force_login(users["sup"])
    bad = api.post(
        f"/api/v1/cases/{case.pk}/confirm-child/", {"child": "nope"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "child" in bad.json()
    ok = api.post(
        f"/api/v1/cases/{case.pk}/confirm-child/", {"child": str(twin.pk)}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["child"] == str(twin.pk)
    again = api.post(f"/api/v1/cases/{case.pk}/confirm-child/", {}, content_type="application/json")
    assert again.status_code == 400


@pytest.mark.django_db
def test_reopening_never_gives_a_child_two_open_cases(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="重开")
    data = {
        "child": str(child.pk),
        "situations": ["living_alone"],
        "discovered_at": timezone.now(),
        "description": "独居",
    }
    first = services.report_submit(actor=users["vw"], data=data).case
    services.case_transition(actor=users["officer"], case_id=first.pk, to="received")
    services.case_transition(actor=users["officer"], case_id=first.pk, to="unfounded", note="查无实据")
    second = services.report_submit(actor=users["vw"], data=data).case
    assert second.pk != first.pk
    api = Client()
    api.force_login(users["officer"])
    r = api.post(
        f"/api/v1/cases/{first.pk}/transitions/",
        {"to": "reopened", "note": "再查"},
        content_type="application/json",
    )
    assert r.status_code == 400 and second.number in str(r.json())
