"""The auditor's pages and API (R11.2, issue 9 part 7; API.md Audit): change events and the access log
filtered by user, child and date, activity per user with flagged anomalies, CSV exports."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from shouhu.core.accesslog import record_read
from shouhu.core.audit import DayActivity, flags_for, night_hour
from shouhu.core.models import AccessLog, Event, PolicyParameter

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def reads(users: dict[str, Any], make_child: Any) -> Any:
    child = make_child(name="审计甲")
    web = Client()
    web.force_login(users["vw"])
    web.get(f"/children/{child.pk}/")
    web.get("/children/")
    web.post(f"/children/{child.pk}/reveal/", {"field": "id_number"})
    return child


def test_access_api_has_the_fields_and_filters_of_api_md(users: dict[str, Any], reads: Any) -> None:
    for who in ("auditor", "county"):
        data = api(users[who]).get("/api/v1/audit/access/").json()
        assert data["count"] >= 3
        row = data["results"][0]
        assert {"user", "action", "child", "count", "at"} <= set(row)
    client = api(users["auditor"])
    mine = client.get("/api/v1/audit/access/", {"user": "vw_102201"}).json()["results"]
    assert {r["action"] for r in mine} == {"view", "list", "reveal"} and all(
        r["user"] == "vw_102201" for r in mine
    )
    about = client.get("/api/v1/audit/access/", {"child": str(reads.pk)}).json()["results"]
    assert {r["action"] for r in about} == {"view", "reveal"} and all(
        r["child"] == str(reads.pk) for r in about
    )
    assert [r["child"] for r in mine if r["action"] == "list"] == [None]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/audit/access/", {"since": tomorrow}).json()["count"] == 0
    assert (
        client.get("/api/v1/audit/access/", {"since": timezone.localdate().isoformat()}).json()["count"] >= 3
    )
    bad = client.get("/api/v1/audit/access/", {"since": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["since"][0]


def test_events_api_shows_who_changed_what_not_the_content(users: dict[str, Any], reads: Any) -> None:
    data = api(users["auditor"]).get("/api/v1/audit/events/", {"child": str(reads.pk)}).json()
    verbs = [r["verb"] for r in data["results"]]
    assert "child.created" in verbs
    created = next(r for r in data["results"] if r["verb"] == "child.created")
    assert created["user"] == "vw_102201" and "name" in created["fields"] and created["summary"] is None
    assert "审计甲" not in str(data)  # the file's content is not the auditor's to read
    assert {"seq", "at", "user", "verb", "child", "region", "visibility"} <= set(created)


def test_reporter_identity_is_hidden_from_the_auditor(users: dict[str, Any], make_child: Any) -> None:
    from shouhu.protection import services

    child = make_child(name="报告儿童")
    services.report_submit(
        actor=users["school"],
        data={
            "child_name": child.name,
            "village": child.village_id,
            "situations": ["living_alone"],
            "discovered_at": timezone.now(),
            "description": "x",
        },
    )
    opened = api(users["auditor"]).get("/api/v1/audit/events/", {"verb": "case.opened"}).json()["results"][0]
    assert opened["user"] is None  # R5.1: only police and civil affairs see the reporter
    opened = api(users["county"]).get("/api/v1/audit/events/", {"verb": "case.opened"}).json()["results"][0]
    assert opened["user"] == users["school"].username


@pytest.mark.parametrize("who", ["vw", "edu", "officer", "admin", "leader", "nobody", "school"])
def test_only_audit_roles_reach_the_audit(users: dict[str, Any], who: str) -> None:
    assert api(users[who]).get("/api/v1/audit/events/").status_code == 403
    assert api(users[who]).get("/api/v1/audit/access/").status_code == 403
    web = Client()
    web.force_login(users[who])
    assert web.get("/audit/").status_code == 403


def test_pages_filter_and_export_csv(users: dict[str, Any], reads: Any) -> None:
    web = Client()
    web.force_login(users["auditor"])
    page = web.get("/audit/access/", {"user": "vw_102201"}).content.decode()
    assert "vw_102201" in page and "查看完整证件号码或电话" in page and "含完整号码" in page
    page = web.get("/audit/", {"child": str(reads.pk)}).content.decode()
    assert "child.created" in page and "审计甲" not in page
    assert "日期格式应为" in web.get("/audit/access/", {"since": "2026-13-01"}).content.decode()
    response = web.get("/audit/access.csv", {"user": "vw_102201"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    lines = text.strip().splitlines()
    assert lines[0].startswith("seq,at,user,action,child,count") and len(lines) == 4
    response = web.get("/audit/events.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert web.get("/audit/events.csv", {"since": "x"}).status_code == 400


def test_activity_flags_too_many_files_reveals_and_night_reads(users: dict[str, Any]) -> None:
    PolicyParameter.objects.update_or_create(
        key="audit_flag_files_per_day", defaults={"value": 5, "description": "t"}
    )
    PolicyParameter.objects.update_or_create(
        key="audit_flag_reveals_per_day", defaults={"value": 1, "description": "t"}
    )
    tz = timezone.get_current_timezone()
    day = timezone.localdate() - timedelta(days=1)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)
    record_read(user=users["vw"], action="list", count=6, at=noon)
    for _ in range(2):
        record_read(user=users["vw"], action="reveal", identifiers=True, at=noon)
    record_read(
        user=users["sup"], action="view", at=datetime(day.year, day.month, day.day, 23, 30, tzinfo=tz)
    )
    record_read(user=users["county"], action="view", at=noon)
    web = Client()
    web.force_login(users["auditor"])
    page = web.get("/audit/activity/").content.decode()
    assert "一天查看 8 份档案，超过 5 份" in page or "一天查看 6 份档案，超过 5 份" in page
    assert "一天查看完整证件号码或电话 2 次，超过 1 次" in page
    assert "夜间查看档案 1 次" in page
    from shouhu.core.audit import activity

    rows = activity(users["auditor"], noon - timedelta(days=1), noon + timedelta(days=1))
    flagged = {r.user.username for r in rows if r.flags}
    assert flagged == {"vw_102201", "sup_bashan"}
    assert rows[-1].user.username == "county" and not rows[-1].flags  # flagged first


@given(st.integers(0, 23), st.integers(0, 23), st.integers(0, 23))
def test_night_hours_wrap_midnight(start: int, end: int, hour: int) -> None:
    inside = night_hour(hour, (start, end))
    if start > end:
        assert inside == (hour >= start or hour < end)
    else:
        assert inside == (start <= hour < end)


@given(st.integers(0, 500), st.integers(0, 100), st.integers(0, 5), st.integers(1, 300), st.integers(1, 50))
def test_flags_cite_the_number_they_were_held_against(
    files: int, reveals: int, night: int, max_files: int, max_reveals: int
) -> None:
    flags = flags_for(
        date(2026, 1, 5),
        DayActivity(files, reveals, night, 0, 0),
        max_files=max_files,
        max_reveals=max_reveals,
    )
    codes = {f.code for f in flags}
    assert ("files" in codes) == (files > max_files)
    assert ("reveals" in codes) == (reveals > max_reveals)
    assert ("night" in codes) == (night > 0)
    for f in flags:
        if f.code == "files":
            assert str(max_files) in f.text and str(files) in f.text


def test_nothing_in_the_audit_pages_is_written_as_a_child_read(users: dict[str, Any], reads: Any) -> None:
    before = AccessLog.objects.count()
    web = Client()
    web.force_login(users["auditor"])
    web.get("/audit/")
    web.get("/audit/access/")
    assert AccessLog.objects.count() == before
    assert Event.objects.filter(verb__startswith="audit.").count() == 0
