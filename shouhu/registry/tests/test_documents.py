"""The registry's documents (R11.6): 一人一档, 委托监护确认书, 监护责任告知书 — rendered to PDF, checked
through their extracted text (poppler's pdftotext), printing only the field groups the generating user
sees (registry/fields.py), identifiers masked unless the user holds child.identifiers, scoped like the
file (out of reach answers 404, a role without the capability 403), and sealed in the access log."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shouhu.core.accesslog import verify_access_log
from shouhu.core.documents import services, storage, vcode
from shouhu.core.models import AccessLog, Code, Event, Organisation
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
    child = make_child(name="王小丫", school=Organisation.objects.get(name="巴山中心小学"))
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


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _generate(user, kind, owner_id):
    doc = services.document_generate(actor=user, kind=kind, owner_id=owner_id, base_url=BASE)
    return doc, storage.load_by_id(doc.content_id)


@pytest.fixture
def pupil(make_child):
    """A child of 巴山中心小学 with a value planted in each field group of the file."""
    return make_child(
        name="王小丫",
        school=Organisation.objects.get(name="巴山中心小学"),
        health="ill",
        illness="哮喘病史",
        notes="留意情绪变化",
        village_contact_name="村干部老李",
        village_contact_phone="13711112222",
    )


# A value of each field group of `pupil`'s file (flattened text), and the group that shows it.
PLANTED = {
    "王小丫": "identity",
    "巴山镇梨山村3组": "contacts",  # the address
    "张大山": "contacts",  # a parent's name (contacts or family)
    "村干部老李": "contacts",
    "东莞": "family",  # where the father works
    "有监护能力": "family",
    "祖辈": "family",
    "哮喘病史": "health",
    "家庭经济来源": "income",
    "巴山中心小学": "schooling",
    "留守状态": "schooling",  # the census marking: care or schooling
    "监护情况评估": "care",
    "留意情绪变化": "care",
    "困境儿童类别": "care",
}


def _shown(text: str, groups: set[str]) -> list[str]:
    """Problems: a planted value printed without its group, or missing with it."""
    out = []
    for value, group in PLANTED.items():
        expected = group in groups or (value == "张大山" and "family" in groups)
        expected = expected or (value == "留守状态" and "care" in groups)
        if (value in text) != expected:
            out.append(f"{value} ({group}) {'missing' if expected else 'printed'}")
    return out


def test_child_file_prints_every_group_with_identifiers_for_the_village_worker(users, pupil):
    doc, pdf = _generate(users["vw"], "registry.child_file", pupil.pk)
    text = flat(pdf_text(pdf))
    assert "一人一档" in text and _shown(text, set(PLANTED.values())) == []
    assert pupil.id_number in text  # the village worker holds child.identifiers (R11.3)
    assert "13800138000" in text and "13711112222" in text
    assert "未包含" not in text  # nothing left out
    assert doc.code in text.replace("-", "") and "验证码" in text
    assert "—1—" in text  # page number
    assert doc.identifiers_shown and doc.data_version == str(pupil.version)
    assert set(doc.groups) == {"identity", "contacts", "family", "health", "income", "schooling", "care"}
    assert doc.issuer == users["vw"].organisation.name


def test_child_file_for_the_education_bureau_has_identity_and_schooling_only(users, pupil):
    doc, pdf = _generate(users["edu"], "registry.child_file", pupil.pk)
    text = flat(pdf_text(pdf))
    assert _shown(text, {"identity", "schooling"}) == []
    assert pupil.id_number not in text and pupil.id_number[:6] + "************" in text  # masked
    assert "138****8000" not in text and "13800138000" not in text  # no phone at all: no contacts group
    assert "一、基本情况" in text and "二、留守状态与重点对象" in text and "三、" not in text
    assert (
        "本件按出具人的查看权限打印，未包含：联系方式、家庭与监护、健康、家庭经济与救助、关爱与留守状态。"
        in text
    )
    assert not doc.identifiers_shown and doc.groups == ["identity", "schooling"]


def test_child_file_for_a_school_adds_contacts_with_phones_masked(users, pupil):
    doc, pdf = _generate(users["school"], "registry.child_file", pupil.pk)
    text = flat(pdf_text(pdf))
    assert _shown(text, {"identity", "schooling", "contacts"}) == []
    assert "138****8000" in text and "13800138000" not in text  # phones masked without child.identifiers
    assert "137****2222" in text and pupil.id_number not in text
    assert "公民身份号码" in text and text.count("公民身份号码") == 1  # the child's (masked); no parent's
    assert not doc.identifiers_shown and doc.groups == ["contacts", "identity", "schooling"]


def test_child_file_for_police_leaves_out_income_and_prints_identifiers(users, pupil):
    from shouhu.protection.services import report_submit

    report_submit(
        actor=users["vw"],
        data={
            "child": str(pupil.pk),
            "situations": ["guardian_neglect"],
            "discovered_at": timezone.now(),
            "description": "无人照看",
        },
    )
    doc, pdf = _generate(users["officer"], "registry.child_file", pupil.pk)
    text = flat(pdf_text(pdf))
    assert _shown(text, set(PLANTED.values()) - {"income"}) == []
    assert pupil.id_number in text and "13800138000" in text  # police hold child.identifiers
    assert "未包含：家庭经济与救助。" in text and doc.identifiers_shown


def test_a_copy_opens_only_for_readers_who_see_all_it_printed(users, pupil):
    full, _pdf = _generate(users["vw"], "registry.child_file", pupil.pk)
    school, _pdf = _generate(users["school"], "registry.child_file", pupil.pk)
    edu, _pdf = _generate(users["edu"], "registry.child_file", pupil.pk)
    allowed = {
        "vw": {full, school, edu},
        "school": {school, edu},  # not the village's copy (family, health … and full identifiers)
        "edu": {edu},  # not the school's (contacts)
    }
    for who, docs in allowed.items():
        for doc in (full, school, edu):
            if doc in docs:
                services.document_download(actor=users[who], document_id=doc.pk)
            else:
                with pytest.raises(Http404):
                    services.document_download(actor=users[who], document_id=doc.pk)
        page = _client(users[who]).get(reverse("web:child_detail", args=[pupil.pk])).content.decode()
        panel = page.split('id="documents"')[1].split('id="timeline"')[0]
        listed = {d for d in (full, school, edu) if vcode.grouped(d.code) in panel}
        assert listed == docs, who
        # a partial copy says so in the list
        assert ("未含：家庭与监护、健康、家庭经济与救助、关爱与留守状态" in panel) == (
            who in ("vw", "school")
        )


def test_child_file_out_of_reach_is_404_without_the_capability_403_and_nothing_is_written(users, make_child):
    child = make_child()
    events, logs = Event.objects.count(), AccessLog.objects.count()
    for user in (users["vw_other"], users["sup_other"], users["officer"]):  # hold child.view elsewhere
        with pytest.raises(Http404):
            services.document_generate(
                actor=user, kind="registry.child_file", owner_id=child.pk, base_url=BASE
            )
    for user in (users["leader"], users["nobody"], users["doctor"], users["auditor"]):  # hold it nowhere
        for owner_id in (child.pk, "00000000-0000-0000-0000-000000000000"):
            with pytest.raises(PermissionDenied):
                services.document_generate(
                    actor=user, kind="registry.child_file", owner_id=owner_id, base_url=BASE
                )
    with pytest.raises(Http404):
        services.document_generate(
            actor=users["vw"],
            kind="registry.child_file",
            owner_id="00000000-0000-0000-0000-000000000000",
            base_url=BASE,
        )
    assert Event.objects.count() == events and AccessLog.objects.count() == logs


def test_generation_and_download_are_sealed_access_records(users, pupil):
    doc, _pdf = _generate(users["school"], "registry.child_file", pupil.pk)
    row = AccessLog.objects.filter(user=users["school"]).latest("seq")
    assert (row.action, row.child_id, row.region_code, row.count) == (
        "generate",
        str(pupil.pk),
        pupil.village_id,
        1,
    )
    assert doc.code in row.detail and not row.identifiers
    services.document_download(actor=users["vw"], document_id=doc.pk, ip="10.1.1.1")
    row = AccessLog.objects.latest("seq")
    assert (row.action, row.user, row.child_id, row.ip) == (
        "document",
        users["vw"],
        str(pupil.pk),
        "10.1.1.1",
    )
    assert verify_access_log() == []


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
    for who in ("edu", "school", "officer", "leader"):  # child.edit held nowhere: 403 whatever the record
        with pytest.raises(PermissionDenied):
            services.document_generate(
                actor=users[who],
                kind="registry.entrustment_confirmation",
                owner_id=agreement.pk,
                base_url=BASE,
            )
    with pytest.raises(Http404):  # holds child.edit, not over this child
        services.document_generate(
            actor=users["vw_other"], kind="registry.guardian_notice", owner_id=agreement.pk, base_url=BASE
        )
    for who in ("sup", "county"):
        doc = services.document_generate(
            actor=users[who], kind="registry.guardian_notice", owner_id=agreement.pk, base_url=BASE
        )
        assert doc.groups == ["contacts", "family", "identity", "schooling"] and doc.identifiers_shown


def test_the_agreement_is_family_data(users, agreement):
    """The agreement (and its papers and attachments) is part of the family group: a school that sees the
    pupil's file does not see it, and its panel is not on the school's page."""
    vw_doc = services.document_generate(
        actor=users["vw"], kind="registry.entrustment_confirmation", owner_id=agreement.pk, base_url=BASE
    )
    for who in ("school", "edu"):
        with pytest.raises(Http404):
            services.document_download(actor=users[who], document_id=vw_doc.pk)
    page = (
        _client(users["school"]).get(reverse("web:child_detail", args=[agreement.child_id])).content.decode()
    )
    assert "王小丫" in page and "委托监护确认书" not in page and vcode.grouped(vw_doc.code) not in page
