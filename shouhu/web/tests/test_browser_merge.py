"""Issue 12 check: a village worker merges a duplicate file in Chromium at phone size (360 × 740):
the duplicates page lists the pair, the merge lands on the kept file, whose timeline says so."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shouhu.browser import SHOT_DIR, fits_phone
from shouhu.conftest import BASHAN_VILLAGE, BASHAN_VILLAGE_2, child_data
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_village_worker_merges_a_duplicate_on_a_phone(
    live_server: Any, county: dict[str, Any], browser: Any
) -> None:
    from shouhu.registry.lifecycle import child_transfer
    from shouhu.registry.models import Child
    from shouhu.registry.services import child_create

    keep = child_create(
        actor=county["vw_102201"], data=child_data(name="陈小雨", birth_date=date(2014, 5, 5))
    )
    dup = child_create(
        actor=county["vw_102202"],
        data=child_data(
            name="陈晓雨",
            birth_date=date(2014, 5, 5),
            village=BASHAN_VILLAGE_2,
            id_number=None,
            hukou_registered=False,
        ),
    )
    child_transfer(actor=county["sup_bashan"], child_id=dup.pk, village=BASHAN_VILLAGE)
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "vw_102201")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/children/{keep.pk}/")
    page.click("#lifecycle >> text=查看疑似重复档案并合并")
    page.wait_for_url(f"{base}/children/duplicates/")
    assert "陈晓雨" in page.inner_text("main")
    fits_phone(page)
    page.screenshot(path=f"{SHOT_DIR}/shot_duplicates.png", full_page=True)
    page.fill(".duplicate-pair input[name=note]", "同一儿童，核实无误")
    page.click(".duplicate-pair button[type=submit]")
    page.wait_for_url(f"{base}/children/{keep.pk}/")
    assert "已合并" in page.inner_text("main")
    assert "合并重复档案" in page.inner_text("#timeline")
    fits_phone(page)
    page.screenshot(path=f"{SHOT_DIR}/shot_merged.png", full_page=True)
    dup_state = Child.objects.values_list("state", "merged_into_id").get(pk=dup.pk)
    assert dup_state == ("archived", keep.pk)
