"""The issue's flow clicked through in Debian's Chromium at phone size (360 × 740): a teacher reports a
child living alone; the police accept, record the measures and notify the township; the township
assesses (risk high) and refers to counselling and guardianship guidance; both providers accept and
complete; the case closes with every deadline met; the teacher sees the progress."""

from __future__ import annotations

from typing import Any

import pytest

from shouhu.browser import SHOT_DIR, fits_phone
from shouhu.conftest import child_data
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_protection_chain_in_the_browser(live_server: Any, county: dict[str, Any], browser: Any) -> None:
    from shouhu.core.models import Organisation, RoleAssignment, User
    from shouhu.protection.models import Case
    from shouhu.protection.reference import load_protection_data
    from shouhu.registry.services import child_create

    load_protection_data()
    child_create(actor=county["vw_102201"], data=child_data(name="王小虎"))
    fulian_org = Organisation.objects.get(name="县妇联")
    fulian = User.objects.create_user("fulian_sw", password=DEMO_PASSWORD, organisation=fulian_org)
    RoleAssignment.objects.create(user=fulian, role="service_provider", organisation=fulian_org)
    social_org = Organisation.objects.get(name="城口县阳光社会工作服务中心")
    base = live_server.url

    def session(username: str) -> Any:
        page = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN").new_page()
        page.goto(f"{base}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{base}/")
        return page

    # a teacher reports on a phone
    teacher = session("school_bashan")
    teacher.goto(f"{base}/protection/report/")
    fits_phone(teacher)
    teacher.fill("#id_child_name", "王小虎")
    teacher.select_option("#id_village", "500229102201")
    teacher.check("#sit_living_alone")
    teacher.fill("#id_description", "连续三天放学后独自在家")
    teacher.click("main form button[type=submit]")
    teacher.wait_for_url("**/protection/reports/**")
    assert "等待派出所受理" in teacher.inner_text("#receipt")
    progress_url = teacher.url
    case = Case.objects.get(child__name="王小虎")

    # the police station's queue
    police = session("police_bashan")
    police.goto(f"{base}/protection/cases/")
    fits_phone(police)
    police.click(f".case-cards >> text={case.number}")
    police.wait_for_url(f"{base}/protection/cases/{case.pk}/")
    police.click("#t-received button[type=submit]")
    police.wait_for_selector("#t-responded")
    police.check("#m_dispatch")
    police.check("#m_order_parents_return")
    police.check("#m_admonish_parents")
    police.fill("#note_responded", "责令父亲返回，训诫父母")
    police.click("#t-responded button[type=submit]")
    police.wait_for_selector("#t-township_notified")
    assert "☑ 责令父母立即返回" in police.inner_text("#checklist")
    police.click("#t-township_notified button[type=submit]")
    police.wait_for_selector("text=已通报乡镇")
    assert "巴山镇人民政府" in police.inner_text("#holder")
    fits_phone(police)

    # the township assesses and refers
    sup = session("sup_bashan")
    sup.goto(f"{base}/protection/cases/{case.pk}/")
    sup.fill("#a_participants", "巴山镇督导员，县民政局，巴山派出所，梨山村儿童主任")
    sup.select_option("#a_safety", "serious")
    sup.select_option("#a_guardianship", "serious")
    sup.select_option("#a_mental", "concern")
    sup.click("#t-assessed button[type=submit]")
    sup.wait_for_selector("#t-assisting")
    assert "风险：高" in sup.inner_text("h1")
    sup.fill("#p_plan", "心理疏导与监护指导")
    sup.select_option("#ref_kind_0", "counselling")
    sup.select_option("#ref_provider_0", str(social_org.pk))
    sup.select_option("#ref_kind_1", "guardianship_guidance")
    sup.select_option("#ref_provider_1", str(fulian_org.pk))
    sup.click("#t-assisting button[type=submit]")
    sup.wait_for_selector("#t-closed")
    fits_phone(sup)

    # both providers accept and complete
    for username in ("social", "fulian_sw"):
        p = session(username)
        p.goto(f"{base}/protection/referrals/")
        assert "王小虎" in p.inner_text("main")
        p.click(".referral button[value=accept]")
        p.wait_for_selector(".referral button[value=done]")
        p.fill(".referral input[name=outcome]", "已完成服务")
        p.click(".referral button[value=done]")
        p.wait_for_selector(".referral >> text=已完成")
        fits_phone(p)

    # the township closes; every deadline met and shown
    sup.goto(f"{base}/protection/cases/{case.pk}/")
    sup.fill("#note_closed", "父亲已返乡照料，服务完成")
    sup.click("#t-closed button[type=submit]")
    sup.wait_for_selector("#case-state >> text=已结案")
    rows = sup.locator("tr.deadline")
    assert rows.count() == 5
    for i in range(5):
        assert "按时" in rows.nth(i).inner_text()
    sup.screenshot(path=f"{SHOT_DIR}/shot_case_closed.png", full_page=True)

    teacher.goto(progress_url)
    assert "已办结" in teacher.inner_text("#progress")  # the report's own progress
    answer = teacher.inner_text("#acknowledgement")
    assert "报告编号 BG" in answer and case.number not in answer  # its own number, not the case's
