"""Issue 13 check in Debian's Chromium at 360 px: a class teacher takes one day's attendance for a class
of 40 in well under a minute of clicks; a pupil absent for the third school day in a row opens a dropout
case; the case is registered and persuaded, and the written report's PDF says what happened."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from shouhu.browser import SHOT_DIR, fits_phone
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: make docs-deps"),
]


def school_days_up_to(day: date, n: int) -> list[date]:
    out: list[date] = []
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day -= timedelta(days=1)
    return sorted(out)


def test_a_class_teacher_takes_attendance_on_a_phone(
    live_server: Any, county: dict[str, Any], browser: Any
) -> None:
    from shouhu.core.models import Organisation, Region
    from shouhu.schooling import services
    from shouhu.schooling.models import Catchment, DropoutCase
    from shouhu.schooling.tests.conftest import enrol, make_child

    users = {"vw": county["vw_102201"]}
    school = Organisation.objects.get(name="巴山中心小学")
    Catchment.objects.get_or_create(school=school, village=Region.objects.get(code="500229102201"))
    pupils = [enrol(school, make_child(users, name=f"学生{i:02d}"), n=500 + i) for i in range(40)]
    days = school_days_up_to(timezone.localdate(), 3)
    for d in days[:2]:  # 学生00 was absent the two school days before
        services.absence_record(actor=county["school_bashan"], enrolment=pupils[0], data={"date": d})

    base = live_server.url
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page.goto(f"{base}/login/")
    page.fill("#id_username", "school_bashan")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")

    started = time.monotonic()
    page.goto(f"{base}/schooling/")
    page.click("text=点名")
    page.wait_for_selector("#attendance-form")
    if days[2] != timezone.localdate():  # a weekend: take the last school day's attendance
        page.fill("#att-date", days[2].isoformat())
        page.click("text=换日期")
        page.wait_for_selector("#attendance-form")
    assert page.locator(".absent-box").count() == 40
    fits_phone(page)
    for e in (pupils[0], pupils[7], pupils[23]):
        page.click(f"label[for=absent-{e.pk}]")
    page.check(f"input[name=excused-{pupils[7].pk}]")
    page.screenshot(path=f"{SHOT_DIR}/shot_attendance_phone.png", full_page=False)
    page.click("#save-attendance")
    page.wait_for_selector(".messages")
    elapsed = time.monotonic() - started
    assert elapsed < 60, elapsed
    messages = page.inner_text(".messages")
    assert "缺勤 3 人" in messages and "学生00 达到控辍保学登记条件" in messages

    case = DropoutCase.objects.get()
    assert case.child_id == pupils[0].child_id and case.opened_on == days[2]
    page.goto(f"{base}/schooling/dropouts/{case.pk}/")
    page.click("button[value=registered]")
    page.wait_for_selector(".messages")
    page.fill("#note", "班主任与村干部上门劝返，家长外出未归")
    page.select_option("#by_unit", "school")
    page.click("button[value=persuading]")
    page.wait_for_selector(".messages")
    fits_phone(page)
    page.click("text=打印 辍学书面报告（PDF）")
    page.wait_for_url(f"{base}/documents/**")
    pdf = page.request.get(page.url)
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(
        subprocess.run(["pdftotext", "-", "-"], input=pdf.body(), capture_output=True, check=True)
        .stdout.decode()
        .split()
    )
    for words in (
        "关于学生辍学劝返情况的书面报告",
        "学生00",
        "巴山中心小学",
        "班主任与村干部上门劝返，家长外出未归",
    ):
        assert words in text, words
