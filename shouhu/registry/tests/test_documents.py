"""The registry's documents (R11.6): 一人一档, 委托监护确认书, 监护责任告知书 — rendered to PDF, checked
through their extracted text (poppler's pdftotext), masked unless the user's duty covers identifiers,
and scoped like the file (out of scope answers 404)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from shouhu.core.documents import services, storage
from shouhu.core.models import AccessLog, Code, Event
from shouhu.registry.family import agreement_add
from shouhu.registry.services import guardian_set

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: make docs-deps")
BASE = "https://shouhu.example.gov.cn/"


def pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode()


def flat(text: str) -> str:
    """Text without the spaces and line breaks the layout inserts."""
    return "".join(text.split())


@pytest.fixture
def agreement(users, make_child):
    child = make_child(name="王小丫")
    guardian_set(
        actor=users["vw"],
        child=child,
        role="entrusted",
        data=dict(
            name="王奶奶",
            relationship="62",
            birth_date=date(1960, 1, 1),
            id_number="500229196001010024",
            phone="13912345678",
            address="巴山镇梨山村3组",
            full_civil_capacity=True,
            no_violence_history=True,
            no_addiction=True,
            no_prior_neglect=True,
        ),
    )
    resp = list(Code.objects.filter(list="agreement_responsibility").values_list("code", flat=True)[:3])
    neg = list(Code.objects.filter(list="agreement_negative").values_list("code", flat=True)[:2])
    return agreement_add(
        actor=users["vw"],
        child=child,
        data=dict(
            principals="张大山、李小红",
            signed_on=date(2026, 2, 1),
            valid_from=date(2026, 2, 1),
            valid_to=date(2027, 1, 31),
            responsibilities=resp,
            negatives=neg,
            notice_school_on=date(2026, 2, 3),
            notice_village_on=date(2026, 2, 3),
        ),
        today=date(2026, 3, 1),
    )


def _generate(user, kind, owner_id):
    doc = services.document_generate(actor=user, kind=kind, owner_id=owner_id, base_url=BASE)
    return doc, storage.load_by_id(doc.content_id)


def test_child_file_prints_the_file_with_identifiers_for_the_village_worker(users, make_child):
    child = make_child(name="王小丫")
    doc, pdf = _generate(users["vw"], "registry.child_file", child.pk)
    text = flat(pdf_text(pdf))
    assert "一人一档" in text and "王小丫" in text and "张大山" in text and "东莞" in text
    assert child.id_number in text  # the village worker's duty covers identifiers (R11.3)
    assert "13800138000" in text
    assert doc.code in text.replace("-", "") and "验证码" in text
    assert "—1—" in text  # page number
    assert doc.identifiers_shown and doc.data_version == str(child.version)
    assert doc.issuer == users["vw"].organisation.name


def test_child_file_is_masked_for_a_role_that_may_not_see_identifiers(users, make_child):
    child = make_child(name="王小丫")
    doc, pdf = _generate(users["edu"], "registry.child_file", child.pk)
    text = flat(pdf_text(pdf))
    assert "王小丫" in text
    assert child.id_number not in text and child.id_number[:6] + "********" in text
    assert "13800138000" not in text and "138****8000" in text
    assert not doc.identifiers_shown
    # A copy with full identifiers is not opened (nor listed) for the education bureau.
    vw_doc, _pdf = _generate(users["vw"], "registry.child_file", child.pk)
    with pytest.raises(Http404):
        services.document_download(actor=users["edu"], document_id=vw_doc.pk)


def test_child_file_out_of_scope_is_404_and_nothing_is_written(users, make_child):
    child = make_child()
    events, logs = Event.objects.count(), AccessLog.objects.count()
    for user in (users["vw_other"], users["sup_other"], users["leader"], users["nobody"]):
        with pytest.raises(Http404):
            services.document_generate(
                actor=user, kind="registry.child_file", owner_id=child.pk, base_url=BASE
            )
    with pytest.raises(Http404):
        services.document_generate(
            actor=users["vw"],
            kind="registry.child_file",
            owner_id="00000000-0000-0000-0000-000000000000",
            base_url=BASE,
        )
    assert Event.objects.count() == events and AccessLog.objects.count() == logs


def test_entrustment_confirmation_is_prefilled_to_sign(users, agreement):
    doc, pdf = _generate(users["vw"], "registry.entrustment_confirmation", agreement.pk)
    text = flat(pdf_text(pdf))
    assert "委托监护确认书" in text and "王小丫" in text and "王奶奶" in text and "祖母" in text
    assert "2026年2月1日" in text and "2027年1月31日" in text
    assert "500229196001010024" in text
    first = Code.objects.get(list="agreement_responsibility", code=agreement.responsibilities[0]).name_zh
    assert flat(first)[:20] in text
    assert "受委托人签字" in text and "（盖章）" in text
    committee = doc.issuer
    assert committee.endswith("村民委员会") and flat(committee) in text


def test_guardian_notice_lists_duties_and_the_negative_list(users, agreement):
    _doc, pdf = _generate(users["vw"], "registry.guardian_notice", agreement.pk)
    text = flat(pdf_text(pdf))
    assert "监护责任告知书" in text and "王奶奶" in text and "不得实施的行为" in text
    negative = Code.objects.get(list="agreement_negative", code=agreement.negatives[0]).name_zh
    assert flat(negative)[:15] in text
    assert "第二十一条至第二十三条" in text


def test_family_papers_are_issued_only_by_those_who_may_edit_the_file(users, agreement):
    with pytest.raises(PermissionDenied):
        services.document_generate(
            actor=users["edu"], kind="registry.entrustment_confirmation", owner_id=agreement.pk, base_url=BASE
        )
    with pytest.raises(Http404):
        services.document_generate(
            actor=users["vw_other"], kind="registry.guardian_notice", owner_id=agreement.pk, base_url=BASE
        )
