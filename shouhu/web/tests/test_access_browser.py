"""The access model in Debian's Chromium at phone size (360 px) and on a desktop: masks and the one-tap
reveal, a file as the education bureau sees it, the police look-up, a provider's referral, the county's
users page and the auditor's pages — no horizontal scrolling, and screenshots to look at."""

from __future__ import annotations

from typing import Any

import pytest

from shouhu.browser import SHOT_DIR, fits_phone
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(browser: Any, base: str, username: str, width: int = 360) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 740}, locale="zh-CN")
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if "/account/otp/" in page.url:  # county administrator and auditor: the second factor (issue 10)
        from shouhu.accounts.testing import totp_for
        from shouhu.core.models import User

        page.fill("#id_code", totp_for(User.objects.get(username=username)))
        page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_access_pages_on_a_phone(live_server: Any, county: dict[str, Any], browser: Any) -> None:
    from shouhu.web.tests.worlds import build_world_a

    users = {
        "vw": county["vw_102201"],
        "sup": county["sup_bashan"],
        "officer": county["police_bashan"],
        "social": county["social"],
        "county": county["county"],
        "school": county["school_bashan"],
    }
    world = build_world_a(users, county, reports=False)
    child, base = world.child, live_server.url

    vw = _login(browser, base, "vw_102201")
    vw.goto(f"{base}/children/{child.pk}/")
    assert child.id_number not in vw.inner_text("main") and "500229************" in vw.inner_text("main")
    fits_phone(vw)
    vw.click("#basic .reveal button")  # one tap (htmx swaps the number in)
    vw.wait_for_selector("#basic .revealed")
    assert child.id_number in vw.inner_text("#basic")
    fits_phone(vw)
    vw.screenshot(path=f"{SHOT_DIR}/shot_access_reveal.png", full_page=True)
    vw.locator("#basic").screenshot(path=f"{SHOT_DIR}/shot_access_reveal_basic.png")

    edu = _login(browser, base, "edu")
    edu.goto(f"{base}/children/{child.pk}/")
    text = edu.inner_text("main")
    assert "哨兵病" not in text and "父母情况" not in text and "就学情况" in text
    assert "显示" not in edu.inner_text("#basic")
    fits_phone(edu)
    edu.screenshot(path=f"{SHOT_DIR}/shot_access_edu_file.png", full_page=True)
    edu.screenshot(path=f"{SHOT_DIR}/shot_access_edu_top.png")

    police = _login(browser, base, "police_bashan")
    police.goto(f"{base}/children/lookup/")
    police.fill("#id_q", child.name)
    police.click("main form button[type=submit]")
    police.wait_for_selector(".lookup-match")
    assert "报告并立案" in police.inner_text("main")
    fits_phone(police)
    police.screenshot(path=f"{SHOT_DIR}/shot_access_lookup.png", full_page=True)

    social = _login(browser, base, "social")
    social.goto(f"{base}/protection/referrals/")
    text = social.inner_text("main")
    assert "哨兵路1号" in text and "哨兵照料人" in text and "哨兵病" not in text
    fits_phone(social)
    social.screenshot(path=f"{SHOT_DIR}/shot_access_referral.png", full_page=True)

    admin = _login(browser, base, "county")
    admin.goto(f"{base}/users/")
    admin.click("text=vw_102202")
    admin.wait_for_selector("text=授予角色")
    fits_phone(admin)
    admin.screenshot(path=f"{SHOT_DIR}/shot_access_user.png", full_page=True)

    auditor = _login(browser, base, "auditor")
    for path, name in (("/audit/", "events"), ("/audit/access/", "access"), ("/audit/activity/", "activity")):
        auditor.goto(f"{base}{path}")
        fits_phone(auditor)
        auditor.screenshot(path=f"{SHOT_DIR}/shot_access_audit_{name}.png", full_page=True)
    assert "vw_102201" in auditor.inner_text("main")
    desk = _login(browser, base, "auditor", width=1280)
    desk.goto(f"{base}/audit/access/")
    desk.screenshot(path=f"{SHOT_DIR}/shot_access_audit_desktop.png", full_page=True)
