"""The visit record sheet (走访记录表, R3.1) as a PDF, pre-filled from a visit, scoped like the child."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from shouhu.care.services import visit_log
from shouhu.core.documents import services as docs
from shouhu.core.documents import storage
from shouhu.core.tests.test_attachments import png

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: make docs-deps")
BASE = "https://shouhu.example.gov.cn/"


def text_of(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())


@pytest.fixture
def visit(users, make_child):
    child = make_child(name="陈小花")
    v, _alert = visit_log(
        actor=users["vw"],
        child=child,
        data={
            "occurred_at": timezone.now() - timedelta(hours=3),
            "kind": "routine",
            "findings": {"safety_hazards": "屋后有水塘，已提醒祖母看护", "study": "成绩中等，按时完成作业"},
            "guardianship_rating": "adequate",
        },
    )
    return v


def test_visit_sheet_is_prefilled_from_the_visit(users, visit):
    doc = docs.document_generate(
        actor=users["vw"], kind="care.visit_record", owner_id=visit.pk, base_url=BASE
    )
    text = text_of(storage.load_by_id(doc.content_id))
    assert "走访记录表" in text and "陈小花" in text and "屋后有水塘，已提醒祖母看护" in text
    assert "定期走访排查" in text and "一般" in text and "监护人（照料人）签字" in text
    assert doc.child_id == str(visit.child_id)


def test_visit_sheet_is_issued_by_those_who_record_care_and_opened_by_care_readers(users, visit):
    for who in ("edu", "school", "officer", "leader", "nobody"):  # care.record held nowhere: 403
        with pytest.raises(PermissionDenied):
            docs.document_generate(
                actor=users[who], kind="care.visit_record", owner_id=visit.pk, base_url=BASE
            )
    for who in ("vw_other", "sup_other"):  # they record care elsewhere: out of reach like missing
        with pytest.raises(Http404):
            docs.document_generate(
                actor=users[who], kind="care.visit_record", owner_id=visit.pk, base_url=BASE
            )
    doc = docs.document_generate(
        actor=users["sup"], kind="care.visit_record", owner_id=visit.pk, base_url=BASE
    )
    text = text_of(storage.load_by_id(doc.content_id))
    assert visit.child.id_number in text and doc.identifiers_shown  # the supervisor holds child.identifiers
    assert set(doc.groups) == {"identity", "contacts", "schooling", "family", "care"}
    for who in ("edu", "school"):  # a visit is care data: their child.view does not reach it
        with pytest.raises(Http404):
            docs.document_download(actor=users[who], document_id=doc.pk)
    docs.document_download(actor=users["county"], document_id=doc.pk)


def test_visit_photos_are_added_by_care_workers_and_certificates_need_the_family_groups(users, visit):
    PNG = png()
    for who in ("edu", "school", "officer"):
        with pytest.raises(PermissionDenied):
            docs.attachment_add(
                actor=users[who], owner_type="care.visit", owner_id=visit.pk, category="photo",
                filename="a.png", data=PNG,
            )  # fmt: skip
    photo = docs.attachment_add(
        actor=users["vw"],
        owner_type="care.visit",
        owner_id=visit.pk,
        category="photo",
        filename="家访.png",
        data=PNG,
    )
    cert = docs.attachment_add(
        actor=users["vw"], owner_type="care.visit", owner_id=visit.pk, category="certificate",
        filename="低保证.png", data=PNG,
    )  # fmt: skip
    from shouhu.protection.services import report_submit

    report_submit(
        actor=users["vw"],
        data={
            "child": str(visit.child_id),
            "situations": ["guardian_neglect"],
            "discovered_at": timezone.now(),
            "description": "无人照看",
        },
    )
    # Police see the child's care records through the station's case, but not the family's income.
    docs.attachment_download(actor=users["officer"], attachment_id=photo.pk)
    with pytest.raises(Http404):
        docs.attachment_download(actor=users["officer"], attachment_id=cert.pk)
