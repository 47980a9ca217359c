"""Schooling pages: a class's attendance ticked and saved (and corrected), the dropout page's moves, the
roster upload's check and import, the marks export, the census lists and the commission's view."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from shouhu.schooling.models import Absence, DropoutCase, Enrolment
from shouhu.schooling.tests.conftest import enrol, make_child, workbook

pytestmark = pytest.mark.django_db


def web(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def school_days(n: int) -> list[date]:
    d, out = timezone.localdate(), list[date]()
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d -= timedelta(days=1)
    return sorted(out)


def test_a_class_teacher_takes_attendance(users: dict[str, Any], school: Any) -> None:
    es = [enrol(school, make_child(users, name=f"学生{i}"), n=100 + i) for i in range(4)]
    c = web(users["school"])
    home = c.get("/schooling/")
    assert home.status_code == 200 and "三年级1班" in home.content.decode()
    url = f"/schooling/attendance/?school={school.pk}&grade=三年级&class=1班"
    page = c.get(url)
    assert (
        page.status_code == 200
        and page.content.decode().count('class="form-check-input flex-shrink-0 absent-box"') == 4
    )
    days = school_days(3)
    for d in days:
        r = c.post(
            "/schooling/attendance/",
            {
                "school": school.pk,
                "grade": "三年级",
                "class": "1班",
                "date": d.isoformat(),
                f"absent-{es[0].pk}": "1",
                f"absent-{es[1].pk}": "1",
                f"excused-{es[1].pk}": "1",
                f"absent-{es[2].pk}": "1",
                f"half-{es[2].pk}": "1",
            },
            follow=True,
        )
        assert r.status_code == 200
    assert Absence.objects.filter(child=es[0].child).count() == 3
    assert Absence.objects.get(child=es[2].child, date=days[0]).days == 0.5
    case = DropoutCase.objects.get()
    assert case.child == es[0].child  # the excused pupil has no case; the half days are below the month's 5
    assert "达到控辍保学登记条件" in r.content.decode()
    # a correction: un-tick pupil 2 on the last day
    c.post(
        "/schooling/attendance/",
        {
            "school": school.pk,
            "grade": "三年级",
            "class": "1班",
            "date": days[2].isoformat(),
            f"absent-{es[0].pk}": "1",
        },
    )
    assert not Absence.objects.filter(child=es[2].child, date=days[2]).exists()
    # the dropout page and a move
    page = c.get(f"/schooling/dropouts/{case.pk}/")
    assert page.status_code == 200 and "登记辍学" in page.content.decode()
    c.post(f"/schooling/dropouts/{case.pk}/transition/", {"to": "registered"})
    assert DropoutCase.objects.get().state == "registered"
    r = c.post(f"/schooling/dropouts/{case.pk}/transition/", {"to": "persuading"}, follow=True)
    assert DropoutCase.objects.get().state == "registered" and "须写明理由" in r.content.decode()
    # another school's staff: 404 for the case
    assert web(users["vw_other"]).get(f"/schooling/dropouts/{case.pk}/").status_code == 404


def test_roster_upload_checks_then_imports(users: dict[str, Any], school: Any) -> None:
    kid = make_child(users, name="名册生")
    rows = [[kid.name, "男", kid.birth_date.isoformat(), kid.id_number, "S1", "一年级", "1班", "否", "是"]]
    c = web(users["school"])
    f = io.BytesIO(workbook(rows))
    f.name = "名册.xlsx"
    r = c.post("/schooling/roster/", {"file": f})
    assert r.status_code == 200 and "检查结果" in r.content.decode() and not Enrolment.objects.exists()
    f = io.BytesIO(workbook(rows))
    f.name = "名册.xlsx"
    r = c.post("/schooling/roster/", {"file": f, "commit": "1"}, follow=True)
    assert Enrolment.objects.get().child == kid
    marks = c.get("/schooling/roster/marks.csv")
    assert marks.status_code == 200 and "S1,名册生,一年级,1班,是" in marks.content.decode("utf-8-sig")
    junk = io.BytesIO(b"junk")
    junk.name = "x.xlsx"
    r = c.post("/schooling/roster/", {"file": junk})
    assert r.status_code == 200 and "alert" in r.content.decode()


def test_census_and_oversight(users: dict[str, Any], school: Any) -> None:
    on_roster = make_child(users, name="在册")
    enrol(school, on_roster, n=201)
    make_child(users, name="不在册", birth_date=date(2016, 5, 5))
    make_child(users, name="太小", birth_date=date(2024, 5, 5))
    page = web(users["vw"]).get("/schooling/census/").content.decode()
    assert "不在册" in page and "太小" not in page and "在册 ·" not in page.replace("不在册", "")
    from shouhu.ledger import completeness

    town = completeness.figures(users["sup"])[0]
    assert town.census == 1  # 不在册 (太小 is under school age; 在册 is on the roster)
    rows = web(users["edu"]).get("/schooling/oversight/")
    assert rows.status_code == 200 and "巴山中心小学" in rows.content.decode()
    assert web(users["officer"]).get("/schooling/oversight/").status_code == 403
