"""Attachments (R11.3): type decided by content (not the name), size limited by policy, empty refused,
photos stripped of their metadata, stored encrypted, visible only with the owning record, each upload an
event and each download an access-log row."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from shouhu.core.documents import services, sniff, storage
from shouhu.core.documents.models import Attachment, StoredFile
from shouhu.core.models import AccessLog, Event, PolicyParameter
from shouhu.core.tests.test_documents_service import OTHER_VILLAGE, VILLAGE  # registers test.region

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (31.0, 56.0, 0.0), 1: "N"}  # GPS IFD: latitude
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def add(
    user: Any, data: bytes, name: str = "file.bin", category: str = "photo", owner: str = VILLAGE
) -> Attachment:
    return services.attachment_add(
        actor=user, owner_type="test.region", owner_id=owner, category=category, filename=name, data=data
    )


def test_type_is_decided_by_content_not_by_name():
    exe = b"MZ\x90\x00" + b"\x00" * 200
    with pytest.raises(ValidationError) as e:
        sniff.check(exe, allowed=["pdf", "jpg"], max_bytes=10_000)
    assert "与文件名后缀无关" in str(e.value)
    with pytest.raises(ValidationError):
        sniff.check(b"just some text pretending to be a photo", allowed=["jpg"], max_bytes=10_000)
    # a real PDF named .jpg is a PDF
    assert sniff.check(MINIMAL_PDF, allowed=["pdf", "jpg"], max_bytes=10_000).file_type == "pdf"
    assert sniff.check(docx(), allowed=["docx"], max_bytes=10_000).file_type == "docx"


def test_a_file_that_only_starts_like_a_jpeg_is_refused():
    with pytest.raises(ValidationError) as e:
        sniff.check(b"\xff\xd8\xff\xe0" + b"garbage" * 50, allowed=["jpg"], max_bytes=10_000)
    assert "不是真正的图片" in str(e.value)


def test_empty_too_large_truncated_and_active_pdfs_are_refused():
    with pytest.raises(ValidationError, match="空的"):
        sniff.check(b"", allowed=["pdf"], max_bytes=10)
    with pytest.raises(ValidationError, match="上限为"):
        sniff.check(MINIMAL_PDF, allowed=["pdf"], max_bytes=20)
    with pytest.raises(ValidationError, match="不完整"):
        sniff.check(MINIMAL_PDF[:-7], allowed=["pdf"], max_bytes=10_000)
    with pytest.raises(ValidationError, match="脚本"):
        sniff.check(
            MINIMAL_PDF.replace(b"/Catalog", b"/Catalog/OpenAction<</S/JavaScript/JS(x)>>"),
            allowed=["pdf"],
            max_bytes=10_000,
        )


def test_photos_lose_their_gps_and_device_metadata():
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get(0x010F) == "PhoneMaker"
    cleaned = sniff.check(original, allowed=["jpg"], max_bytes=1_000_000).data
    exif = Image.open(io.BytesIO(cleaned)).getexif()
    assert not exif.get(0x010F) and not exif.get(0x8825)
    assert Image.open(io.BytesIO(cleaned)).size == (40, 30)


def test_upload_is_stored_encrypted_with_an_event(users):
    before = Event.objects.count()
    att = add(users["sup"], png(), name="王小丫 照片.png")
    assert att.file_type == "png" and att.content_type == "image/png" and att.filename == "王小丫 照片.png"
    raw = bytes(StoredFile.objects.get(pk=str(att.content_id)).data)
    assert b"PNG" not in raw
    assert hashlib.sha256(storage.load_by_id(att.content_id)).hexdigest() == att.sha256
    ev = Event.objects.get(seq=before + 1) if Event.objects.count() == before + 1 else None
    assert ev is not None and ev.verb == "attachment.added" and (ev.after or {})["sha256"] == att.sha256
    assert "王小丫" not in str(ev.after) and "王小丫" not in ev.summary
    # the file name (it may name the child) is encrypted at rest too
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT filename FROM core_attachment WHERE id = %s",
            [att.pk.hex if connection.vendor == "sqlite" else att.pk],
        )
        assert "王小丫" not in cur.fetchone()[0]


def test_bad_uploads_write_nothing(users):
    rows, files, events = Attachment.objects.count(), StoredFile.objects.count(), Event.objects.count()
    for data, category in ((b"", "photo"), (b"MZ" + b"\0" * 100, "photo"), (png(), "nonsense")):
        with pytest.raises(ValidationError):
            add(users["sup"], data, category=category)
    assert (Attachment.objects.count(), StoredFile.objects.count(), Event.objects.count()) == (
        rows,
        files,
        events,
    )


def test_size_limit_and_types_are_policy(users):
    PolicyParameter.objects.update_or_create(
        key="attachment_max_bytes", defaults={"value": 100, "description": "x"}
    )
    with pytest.raises(ValidationError, match="上限为 100 B"):
        add(users["sup"], png() * 10)
    PolicyParameter.objects.update_or_create(
        key="attachment_max_bytes", defaults={"value": 10_000_000, "description": "x"}
    )
    PolicyParameter.objects.update_or_create(
        key="attachment_types", defaults={"value": ["pdf"], "description": "x"}
    )
    with pytest.raises(ValidationError, match="PDF 文件"):
        add(users["sup"], png())
    assert add(users["sup"], MINIMAL_PDF, category="certificate").file_type == "pdf"


def test_visible_only_with_the_record_and_downloads_logged(users):
    att = add(users["sup"], png())
    logs = AccessLog.objects.count()
    got, data = services.attachment_download(actor=users["county"], attachment_id=att.pk, ip="10.1.1.1")
    assert got == att and data.startswith(b"\x89PNG")
    row = AccessLog.objects.latest("at")
    assert AccessLog.objects.count() == logs + 1 and row.action == "download" and str(att.pk) in row.detail
    for user in (users["sup_other"], users["leader"], users["nobody"]):
        with pytest.raises(Http404):
            services.attachment_download(actor=user, attachment_id=att.pk)
    with pytest.raises(Http404):
        services.attachment_download(actor=users["sup"], attachment_id="00000000-0000-0000-0000-000000000000")
    assert AccessLog.objects.count() == logs + 1


def test_only_those_who_may_edit_attach_or_remove(users):
    with pytest.raises(PermissionDenied):
        add(users["edu"], png())
    with pytest.raises(Http404):
        add(users["sup"], png(), owner=OTHER_VILLAGE)
    att = add(users["sup"], png())
    with pytest.raises(PermissionDenied):
        services.attachment_remove(actor=users["edu"], attachment_id=att.pk, reason="x")
    with pytest.raises(ValidationError):
        services.attachment_remove(actor=users["sup"], attachment_id=att.pk, reason=" ")
    stored = att.content_id
    services.attachment_remove(actor=users["sup"], attachment_id=att.pk, reason="传错了")
    assert not StoredFile.objects.filter(pk=str(stored)).exists()  # the content is really gone
    assert Event.objects.filter(verb="attachment.removed", subject_id=str(att.pk)).exists()
    with pytest.raises(Http404):
        services.attachment_download(actor=users["sup"], attachment_id=att.pk)


@pytest.mark.django_db(transaction=True)
def test_upload_is_all_or_nothing_outside_the_test_transaction(users, monkeypatch):
    def boom(specs: Any) -> None:
        raise RuntimeError("chain unavailable")

    rows, files = Attachment.objects.count(), StoredFile.objects.count()
    monkeypatch.setattr(services, "record_events", boom)
    with pytest.raises(RuntimeError):
        add(users["sup"], png())
    assert (Attachment.objects.count(), StoredFile.objects.count()) == (rows, files)
    monkeypatch.undo()
    att = add(users["sup"], png())
    assert (
        Attachment.objects.filter(pk=att.pk).exists()
        and Event.objects.filter(subject_id=str(att.pk)).exists()
    )


@given(
    st.binary(max_size=2048),
    st.sampled_from(
        [
            b"",
            b"%PDF-1.7\n",
            b"\xff\xd8\xff\xe0",
            b"\x89PNG\r\n\x1a\n",
            b"PK\x03\x04",
            b"RIFF\x00\x00\x00\x00WEBP",
        ]
    ),
)
def test_any_bytes_are_accepted_or_refused_with_a_message_never_a_crash(body, prefix):
    data = prefix + body
    try:
        checked = sniff.check(data, allowed=list(sniff.TYPES), max_bytes=100_000)
    except ValidationError as exc:
        assert exc.message_dict["file"][0]  # a message that says what to do
    else:
        assert checked.file_type in sniff.TYPES and checked.data
