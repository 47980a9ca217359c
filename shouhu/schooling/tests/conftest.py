"""Fixtures of the schooling tests: 巴山中心小学 with 巴山's first village in its catchment, and helpers
that build a class of ledger children and a roster workbook."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest

from shouhu.conftest import BASHAN_VILLAGE, child_data
from shouhu.core.models import Organisation, Region


@pytest.fixture
def school(db: Any) -> Organisation:
    from shouhu.schooling.models import Catchment

    org = Organisation.objects.get(name="巴山中心小学")
    Catchment.objects.get_or_create(school=org, village=Region.objects.get(code=BASHAN_VILLAGE))
    return org


@pytest.fixture
def other_school(db: Any) -> Organisation:
    return Organisation.objects.get(name="龙田中心小学")


def make_child(users: dict[str, Any], **overrides: Any) -> Any:
    from shouhu.registry.services import child_create

    return child_create(actor=users["vw"], data=child_data(**overrides))


def enrol(
    school: Organisation, child: Any, *, grade: str = "三年级", class_name: str = "1班", n: int = 0
) -> Any:
    from shouhu.schooling.models import Enrolment, Match
    from shouhu.schooling.services import set_child_school

    e = Enrolment.objects.create(
        child=child,
        match=Match.ID,
        school=school,
        village=child.village,
        name=child.name,
        sex=child.sex,
        birth_date=child.birth_date,
        student_number=f"G{n or abs(hash(str(child.pk))) % 10**9:09d}",
        grade=grade,
        class_name=class_name,
        since=date(2026, 9, 1),
    )
    set_child_school(child, school)
    return e


def workbook(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("学生名册")
    ws.write_row(0, 0, ["巴山中心小学 学生名册"])
    ws.write_row(
        1,
        0,
        header
        or ["姓名", "性别", "出生日期", "身份证号", "学籍号", "年级", "班级", "是否寄宿", "是否留守儿童"],
    )
    for i, r in enumerate(rows):
        ws.write_row(i + 2, 0, r)
    wb.close()
    return out.getvalue()
