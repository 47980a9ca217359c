"""Issue 3's flow clicked through in Debian's Chromium at phone size (360 × 740): a township supervisor
uploads the township's workbook, sees the preview with the invalid row, its column and reason, downloads
the error workbook, uploads the corrected workbook and commits it; the children are on file (R1.9)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest

from shouhu.browser import fits_phone
from shouhu.core.demo import DEMO_PASSWORD
from shouhu.ledger.tests.helpers import base_row, id_for, official

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_upload_check_fix_and_commit_in_the_browser(
    live_server: Any, county: dict[str, Any], browser: Any, immediate_huey: Any, tmp_path: Any
) -> None:
    import python_calamine as pc

    from shouhu.registry.models import Child

    base = live_server.url
    page = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN").new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", "sup_bashan")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")

    second = date(2016, 3, 8)
    bad, _first = official([base_row(name="王浏览"), base_row(name="王错行", birth=second, sex="?")])
    page.goto(f"{base}/ledger/upload/")
    fits_phone(page)
    page.set_input_files("#id_file", files=[{"name": "巴山镇台账.xlsx", "mimeType": XLSX, "buffer": bad}])
    page.click("main form button[type=submit]")
    page.wait_for_url("**/ledger/imports/**")
    status = page.inner_text("#job-status")
    assert "检查完成" in status and "性别" in status and "无法识别" in status
    assert "只导入 1 条有效行" in status
    fits_phone(page)

    with page.expect_download() as info:
        page.click("text=下载错误报告")
    saved = tmp_path / "errors.xlsx"
    info.value.save_as(saved)
    rows = pc.CalamineWorkbook.from_filelike(io.BytesIO(saved.read_bytes())).get_sheet_by_index(0).to_python()
    assert any("王错行" in map(str, r) and any("性别" in str(c) for c in r) for r in rows)
    assert not Child.objects.filter(name__in=["王浏览", "王错行"]).exists()  # a check writes nothing

    fixed, _first = official(
        [
            base_row(name="王浏览"),
            base_row(name="王错行", birth=second, sex="男", id_number=id_for(second)),
        ]
    )
    page.goto(f"{base}/ledger/upload/")
    page.set_input_files("#id_file", files=[{"name": "巴山镇台账.xlsx", "mimeType": XLSX, "buffer": fixed}])
    page.click("main form button[type=submit]")
    page.wait_for_url("**/ledger/imports/**")
    assert "无效" in page.inner_text("#job-status")
    page.click("text=确认导入")
    page.wait_for_selector("text=已导入")
    assert "新建 2 份档案" in page.inner_text("#job-status")
    assert set(Child.objects.filter(name__in=["王浏览", "王错行"]).values_list("name", flat=True)) == {
        "王浏览",
        "王错行",
    }
