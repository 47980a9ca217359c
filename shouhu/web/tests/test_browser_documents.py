"""End to end in Debian's Chromium at phone size: a village worker attaches a photo to a child's file,
prints the one-person-one-file record, and anyone checks its verification code on the public page."""

from __future__ import annotations

import io
import shutil
import subprocess
from typing import Any

import pytest
from PIL import Image

from shouhu.browser import SHOT_DIR, fits_phone
from shouhu.conftest import child_data
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: make docs-deps"),
]


def test_attach_print_and_verify_on_a_phone(
    live_server: Any, county: dict[str, Any], browser: Any, tmp_path: Any
) -> None:
    from shouhu.core.documents.models import GeneratedDocument
    from shouhu.registry.services import child_create

    child = child_create(actor=county["vw_102201"], data=child_data(name="孙小满"))
    photo = tmp_path / "家访.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(buf, format="JPEG")
    photo.write_bytes(buf.getvalue())
    fake = tmp_path / "判决书.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 500)

    base = live_server.url
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page.goto(f"{base}/login/")
    page.fill("#id_username", "vw_102201")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/children/{child.pk}/#documents")

    panel = "#documents .upload-form"
    page.set_input_files(f"{panel} input[type=file]", str(fake))
    page.select_option(f"{panel} select[name=category]", "court_decision")
    page.click(f"{panel} button[type=submit]")
    page.wait_for_url(f"{base}/children/{child.pk}/**")
    assert "不支持的文件类型" in page.inner_text(".messages")

    page.set_input_files(f"{panel} input[type=file]", str(photo))
    page.select_option(f"{panel} select[name=category]", "photo")
    page.fill(f"{panel} input[name=note]", "第一次家访")
    page.click(f"{panel} button[type=submit]")
    page.wait_for_url(f"{base}/children/{child.pk}/**")
    assert "已上传附件" in page.inner_text(".messages")
    assert "家访.jpg" in page.inner_text("#documents")
    fits_phone(page)

    page.click("#documents >> text=打印 一人一档（PDF）")
    page.wait_for_url(f"{base}/documents/**")
    doc = GeneratedDocument.objects.get(owner_id=str(child.pk))
    pdf = page.request.get(page.url)  # what the browser's PDF viewer shows, with the same session
    assert pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.body(), capture_output=True, check=True
    ).stdout.decode()
    assert "孙小满" in "".join(text.split()) and doc.code[:4] in text
    page.goto(f"{base}/children/{child.pk}/#documents")
    page.locator("#documents").screenshot(path=f"{SHOT_DIR}/shot_documents_phone.png")

    desk = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk.context.add_cookies(page.context.cookies())
    desk.goto(f"{base}/children/{child.pk}/#documents")
    desk.locator("#documents").screenshot(path=f"{SHOT_DIR}/shot_documents_desktop.png")

    anonymous = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN").new_page()
    anonymous.goto(f"{base}/verify/")
    anonymous.fill("#code", doc.code.lower())
    anonymous.click("#verify-form button[type=submit]")
    anonymous.wait_for_selector("#verdict")
    verdict = anonymous.inner_text("#verdict")
    assert "真实有效" in verdict and "一人一档" in verdict and "孙小满" not in anonymous.content()
    fits_phone(anonymous)
    anonymous.screenshot(path=f"{SHOT_DIR}/shot_verify_phone.png", full_page=True)


def test_a_school_prints_its_pupils_file_with_what_it_may_see(
    live_server: Any, county: dict[str, Any], browser: Any
) -> None:
    """A school's staff on a phone: the pupil's page offers the print but no upload (they may not add to
    the file); the printed 一人一档 has identity, schooling and contacts, phones masked, and says what it
    leaves out (R11.1)."""
    from shouhu.core.models import Organisation
    from shouhu.registry.services import child_create

    school = Organisation.objects.get(name="巴山中心小学")
    child = child_create(
        actor=county["vw_102201"],
        data=child_data(name="周小禾", school=school, illness="过敏史", health="ill"),
    )
    base = live_server.url
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page.goto(f"{base}/login/")
    page.fill("#id_username", "school_bashan")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/children/{child.pk}/#documents")
    assert page.locator("#documents .upload-form").count() == 0
    fits_phone(page)
    page.click("#documents >> text=打印 一人一档（PDF）")
    page.wait_for_url(f"{base}/documents/**")
    pdf = page.request.get(page.url).body()
    text = "".join(
        subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
        .stdout.decode()
        .split()
    )
    assert "周小禾" in text and "巴山中心小学" in text and "138****8000" in text
    assert "过敏史" not in text and "东莞" not in text and "13800138000" not in text
    assert "未包含：家庭与监护、健康、家庭经济与救助、关爱与留守状态" in text
    with open(f"{SHOT_DIR}/shot_school_child_file.pdf", "wb") as out:
        out.write(pdf)
    page.goto(f"{base}/children/{child.pk}/#documents")
    page.locator("#documents").screenshot(path=f"{SHOT_DIR}/shot_school_documents_phone.png")
    # The village worker's page lists the school's copy as partial.
    desk = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk.goto(f"{base}/login/")
    desk.fill("#id_username", "vw_102201")
    desk.fill("#id_password", DEMO_PASSWORD)
    desk.click("main form button[type=submit]")
    desk.wait_for_url(f"{base}/")
    desk.goto(f"{base}/children/{child.pk}/#documents")
    assert "未含：家庭与监护、健康、家庭经济与救助、关爱与留守状态" in desk.inner_text(
        "#documents .issued-documents"
    )
    desk.locator("#documents").screenshot(path=f"{SHOT_DIR}/shot_partial_copy_desktop.png")
