"""The visit record sheet (走访记录表, R3.1) as a PDF, pre-filled from a visit, scoped like the child."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from shouhu.care.services import visit_log
from shouhu.core.documents import services as docs
from shouhu.core.documents import storage

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


def test_visit_sheet_masks_identifiers_and_is_scoped(users, visit):
    for user in (users["vw_other"], users["sup_other"], users["leader"]):
        with pytest.raises(Http404):
            docs.document_generate(actor=user, kind="care.visit_record", owner_id=visit.pk, base_url=BASE)
    edu_doc = docs.document_generate(
        actor=users["edu"], kind="care.visit_record", owner_id=visit.pk, base_url=BASE
    )
    text = text_of(storage.load_by_id(edu_doc.content_id))
    assert visit.child.id_number not in text and "********" in text
