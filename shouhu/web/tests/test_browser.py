"""End to end in Debian's Chromium at phone size (360 × 740): log in as a village worker, search by
pinyin initials, open the file, edit the address and see it on the timeline; no horizontal scrolling."""

from __future__ import annotations

from typing import Any

import pytest

from shouhu.browser import SHOT_DIR, fits_phone
from shouhu.conftest import child_data
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_village_worker_edits_a_file_on_a_phone(
    live_server: Any, county: dict[str, Any], browser: Any
) -> None:
    from shouhu.registry.services import child_create

    child = child_create(actor=county["vw_102201"], data=child_data(name="张晓明"))
    child_create(actor=county["vw_102201"], data=child_data(name="李小花", sex="2"))
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    base = live_server.url

    page.goto(f"{base}/login/")
    fits_phone(page)
    page.fill("#id_username", "vw_102201")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "梨山村" in page.inner_text("main")
    fits_phone(page)

    page.click("header >> text=儿童档案")
    page.wait_for_url(f"{base}/children/")
    page.fill("#id_q", "zxm")
    page.press("#id_q", "Enter")
    page.wait_for_url("**/children/?q=zxm**")
    page.wait_for_selector(".child-cards >> text=张晓明")
    assert "李小花" not in page.inner_text("#results")
    fits_phone(page)
    page.screenshot(path=f"{SHOT_DIR}/shot_list.png", full_page=True)

    page.click(".child-cards >> text=张晓明")
    page.wait_for_url(f"{base}/children/{child.pk}/")
    assert "农村留守儿童" in page.inner_text("main")
    fits_phone(page)
    page.screenshot(path=f"{SHOT_DIR}/shot_file.png", full_page=True)

    page.click("main >> text=编辑档案")
    page.wait_for_url(f"{base}/children/{child.pk}/edit/")
    fits_phone(page)
    page.fill("#id_address", "巴山镇梨山村7组")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/children/{child.pk}/")
    text = page.inner_text("main")
    assert "巴山镇梨山村7组" in text
    assert "修改档案" in page.inner_text("#timeline")
    fits_phone(page)
