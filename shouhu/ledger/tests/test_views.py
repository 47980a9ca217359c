"""Ledger pages: the upload → check → preview → commit flow (huey in immediate mode), cancel, error
workbook, export, review, completeness; and the permission matrix for every view."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from shouhu.core.models import AccessLog
from shouhu.ledger.models import ImportJob, LedgerReview
from shouhu.ledger.tasks import process_job
from shouhu.ledger.tests.helpers import base_row, official
from shouhu.registry.models import Child

pytestmark = [pytest.mark.django_db]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(client: Client, rows: list[dict[str, Any]], **extra: Any) -> Any:
    data, _ = official(rows)
    return client.post(
        reverse("web:ledger_upload"),
        {"file": SimpleUploadedFile("巴山镇.xlsx", data, XLSX), **extra},
        follow=True,
    )


def test_upload_preview_commit(client: Client, users: dict[str, Any], immediate_huey: Any) -> None:
    client.force_login(users["sup"])
    r = upload(client, [base_row(name="王一"), base_row(name="王二", sex="?")])
    job = ImportJob.objects.get(user=users["sup"])
    assert job.summary is not None
    assert job.state == "ready" and job.summary["invalid"] == 1
    html = r.content.decode()
    assert "性别" in html and "无法识别" in html and "只导入 1 条有效行" in html
    assert not Child.objects.filter(name="王一").exists()
    # Commit without accept-valid is refused; the error workbook downloads.
    client.post(reverse("web:ledger_job_commit", args=[job.pk]))
    assert not Child.objects.filter(name="王一").exists()
    e = client.get(reverse("web:ledger_job_errors", args=[job.pk]))
    assert e.status_code == 200 and e["Content-Type"] == XLSX and e.content[:2] == b"PK"
    r = client.post(reverse("web:ledger_job_commit", args=[job.pk]), {"accept_valid": "1"}, follow=True)
    job.refresh_from_db()
    assert job.summary is not None
    assert job.state == "done" and job.summary["created"] == 1
    assert Child.objects.filter(name="王一").exists() and "已导入" in r.content.decode()


def test_all_valid_commit_button(client: Client, users: dict[str, Any], immediate_huey: Any) -> None:
    client.force_login(users["sup"])
    r = upload(client, [base_row(name="王一")])
    assert "确认导入" in r.content.decode()
    job = ImportJob.objects.get(user=users["sup"])
    client.post(reverse("web:ledger_job_commit", args=[job.pk]))
    assert Child.objects.filter(name="王一").count() == 1


def test_bad_file_message_and_village_ledger_region(
    client: Client, users: dict[str, Any], immediate_huey: Any
) -> None:
    client.force_login(users["vw"])
    r = client.post(
        reverse("web:ledger_upload"), {"file": SimpleUploadedFile("a.xlsx", b"%PDF-1.4", XLSX)}, follow=True
    )
    assert "PDF" in r.content.decode()
    assert ImportJob.objects.get(user=users["vw"]).state == "failed"
    from shouhu.ledger.columns import COLUMNS

    data, _ = official([base_row(name="王一")], columns=[c for c in COLUMNS if c.key != "village"])
    r = client.post(
        reverse("web:ledger_upload"),
        {"file": SimpleUploadedFile("v.xlsx", data, XLSX), "region": "500229102201"},
        follow=True,
    )
    assert ImportJob.objects.filter(user=users["vw"], state="ready").count() == 1
    # A region outside the worker's edit scope is not offered.
    r = client.post(
        reverse("web:ledger_upload"),
        {"file": SimpleUploadedFile("v.xlsx", data, XLSX), "region": "500229201201"},
    )
    assert r.status_code == 200 and "region" in r.context["form"].errors


def test_progress_poll_cancel_and_no_js_refresh(client: Client, users: dict[str, Any]) -> None:
    data, _ = official([base_row(name="王一")])
    job = ImportJob.objects.create(user=users["sup"], filename="a.xlsx", content=data)
    client.force_login(users["sup"])
    r = client.get(reverse("web:ledger_job", args=[job.pk]))
    html = r.content.decode()
    assert 'http-equiv="refresh"' in html and 'hx-trigger="every 1s"' in html and "progress-bar" in html
    partial = client.get(
        reverse("web:ledger_job", args=[job.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-status"
    )
    assert "<html" not in partial.content.decode()
    client.post(reverse("web:ledger_job_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == "cancelled"
    process_job(job.pk)  # the worker picks it up afterwards: nothing happens
    job.refresh_from_db()
    assert job.state == "cancelled" and not Child.objects.filter(name="王一").exists()


def test_cancel_during_commit_writes_nothing(users: dict[str, Any], monkeypatch: Any) -> None:
    """A cancel pressed while the rows are being written (the last stage) still rolls everything back."""
    import shouhu.ledger.importer as importer
    from shouhu.ledger import live

    monkeypatch.setattr(importer, "PROGRESS_EVERY", 1)
    data, _ = official([base_row(name=f"王{i}", birth=date(2015, 1, i + 1)) for i in range(3)])
    job = ImportJob.objects.create(user=users["sup"], filename="a.xlsx", content=data)
    process_job(job.pk)
    real = live.report

    def cancel_once_writing(job_id: Any, progress: int, stage: str) -> None:
        real(job_id, progress, stage)
        if stage == "write":
            live.request_cancel(job_id)

    monkeypatch.setattr(live, "report", cancel_once_writing)
    process_job(job.pk, commit=True)
    job.refresh_from_db()
    assert job.state == "cancelled" and Child.objects.filter(name__startswith="王").count() == 0
    assert live.current(job.pk) is None and not live.cancel_requested(job.pk)  # forgotten at the end


def test_progress_moves_while_the_commit_writes(users: dict[str, Any], monkeypatch: Any) -> None:
    """The bar is fed outside the import's transaction: what the status page reads mid-write is the
    write stage, past the check, and the page shows it."""
    import shouhu.ledger.importer as importer
    from shouhu.ledger import live

    monkeypatch.setattr(importer, "PROGRESS_EVERY", 1)
    data, _ = official([base_row(name=f"李{i}", birth=date(2015, 2, i + 1)) for i in range(4)])
    job = ImportJob.objects.create(user=users["sup"], filename="a.xlsx", content=data)
    process_job(job.pk)
    seen: list[tuple[str, int]] = []
    pages: list[str] = []
    real = live.report
    client = Client()
    client.force_login(users["sup"])

    def watch(job_id: Any, progress: int, stage: str) -> None:
        real(job_id, progress, stage)
        now = live.current(job_id)
        assert now is not None
        seen.append((now["stage"], now["progress"]))
        if stage == "write":
            pages.append(client.get(reverse("web:ledger_job", args=[job_id])).content.decode())

    monkeypatch.setattr(live, "report", watch)
    process_job(job.pk, commit=True)
    stages = [s for s, _p in seen]
    assert stages[0] == "read" and stages[1] == "validate" and stages[-1] == "write"
    values = [p for _s, p in seen]
    assert values == sorted(values) and max(p for s, p in seen if s == "validate") <= 45 < values[-1] <= 99
    assert pages and "正在写入" in pages[-1] and f"{values[-1]}%" in pages[-1]
    assert Child.objects.filter(name__startswith="李").count() == 4


def test_export_page_downloads_and_logs(client: Client, users: dict[str, Any], make_child: Any) -> None:
    make_child(name="王一")
    client.force_login(users["sup"])
    r = client.post(
        reverse("web:ledger_export"),
        {"region": "", "layout": "official", "status": "all", "fmt": "xlsx", "reason": ""},
    )
    assert r.status_code == 200 and "reason" in r.context["form"].errors
    r = client.post(
        reverse("web:ledger_export"),
        {"region": "500229102000", "layout": "platform", "status": "all", "fmt": "csv", "reason": "月报"},
    )
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    assert "王一" in r.content.decode("utf-8-sig")
    assert AccessLog.objects.filter(user=users["sup"], action="export", detail__contains="月报").exists()
    r = client.post(
        reverse("web:ledger_export"),
        {"region": "500229201000", "layout": "official", "status": "all", "fmt": "xlsx", "reason": "x"},
    )
    assert r.status_code == 200 and "region" in r.context["form"].errors  # out of scope: not a choice


def test_review_page_and_transition(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["vw"])
    r = client.get(reverse("web:ledger_review"))
    assert "提交乡镇审核" in r.content.decode()
    client.post(reverse("web:ledger_review_transition", args=["500229102000"]), {"to": "submitted"})
    assert LedgerReview.objects.get(township_id="500229102000").state == "submitted"
    client.force_login(users["sup"])
    r = client.post(
        reverse("web:ledger_review_transition", args=["500229102000"]), {"to": "filling"}, follow=True
    )
    assert "原因" in r.content.decode()
    assert LedgerReview.objects.get(township_id="500229102000").state == "submitted"


def test_completeness_page(client: Client, users: dict[str, Any], make_child: Any) -> None:
    make_child(name="王一")
    client.force_login(users["sup"])
    r = client.get(reverse("web:ledger_completeness"))
    assert r.status_code == 200 and "梨山村" in r.content.decode()


# --- pages (who may open them at all: the generated matrix, web/tests/test_matrix.py) ---------------


def _urls(job: ImportJob) -> list[tuple[str, str]]:
    return [
        ("get", reverse("web:ledger_home")),
        ("get", reverse("web:ledger_upload")),
        ("get", reverse("web:ledger_job", args=[job.pk])),
        ("post", reverse("web:ledger_job_cancel", args=[job.pk])),
        ("post", reverse("web:ledger_job_commit", args=[job.pk])),
        ("get", reverse("web:ledger_job_errors", args=[job.pk])),
        ("get", reverse("web:ledger_export")),
        ("get", reverse("web:ledger_review")),
        ("post", reverse("web:ledger_review_transition", args=["500229102000"])),
        ("get", reverse("web:ledger_completeness")),
    ]


@pytest.fixture
def job(users: dict[str, Any]) -> ImportJob:
    data, _ = official([base_row(name="王一")])
    j = ImportJob.objects.create(user=users["sup"], filename="a.xlsx", content=data)
    process_job(j.pk)
    return j


def test_anonymous_is_sent_to_login(client: Client, job: ImportJob) -> None:
    for method, url in _urls(job):
        r = getattr(client, method)(url)
        assert r.status_code == 302 and "/login/" in r["Location"], url


def test_in_scope_owner_reaches_every_page(client: Client, users: dict[str, Any], job: ImportJob) -> None:
    client.force_login(users["sup"])
    for method, url in _urls(job):
        r = getattr(client, method)(url)
        assert r.status_code in (200, 302), url


def test_out_of_scope_answers_404(client: Client, users: dict[str, Any], job: ImportJob) -> None:
    client.force_login(users["sup_other"])  # another township's supervisor: the upload is not theirs
    for name in ("ledger_job", "ledger_job_errors"):
        assert client.get(reverse(f"web:{name}", args=[job.pk])).status_code == 404
    for name in ("ledger_job_cancel", "ledger_job_commit"):
        assert client.post(reverse(f"web:{name}", args=[job.pk])).status_code == 404
    assert (
        client.post(
            reverse("web:ledger_review_transition", args=["500229102000"]), {"to": "submitted"}
        ).status_code
        == 404
    )
    assert "巴山镇" not in client.get(reverse("web:ledger_review")).content.decode()
    # Reads identity and schooling only: neither imports nor exports the ledger (every field group).
    client.force_login(users["edu"])
    assert client.get(reverse("web:ledger_upload")).status_code == 403
    assert client.get(reverse("web:ledger_export")).status_code == 403
