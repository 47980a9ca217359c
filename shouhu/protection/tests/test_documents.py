"""The written answer to a reporter (书面回复, Minors Protection Law art. 11; R5.4) as a PDF, and the
protection records as owners of attachments: who may print, who may see (the reporter's identity stays
with police and civil affairs), out of scope answers 404."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from PIL import Image

from shouhu.core.documents import services as docs
from shouhu.core.documents import storage
from shouhu.core.documents.selectors import panel
from shouhu.core.models import AccessLog
from shouhu.protection import services

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: make docs-deps")
TZ = ZoneInfo("Asia/Shanghai")
BASE = "https://shouhu.example.gov.cn/"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 10)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


def text_of(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())


@pytest.fixture
def report(users, make_child):
    child = make_child(name="李四妹")
    return services.report_submit(
        actor=users["doctor"],
        data={
            "child_name": child.name,
            "village": child.village_id,
            "situations": ["domestic_violence"],
            "discovered_at": datetime.now(TZ) - timedelta(hours=2),
            "description": "就诊时发现多处淤伤",
            "reporter_name": "赵医生",
            "reporter_phone": "13700001111",
        },
    )


def receive(users, report):
    services.case_transition(actor=users["officer"], case_id=report.case_id, to="received", note="受理")
    report.refresh_from_db()
    return report


def test_written_answer_only_after_the_station_receives_the_report(users, report):
    with pytest.raises(ValidationError, match="受理报告后"):
        docs.document_generate(
            actor=users["officer"], kind="protection.written_answer", owner_id=report.pk, base_url=BASE
        )


def test_written_answer_prints_the_stations_answer(users, report):
    report = receive(users, report)
    doc = docs.document_generate(
        actor=users["officer"], kind="protection.written_answer", owner_id=report.pk, base_url=BASE
    )
    text = text_of(storage.load_by_id(doc.content_id))
    assert "书面回复" in text and report.case.number in text and "巴山派出所" in text
    assert "未成年人保护法》第十一条" in text and "家庭暴力" in text and "赵医生" not in text
    assert doc.issuer == report.case.station.name
    row = AccessLog.objects.filter(user=users["officer"], action="generate").latest("seq")
    assert doc.code in row.detail and row.child_id == str(report.case.child_id) and row.identifiers
    # The reporter opens the copy addressed to them, printed with their own phone.
    assert "13700001111" in text and doc.identifiers_shown
    docs.document_download(actor=users["doctor"], document_id=doc.pk)
    row = AccessLog.objects.latest("seq")
    assert (row.action, row.user) == ("document", users["doctor"])


def test_reporter_may_print_their_own_answer_but_the_village_worker_may_not_see_it(users, report):
    report = receive(users, report)
    doc = docs.document_generate(
        actor=users["doctor"], kind="protection.written_answer", owner_id=report.pk, base_url=BASE
    )
    assert doc.issuer == report.case.station.name  # issued in the station's name
    # The village worker assists the case but never learns who reported (R5.1).
    with pytest.raises(Http404):
        docs.document_download(actor=users["vw"], document_id=doc.pk)
    with pytest.raises(Http404):
        docs.document_generate(
            actor=users["vw"], kind="protection.written_answer", owner_id=report.pk, base_url=BASE
        )
    for user in (users["officer_other"], users["sup_other"], users["school"]):
        with pytest.raises(Http404):
            docs.document_download(actor=user, document_id=doc.pk)
    docs.document_download(actor=users["sup"], document_id=doc.pk)  # civil affairs sees the reporter


def test_case_attachments_for_everyone_the_case_reaches_only(users, report):
    for who in ("doctor", "school", "edu"):  # no capability that acts on a case: 403 before any lookup
        with pytest.raises(PermissionDenied):
            docs.attachment_add(
                actor=users[who], owner_type="protection.case", owner_id=report.case_id, category="photo",
                filename="x.png", data=PNG,
            )  # fmt: skip
    att = docs.attachment_add(
        actor=users["vw"],
        owner_type="protection.case",
        owner_id=report.case_id,
        category="photo",
        filename="伤情.png",
        data=PNG,
    )
    for user in (users["officer"], users["sup"], users["county"]):
        docs.attachment_download(actor=user, attachment_id=att.pk)
    # The school and the education bureau see the child's file, never the case (R11.1).
    for user in (users["officer_other"], users["vw_other"], users["doctor"], users["edu"], users["school"]):
        with pytest.raises(Http404):
            docs.attachment_download(actor=user, attachment_id=att.pk)
    row = AccessLog.objects.filter(action="download").latest("seq")
    assert row.user == users["county"] and row.child_id == str(report.case.child_id) and row.count == 1


def test_court_decisions_on_a_petition_are_civil_affairs_work(users, report):
    from shouhu.protection.models import Petition

    petition = Petition.objects.create(
        case=report.case,
        petitioner="civil_affairs",
        petitioner_name="城口县民政局",
        guardian_name="张大山",
        grounds=["c"],
        court="城口县人民法院",
        filed_on=datetime.now(TZ).date(),
    )
    with pytest.raises(PermissionDenied):  # police see the case, civil affairs files the petition
        docs.attachment_add(
            actor=users["officer"],
            owner_type="protection.petition",
            owner_id=petition.pk,
            category="court_decision",
            filename="判决.png",
            data=PNG,
        )
    att = docs.attachment_add(
        actor=users["sup"],
        owner_type="protection.petition",
        owner_id=petition.pk,
        category="court_decision",
        filename="判决.png",
        data=PNG,
    )
    assert att.child_id == str(report.case.child_id)
    p = panel(users["sup"], "protection.petition", petition)
    assert p["may_attach"] and [a.pk for a in p["attachments"]] == [att.pk]
    with pytest.raises(ValidationError):  # a category that does not belong on a petition
        docs.attachment_add(
            actor=users["sup"],
            owner_type="protection.petition",
            owner_id=petition.pk,
            category="photo",
            filename="x.png",
            data=PNG,
        )
