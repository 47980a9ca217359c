"""Police find a child to start a case without browsing the township's files (issue 9 part 2): by the
full ID number or the exact name, in the station's area, each look-up logged and counted."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from shouhu.conftest import LONGTIAN_VILLAGE
from shouhu.core.models import AccessLog, PolicyParameter
from shouhu.protection.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(users: dict[str, Any]) -> Client:
    web = Client()
    web.force_login(users["officer"])
    return web


def test_find_by_number_or_exact_name_then_report(
    officer: Client, users: dict[str, Any], make_child: Any
) -> None:
    child = make_child(name="查找甲", illness="哮喘", health="ill")
    assert officer.get(f"/children/{child.pk}/").status_code == 404  # no case yet: no file
    page = officer.get("/children/lookup/", {"q": child.id_number}).content.decode()
    assert "查找甲" in page and f"/protection/report/?child={child.pk}" in page
    assert "哮喘" not in page and child.id_number not in page.split("lookup-match")[1]
    assert "查找甲" in officer.get("/children/lookup/", {"q": "查找甲"}).content.decode()
    assert "没有找到" in officer.get("/children/lookup/", {"q": "查找"}).content.decode()  # exact names only
    rows = AccessLog.objects.filter(user=users["officer"], action="lookup")
    assert rows.count() == 3 and [r.count for r in rows.order_by("seq")] == [1, 1, 0]
    form = officer.get(f"/protection/report/?child={child.pk}").content.decode()
    assert "查找甲" in form
    r = officer.post(
        "/protection/report/",
        {
            "child": str(child.pk),
            "situations": ["domestic_violence"],
            "discovered_at": "2026-01-01T08:00",
            "description": "接警",
        },
    )
    assert r.status_code == 302
    assert Case.objects.filter(child=child).exists()
    assert officer.get(f"/children/{child.pk}/").status_code == 200  # the station's case opens the file


def test_the_lookup_stays_in_the_stations_area(
    officer: Client, users: dict[str, Any], make_child: Any
) -> None:
    far = make_child(actor=users["county"], village=LONGTIAN_VILLAGE, name="龙田乙")
    assert "没有找到" in officer.get("/children/lookup/", {"q": far.id_number}).content.decode()
    assert officer.get(f"/protection/report/?child={far.pk}").content.decode().count("龙田乙") == 0


def test_bad_input_and_the_daily_limit(officer: Client, users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="限额")
    number = child.id_number or ""
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    assert "校验位" in officer.get("/children/lookup/", {"q": wrong}).content.decode()
    assert "完整姓名" in officer.get("/children/lookup/", {"q": "王"}).content.decode()
    PolicyParameter.objects.update_or_create(
        key="identifier_lookups_per_day", defaults={"value": 1, "description": "t"}
    )
    officer.get("/children/lookup/", {"q": "限额"})
    refused = officer.get("/children/lookup/", {"q": "限额"}).content.decode()
    assert "查找的次数已用完" in refused and "lookup-match" not in refused


def test_only_the_police_look_up(users: dict[str, Any]) -> None:
    for who in ("vw", "edu", "school", "county", "nobody"):
        web = Client()
        web.force_login(users[who])
        assert web.get("/children/lookup/").status_code == 403, who
