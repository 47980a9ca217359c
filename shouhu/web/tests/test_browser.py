"""End to end in Debian's Chromium at phone size (360 × 740): log in as a village worker, search by
pinyin initials, open the file, edit the address and see it on the timeline; no horizontal scrolling."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from shouhu.conftest import child_data
from shouhu.core.demo import DEMO_PASSWORD

# Playwright's sync API runs an event loop in this thread; the live server's ORM calls happen elsewhere.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOT_DIR = os.environ.get("SHOUHU_SCREENSHOT_DIR", "/tmp")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("SHOUHU_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and SHOUHU_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def no_horizontal_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide at a 360px viewport: {page.url}"


def test_village_worker_edits_a_file_on_a_phone(
    live_server: Any, county: dict[str, Any], browser: Any
) -> None:
    from shouhu.registry.services import child_create

    child = child_create(actor=county["vw_102201"], data=child_data(name="张晓明"))
    child_create(actor=county["vw_102201"], data=child_data(name="李小花", sex="2"))
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    base = live_server.url

    page.goto(f"{base}/login/")
    no_horizontal_overflow(page)
    page.fill("#id_username", "vw_102201")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "梨山村" in page.inner_text("main")
    no_horizontal_overflow(page)

    page.click("header >> text=儿童档案")
    page.wait_for_url(f"{base}/children/")
    page.fill("#id_q", "zxm")
    page.press("#id_q", "Enter")
    page.wait_for_url("**/children/?q=zxm**")
    page.wait_for_selector(".child-cards >> text=张晓明")
    assert "李小花" not in page.inner_text("#results")
    no_horizontal_overflow(page)
    page.screenshot(path=f"{SHOT_DIR}/shot_list.png", full_page=True)

    page.click(".child-cards >> text=张晓明")
    page.wait_for_url(f"{base}/children/{child.pk}/")
    assert "农村留守儿童" in page.inner_text("main")
    no_horizontal_overflow(page)
    page.screenshot(path=f"{SHOT_DIR}/shot_file.png", full_page=True)

    page.click("main >> text=编辑档案")
    page.wait_for_url(f"{base}/children/{child.pk}/edit/")
    no_horizontal_overflow(page)
    page.fill("#id_address", "巴山镇梨山村7组")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/children/{child.pk}/")
    text = page.inner_text("main")
    assert "巴山镇梨山村7组" in text
    assert "修改档案" in page.inner_text("#timeline")
    no_horizontal_overflow(page)
