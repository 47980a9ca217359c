"""Documents and attachments on the record pages, through the API, and the public verify page (R11.6,
R11.3): in scope, out of scope (404 like missing), bad uploads with a clear message, every generation
and download in the access log, and a verify page that never shows child data."""

from __future__ import annotations

import io
import shutil

import pytest
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from shouhu.core.documents import vcode
from shouhu.core.documents.models import Attachment, GeneratedDocument
from shouhu.core.models import AccessLog

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: make docs-deps")


def png_file(name: str = "照片.png") -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (12, 12), (200, 10, 10)).save(out, format="PNG")
    out.seek(0)
    out.name = name
    return out


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_child_page_prints_the_file_and_the_copy_is_logged(users, make_child, login):
    child = make_child(name="周小雨")
    client = login(users["vw"])
    page = client.get(reverse("web:child_detail", args=[child.pk])).content.decode()
    assert "打印 一人一档（PDF）" in page and "upload-form" in page
    logs = AccessLog.objects.filter(action__in=("generate", "document")).count()
    r = client.post(reverse("web:document_generate", args=["registry.child_file", child.pk]), {"next": "/"})
    doc = GeneratedDocument.objects.get(owner_id=str(child.pk))
    assert r.status_code == 302 and r["Location"] == reverse("web:document_download", args=[doc.pk])
    pdf = client.get(r["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "no-store" in pdf["Cache-Control"]
    assert AccessLog.objects.filter(action__in=("generate", "document")).count() == logs + 2
    assert list(AccessLog.objects.order_by("-seq").values_list("action", flat=True)[:2]) == [
        "document",
        "generate",
    ]
    assert (
        vcode.grouped(doc.code) in client.get(reverse("web:child_detail", args=[child.pk])).content.decode()
    )


def test_out_of_scope_and_missing_answer_404_on_every_document_page(users, make_child, login):
    child = make_child()
    doc_client = login(users["vw"])
    doc_client.post(reverse("web:document_generate", args=["registry.child_file", child.pk]))
    doc = GeneratedDocument.objects.get(owner_id=str(child.pk))
    att_resp = doc_client.post(
        reverse("web:attachment_upload", args=["registry.child", child.pk]),
        {"category": "photo", "file": png_file(), "next": "/"},
    )
    assert att_resp.status_code == 302
    att = Attachment.objects.get(owner_id=str(child.pk))
    other = login(users["vw_other"])
    missing = "00000000-0000-0000-0000-000000000000"
    for url, method in (
        (reverse("web:document_generate", args=["registry.child_file", child.pk]), "post"),
        (reverse("web:document_generate", args=["registry.child_file", missing]), "post"),
        (reverse("web:document_download", args=[doc.pk]), "get"),
        (reverse("web:document_download", args=[missing]), "get"),
        (reverse("web:attachment_upload", args=["registry.child", child.pk]), "post"),
        (reverse("web:attachment_upload", args=["no.such_type", child.pk]), "post"),
        (reverse("web:attachment_download", args=[att.pk]), "get"),
        (reverse("web:attachment_remove", args=[att.pk]), "post"),
    ):
        assert getattr(other, method)(url).status_code == 404, url


def test_bad_uploads_get_a_chinese_message_and_store_nothing(users, make_child, login):
    child = make_child()
    client = login(users["vw"])
    url = reverse("web:attachment_upload", args=["registry.child", child.pk])
    page = reverse("web:child_detail", args=[child.pk])
    exe = io.BytesIO(b"MZ\x90\x00" + b"\x00" * 300)
    exe.name = "判决书.pdf"
    r = client.post(url, {"category": "court_decision", "file": exe, "next": page}, follow=True)
    assert "不支持的文件类型" in r.content.decode()
    empty = io.BytesIO(b"")
    empty.name = "空.jpg"
    r = client.post(url, {"category": "photo", "file": empty, "next": page}, follow=True)
    assert "请选择要上传的文件" in r.content.decode() or "空的" in r.content.decode()
    r = client.post(url, {"category": "photo", "next": page}, follow=True)
    assert "请选择要上传的文件" in r.content.decode()
    assert not Attachment.objects.filter(owner_id=str(child.pk)).exists()


def test_upload_list_download_logged_and_read_only_users(users, make_child, login):
    child = make_child(name="吴小北")
    client = login(users["vw"])
    client.post(
        reverse("web:attachment_upload", args=["registry.child", child.pk]),
        {"category": "photo", "file": png_file("吴小北.png"), "note": "家访照片"},
    )
    att = Attachment.objects.get(owner_id=str(child.pk))
    page = client.get(reverse("web:child_detail", args=[child.pk])).content.decode()
    assert "吴小北.png" in page and "家访照片" in page
    logs = AccessLog.objects.filter(action="download").count()
    r = client.get(reverse("web:attachment_download", args=[att.pk]))
    assert (
        r.status_code == 200
        and r["Content-Type"] == "image/png"
        and "sandbox" in r["Content-Security-Policy"]
    )
    assert AccessLog.objects.filter(action="download", child_id=str(child.pk)).count() == logs + 1
    edu = login(users["edu"])  # sees the file, may not add to it
    page = edu.get(reverse("web:child_detail", args=[child.pk])).content.decode()
    assert "吴小北.png" in page and "upload-form" not in page and "/remove/" not in page
    assert (
        edu.post(
            reverse("web:attachment_upload", args=["registry.child", child.pk]),
            {"category": "photo", "file": png_file()},
        ).status_code
        == 403
    )


def test_verify_page_says_genuine_without_child_data(users, make_child, client):
    child = make_child(name="郑小秘")
    from shouhu.core.documents.services import document_generate
    from shouhu.core.documents.storage import load_by_id

    doc = document_generate(
        actor=users["vw"], kind="registry.child_file", owner_id=child.pk, base_url="http://testserver/"
    )
    r = client.get(reverse("web:document_verify_code", args=[doc.code]))
    body = r.content.decode()
    assert r.status_code == 200 and "真实有效" in body and "一人一档" in body and doc.issuer in body
    assert "郑小秘" not in body and str(child.pk) not in body and child.id_number not in body
    assert "查看相关记录" not in body
    forged = client.get(reverse("web:document_verify_code", args=["ABCD-EFGH-JKMN-PQR0"])).content.decode()
    assert "未查到" in forged or "格式不对" in forged
    pdf = bytearray(load_by_id(doc.content_id))
    pdf[100] ^= 1
    upload = io.BytesIO(bytes(pdf))
    upload.name = "doc.pdf"
    altered = client.post(reverse("web:document_verify"), {"code": doc.code, "file": upload}).content.decode()
    assert "文件已被改动" in altered
    client.force_login(users["vw"])
    mine = client.get(reverse("web:document_verify_code", args=[doc.code])).content.decode()
    assert "查看相关记录" in mine and reverse("web:child_detail", args=[child.pk]) in mine
    client.force_login(users["vw_other"])
    theirs = client.get(reverse("web:document_verify_code", args=[doc.code])).content.decode()
    assert "真实有效" in theirs and "查看相关记录" not in theirs and "郑小秘" not in theirs


def test_api_generate_list_download_and_scope(users, make_child):
    child = make_child()
    vw = api(users["vw"])
    assert vw.get("/api/v1/documents/").status_code == 400
    r = vw.post("/api/v1/documents/", {"kind": "registry.child_file", "owner": str(child.pk)}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind_label"] == "一人一档" and body["identifiers_shown"] is True and len(body["code"]) == 16
    listed = vw.get("/api/v1/documents/", {"owner_type": "registry.child", "owner": str(child.pk)}).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    logs = AccessLog.objects.count()
    pdf = vw.get(body["download"])
    assert (
        pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and AccessLog.objects.count() == logs + 1
    )
    other = api(users["vw_other"])
    assert other.get(body["download"]).status_code == 404
    assert other.get(f"/api/v1/documents/{body['id']}/").status_code == 404
    assert (
        other.get("/api/v1/documents/", {"owner_type": "registry.child", "owner": str(child.pk)}).status_code
        == 404
    )
    assert (
        other.post(
            "/api/v1/documents/", {"kind": "registry.child_file", "owner": str(child.pk)}, format="json"
        ).status_code
        == 404
    )
    bad = vw.post("/api/v1/documents/", {"kind": "no.such", "owner": str(child.pk)}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()
    public = APIClient().get(f"/api/v1/documents/verify/{body['code']}/").json()
    assert (
        public["genuine"] is True
        and public["kind_label"] == "一人一档"
        and set(public) == {"code", "status", "genuine", "kind", "kind_label", "issuer", "issued_on"}
    )
    assert APIClient().get("/api/v1/documents/verify/XXXX/").json()["status"] == "malformed"


def test_api_attachments(users, make_child):
    child = make_child()
    vw = api(users["vw"])
    r = vw.post(
        "/api/v1/attachments/",
        {"owner_type": "registry.child", "owner": str(child.pk), "category": "photo", "file": png_file()},
        format="multipart",
    )
    assert r.status_code == 201, r.content
    att = r.json()
    assert att["file_type"] == "png" and att["uploaded_by"] == users["vw"].username
    fake = io.BytesIO(b"<html>not a pdf</html>")
    fake.name = "x.pdf"
    bad = vw.post(
        "/api/v1/attachments/",
        {"owner_type": "registry.child", "owner": str(child.pk), "category": "photo", "file": fake},
        format="multipart",
    )
    assert bad.status_code == 400 and "不支持的文件类型" in bad.json()["file"][0]
    assert vw.get(att["download"]).content.startswith(b"\x89PNG")
    edu = api(users["edu"])
    assert edu.get(att["download"]).status_code == 200
    assert (
        edu.post(f"/api/v1/attachments/{att['id']}/remove/", {"reason": "x"}, format="json").status_code
        == 403
    )
    assert api(users["vw_other"]).get(att["download"]).status_code == 404
    removed = vw.post(f"/api/v1/attachments/{att['id']}/remove/", {"reason": "传错了"}, format="json")
    assert removed.status_code == 200 and vw.get(att["download"]).status_code == 404


def test_openapi_describes_the_document_endpoints(users):
    schema = api(users["county"]).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/documents/",
        "/api/v1/documents/{id}/pdf/",
        "/api/v1/documents/kinds/",
        "/api/v1/documents/verify/{code}/",
        "/api/v1/attachments/",
        "/api/v1/attachments/{id}/content/",
    ):
        assert path in schema["paths"], path


def test_visit_panels_cost_the_same_queries_for_one_visit_or_many(users, make_child, login):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from shouhu.care.services import visit_log
    from shouhu.core.documents.services import attachment_add

    child = make_child()
    client = login(users["vw"])

    def add_visit(n: int) -> None:
        v, _a = visit_log(
            actor=users["vw"],
            child=child,
            data={"occurred_at": timezone.now() - timedelta(days=n), "findings": {}},
        )
        attachment_add(
            actor=users["vw"],
            owner_type="care.visit",
            owner_id=v.pk,
            category="photo",
            filename="p.png",
            data=png_file().read(),
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("web:care_child", args=[child.pk])).status_code == 200
        return len(ctx)

    add_visit(1)
    one = queries()
    for n in range(2, 7):
        add_visit(n)
    assert queries() == one
    assert client.get(reverse("web:care_child", args=[child.pk])).content.decode().count("upload-form") == 6
