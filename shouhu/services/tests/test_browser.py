"""Issue 17 check in Debian's Chromium at phone size (360 × 740): a volunteer opens their session of a
四点半课堂 with 20 children, taps 18 of them present with one line of feedback, and saves; the
attendance is stored with the service hours (R8.3 "activities with attendance")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shouhu.browser import SHOT_DIR, fits_phone
from shouhu.conftest import child_data
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_volunteer_takes_attendance_for_20_children(
    live_server: Any, county: dict[str, Any], browser: Any
) -> None:
    from shouhu.core.models import Organisation
    from shouhu.registry.services import child_create
    from shouhu.services import activities, services
    from shouhu.services.models import Attendance, Enrolment
    from shouhu.services.reference import load_service_types

    load_service_types()
    admin = county["county"]
    provider = services.provider_register(
        actor=admin,
        data={
            "organisation": Organisation.objects.get(name="县妇联").pk,
            "category": "womens_federation",
            "villages": ["500229102201"],
            "service_types": ["homework_help"],
        },
    )
    services.provider_decide(actor=admin, provider=provider, status="approved")
    programme = services.programme_create(
        actor=admin,
        provider=provider,
        data={"name": "四点半课堂", "service_type": "homework_help", "village": "500229102201"},
    )
    kids = [
        child_create(actor=county["vw_102201"], data=child_data(name=f"课堂孩子{i:02d}")) for i in range(20)
    ]
    Enrolment.objects.bulk_create(Enrolment(programme=programme, child=c) for c in kids)
    session = activities.session_create(
        actor=admin,
        programme=programme,
        data={"starts_at": timezone.now() - timedelta(hours=1), "hours": "2", "volunteer": "volunteer"},
    )
    base = live_server.url
    page = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN").new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", "volunteer")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("nav >> text=活动签到")
    page.wait_for_url(f"{base}/services/sessions/")
    fits_phone(page)
    page.click(".session >> text=四点半课堂")
    page.wait_for_url(f"{base}/services/sessions/{session.pk}/")
    fits_phone(page)
    boxes = page.locator("input.attend")
    assert boxes.count() == 20
    absent = {kids[3].pk, kids[11].pk}
    for c in kids:
        if c.pk not in absent:
            page.check(f"#c-{c.pk}")
    page.fill(f"[name='fb_{kids[0].pk}']", "孩子说作业都写完了")
    page.screenshot(path=f"{SHOT_DIR}/services_attendance_360.png", full_page=True)
    page.click("#save-attendance")
    page.wait_for_url(f"{base}/services/sessions/")
    assert "已签到：18 人到场" in page.inner_text("main")
    rows = {a.child_id: a for a in Attendance.objects.filter(session=session)}
    assert len(rows) == 20 and sum(a.present for a in rows.values()) == 18
    assert {a.child_id for a in rows.values() if not a.present} == absent
    assert rows[kids[0].pk].feedback == "孩子说作业都写完了" and str(rows[kids[0].pk].hours) == "2.0"
    fits_phone(page)
