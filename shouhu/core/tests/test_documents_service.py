"""Core's document service (R11.6) on a test record type: generation sealed in the event chain and
logged, verification (genuine, mistyped, forged, altered row, altered file), encryption at rest, and
atomicity outside the test transaction."""

from __future__ import annotations

import hashlib
import shutil
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from hypothesis import given
from hypothesis import strategies as st

from shouhu.core.access import can
from shouhu.core.accesslog import verify_access_log
from shouhu.core.documents import kinds, owners, services, storage, vcode
from shouhu.core.documents.kinds import BuildContext, DocumentKind
from shouhu.core.documents.models import GeneratedDocument, StoredFile
from shouhu.core.documents.owners import OwnerType
from shouhu.core.documents.verify import ALTERED, GENUINE, MALFORMED, UNKNOWN, verify
from shouhu.core.events import verify_chain
from shouhu.core.models import AccessLog, Event, Region

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: make docs-deps")
BASE = "https://shouhu.example.gov.cn/"
VILLAGE = "500229102201"
OTHER_VILLAGE = "500229201201"


def _region(user: Any, code: str) -> Region:
    region = owners.guarded(lambda: Region.objects.get(pk=code))
    if not can(user, "child.view", region.code):  # a region capability asked of a region code
        raise Http404("not found")
    return region


REGION = owners.register(
    OwnerType(
        code="test.region",
        label="行政区划",
        view=("child.view",),
        fetch=_region,
        subject=lambda r: r.code,
        child_id=lambda r: "",
        region_code=lambda r: r.code,
        url=lambda r: f"/regions/{r.code}/",
        title=lambda r: r.name,
        attach=("child.edit",),
        sees_identifiers=lambda user, r: can(user, "child.identifiers", r.code),
    )
)


def _region_data(region: Region, ctx: BuildContext) -> dict[str, Any]:
    return {"name": region.name, "code": region.code, "reveal": ctx.reveal}


kinds.register(
    DocumentKind(
        code="test.region_sheet",
        label="区划信息表",
        owner_type=REGION.code,
        template="documents/pdf_base.html",
        build=_region_data,
        version=lambda r: r.code,
        capability=("child.edit",),
    )
)


def generate(user: Any, code: str = VILLAGE) -> GeneratedDocument:
    return services.document_generate(
        actor=user, kind="test.region_sheet", owner_id=code, base_url=BASE, ip="10.0.0.1"
    )


# --- verification codes ---------------------------------------------------------------------------------


BODIES = st.text(alphabet=vcode.ALPHABET, min_size=vcode.LENGTH - 1, max_size=vcode.LENGTH - 1)


@given(BODIES)
def test_every_single_mistyped_character_is_caught(body):
    code = body + vcode.check_character(body)
    assert vcode.well_formed(code)
    for i in range(vcode.LENGTH):
        for ch in vcode.ALPHABET:
            typo = code[:i] + ch + code[i + 1 :]
            assert vcode.well_formed(typo) == (typo == code), typo


@given(BODIES)
def test_every_swap_of_neighbours_is_caught(body):
    code = body + vcode.check_character(body)
    for i in range(vcode.LENGTH - 1):  # the check character's neighbour included
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        assert vcode.well_formed(swapped) == (swapped == code), swapped


def test_the_check_is_the_one_written_down():
    # Fixed examples, so a change to the algorithm cannot pass unnoticed (issued codes must stay valid).
    assert vcode.check_character("0" * 15) == "0"
    assert vcode.check_character("000000000000001") == "2"
    assert [vcode.well_formed(c) for c in ("0000000000000012", "0000000000000021")] == [True, False]
    assert vcode.well_formed(vcode.new_code())


def test_codes_are_read_as_people_type_them():
    code = vcode.new_code()
    typed = " " + vcode.grouped(code).lower().replace("0", "o").replace("1", "l") + " "
    assert vcode.normalize(typed) == code
    assert len({vcode.new_code() for _ in range(1000)}) == 1000


# --- generation ---------------------------------------------------------------------------------------


def test_generation_is_sealed_in_the_chain_stored_encrypted_and_logged(users):
    doc = generate(users["sup"])
    pdf = storage.load_by_id(doc.content_id)
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == doc.sha256 == doc.sha256
    assert doc.size == len(pdf) and doc.pages >= 1
    raw = bytes(StoredFile.objects.get(pk=doc.content_id).data)
    assert b"%PDF" not in raw and raw != pdf  # encrypted at rest
    event = Event.objects.get(subject_type="core.document", subject_id=str(doc.pk))
    assert event.verb == "document.generated" and event.actor_id == users["sup"].pk
    after = event.after or {}
    assert after["sha256"] == doc.sha256 and after["code"] == doc.code
    assert after["data_version"] == VILLAGE and after["data_hash"] == doc.data_hash
    assert event.region_code == VILLAGE
    log = AccessLog.objects.filter(user=users["sup"], action="generate").latest("seq")
    assert doc.code in log.detail and log.ip == "10.0.0.1" and log.region_code == VILLAGE
    assert log.count == 0 and log.identifiers  # no child's file read; printed with full identifiers
    assert verify_chain(Event.objects.order_by("seq")) == []
    assert doc.issuer == users["sup"].organisation.name


def test_same_data_same_hash_new_code(users):
    a, b = generate(users["sup"]), generate(users["sup"])
    assert a.data_hash == b.data_hash and a.code != b.code and a.sha256 != b.sha256


def test_out_of_scope_missing_and_unauthorised(users):
    with pytest.raises(Http404):
        generate(users["sup_other"])
    with pytest.raises(Http404):
        generate(users["sup"], code="999999999999")
    with pytest.raises(Http404):
        services.document_generate(
            actor=users["sup"], kind="test.region_sheet", owner_id="../etc", base_url=BASE
        )
    with pytest.raises(PermissionDenied):
        generate(users["edu"])  # sees the county, may not issue: refused before any record is looked up
    with pytest.raises(PermissionDenied):
        generate(users["edu"], code="999999999999")  # the same answer for a missing record
    assert not GeneratedDocument.objects.exists()


def test_download_is_logged_and_scoped(users):
    doc = generate(users["sup"])
    before = AccessLog.objects.count()
    got, data = services.document_download(actor=users["county"], document_id=doc.pk, ip=None)
    assert got == doc and hashlib.sha256(data).hexdigest() == doc.sha256
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.latest("seq")
    assert row.action == "document" and doc.code in row.detail and row.user == users["county"]
    assert verify_access_log() == []  # sealed like every other read
    with pytest.raises(Http404):
        services.document_download(actor=users["sup_other"], document_id=doc.pk)
    with pytest.raises(Http404):
        services.document_download(actor=users["sup"], document_id="not-a-uuid")


# --- verification -----------------------------------------------------------------------------------


def test_genuine_code_and_unaltered_file(users):
    doc = generate(users["sup"])
    pdf = storage.load_by_id(doc.content_id)
    v = verify(vcode.grouped(doc.code).lower())
    assert v.status == GENUINE and v.genuine and v.issuer == doc.issuer and v.kind_label == "区划信息表"
    assert verify(doc.code, pdf).file_matches is True


def test_altered_file_is_told_apart(users):
    doc = generate(users["sup"])
    pdf = bytearray(storage.load_by_id(doc.content_id))
    pdf[len(pdf) // 2] ^= 0x01
    v = verify(doc.code, bytes(pdf))
    assert v.status == GENUINE and v.file_matches is False and not v.genuine


def test_forged_and_mistyped_codes(users):
    doc = generate(users["sup"])
    forged = vcode.new_code()
    assert verify(forged).status == UNKNOWN
    typo = doc.code[:-1] + ("0" if doc.code[-1] != "0" else "1")
    assert verify(typo).status == MALFORMED
    assert verify("").status == MALFORMED and verify("ABC").status == MALFORMED


def test_altered_row_is_caught_by_the_seal(users):
    doc = generate(users["sup"])
    GeneratedDocument.objects.filter(pk=doc.pk).update(issuer="伪造单位")
    assert verify(doc.code).status == ALTERED
    GeneratedDocument.objects.filter(pk=doc.pk).update(issuer=doc.issuer, sha256="0" * 64)
    assert verify(doc.code).status == ALTERED


# --- atomicity outside the test transaction -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_nothing_half_written_when_the_event_fails(users, monkeypatch):
    def boom(specs: Any) -> None:
        raise RuntimeError("chain unavailable")

    monkeypatch.setattr(services, "record_events", boom)
    docs, files, logs = (
        GeneratedDocument.objects.count(),
        StoredFile.objects.count(),
        AccessLog.objects.count(),
    )
    with pytest.raises(RuntimeError):
        generate(users["sup"])
    assert GeneratedDocument.objects.count() == docs and StoredFile.objects.count() == files
    assert AccessLog.objects.count() == logs


@pytest.mark.django_db(transaction=True)
def test_generated_document_is_committed_with_its_event(users):
    doc = generate(users["sup"])
    assert GeneratedDocument.objects.filter(pk=doc.pk).exists()
    assert Event.objects.filter(subject_id=str(doc.pk), verb="document.generated").exists()
    assert verify(doc.code).status == GENUINE


def test_a_long_data_version_is_stored_as_its_digest():
    # PostgreSQL refuses more than 40 characters (a dropout case's version once had 43); SQLite kept them.
    from shouhu.core.documents.services import _fitted_version

    assert _fitted_version("reported:1764648000") == "reported:1764648000"
    long_a, long_b = "persuading:" + "x" * 40, "persuading:" + "y" * 40
    assert len(_fitted_version(long_a)) == 40
    assert _fitted_version(long_a) != _fitted_version(long_b)
