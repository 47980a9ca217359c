"""No races (issue 10 parts 7 and 8): simultaneous requests from threads against a live server on
PostgreSQL. Five reports about one child open one case; ten registrations of one child without an ID
number (or with the same one) write one file and answer the others 400, never 500; twenty simultaneous
public posts from one address pass the limit exactly as often as it allows.

SQLite cannot run these: the test database is in memory and the live server shares one connection
between its threads, so the requests would be serialised by the test harness, not by our locks."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from shouhu.conftest import BASHAN_VILLAGE, child_data
from shouhu.core.demo import DEMO_PASSWORD
from shouhu.core.models import PolicyParameter
from shouhu.protection.models import Case, Report
from shouhu.registry.models import Child

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite's in-memory test database serialises the live server's threads",
    ),
]


def _call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body, default=str).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def _token(base: str, username: str) -> str:
    status, body = _call(
        "POST", f"{base}/api/v1/auth/token/", {"username": username, "password": DEMO_PASSWORD}
    )
    assert status == 200, body
    return str(body["token"])


def _together(n: int, fn: Any) -> list[Any]:
    """Run fn(i) in n threads released at the same moment; their results in order."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as exc:  # a crash is a result the test looks at, not a hung thread
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def _report(child: str | None = None, name: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "situations": ["living_alone"],
        "discovered_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "description": "独自在家多日",
    }
    if child:
        body["child"] = child
    else:
        body.update(child_name=name, village=BASHAN_VILLAGE)
    return body


def test_five_reports_about_one_child_open_one_case(
    users: dict[str, Any], make_child: Any, live_server: Any
) -> None:
    child = make_child(name="并发甲")
    token = _token(live_server.url, users["vw"].username)
    auth = {"Authorization": f"Token {token}"}
    results = _together(
        5, lambda i: _call("POST", f"{live_server.url}/api/v1/reports/", _report(str(child.pk)), auth)
    )
    assert [r[0] for r in results] == [201] * 5, results
    assert Case.objects.filter(child=child).count() == 1
    assert Report.objects.filter(case__child=child).count() == 5


def test_five_reports_about_a_child_not_on_file_write_one_file(
    users: dict[str, Any], live_server: Any
) -> None:
    token = _token(live_server.url, users["vw"].username)
    auth = {"Authorization": f"Token {token}"}
    results = _together(
        5, lambda i: _call("POST", f"{live_server.url}/api/v1/reports/", _report(name="并发乙"), auth)
    )
    assert [r[0] for r in results] == [201] * 5, results
    assert Child.objects.filter(name="并发乙").count() == 1  # one provisional file
    assert Case.objects.filter(child__name="并发乙").count() == 1


def test_ten_registrations_without_an_id_number_write_one_file(
    users: dict[str, Any], live_server: Any
) -> None:
    token = _token(live_server.url, users["vw"].username)
    auth = {"Authorization": f"Token {token}"}
    body = child_data(name="并发丙", id_number=None, hukou_registered=False, birth_date=date(2016, 3, 3))
    results = _together(10, lambda i: _call("POST", f"{live_server.url}/api/v1/children/", body, auth))
    codes = sorted(r[0] for r in results)
    assert codes == [201] + [400] * 9, results
    assert all("已建档" in str(r[1]) for r in results if r[0] == 400), results
    assert Child.objects.filter(name="并发丙").count() == 1


def test_ten_registrations_with_one_id_number_answer_400_not_500(
    users: dict[str, Any], live_server: Any
) -> None:
    token = _token(live_server.url, users["vw"].username)
    auth = {"Authorization": f"Token {token}"}
    body = child_data(name="并发丁")
    results = _together(10, lambda i: _call("POST", f"{live_server.url}/api/v1/children/", body, auth))
    codes = sorted(r[0] for r in results)
    assert codes == [201] + [400] * 9, results
    assert Child.objects.filter(name="并发丁").count() == 1


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _browser(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A browser that opened the public page: its cookies (the id, the CSRF token) and the token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    with opener.open(f"{base}/report/", timeout=60) as r:
        assert r.status == 200
    csrf = next(str(c.value) for c in jar if c.name == "csrftoken")
    return opener, csrf


def _public_post(base: str, browser: tuple[urllib.request.OpenerDirector, str], name: str) -> int:
    opener, csrf = browser
    form = {
        "csrfmiddlewaretoken": csrf,
        "child_name": name,
        "village": BASHAN_VILLAGE,
        "situations": "living_alone",
        "discovered_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "description": "深夜独自在路边",
        "anonymous": "on",
    }
    req = urllib.request.Request(
        f"{base}/report/", data=urllib.parse.urlencode(form).encode(), headers={"Referer": f"{base}/report/"}
    )
    try:
        with opener.open(req, timeout=60) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


@pytest.fixture
def plain_http_cookies(settings: Any) -> None:
    """The live server speaks plain HTTP, and a client never sends a Secure cookie over it; with DEBUG
    off (the default, issue 10) the CSRF and session cookies are Secure, so these tests lift that."""
    settings.CSRF_COOKIE_SECURE = False
    settings.SESSION_COOKIE_SECURE = False


@pytest.mark.usefixtures("plain_http_cookies")
def test_twenty_public_posts_from_one_address_keep_the_limit(users: dict[str, Any], live_server: Any) -> None:
    PolicyParameter.objects.update_or_create(
        key="protection_public_reports_per_hour", defaults={"value": 5, "description": "x"}
    )
    browsers = [_browser(live_server.url) for _ in range(20)]
    codes = _together(20, lambda i: _public_post(live_server.url, browsers[i], "路边孩子甲"))
    assert sorted(codes) == [302] * 5 + [429] * 15, codes
    assert Report.objects.filter(child_name="路边孩子甲").count() == 5
    # a child not on file: one case for the police at once, no file until the township confirms
    assert Case.objects.filter(pending_name="路边孩子甲", child__isnull=True).count() == 1
    assert not Child.objects.filter(name="路边孩子甲").exists()


@pytest.mark.usefixtures("plain_http_cookies")
def test_one_browser_keeps_its_own_limit_under_concurrency(users: dict[str, Any], live_server: Any) -> None:
    PolicyParameter.objects.update_or_create(
        key="protection_public_reports_per_hour", defaults={"value": 50, "description": "x"}
    )
    PolicyParameter.objects.update_or_create(
        key="protection_public_reports_per_browser_hour", defaults={"value": 3, "description": "x"}
    )
    one = _browser(live_server.url)
    codes = _together(10, lambda i: _public_post(live_server.url, one, "路边孩子乙"))
    assert sorted(codes) == [302] * 3 + [429] * 7, codes
