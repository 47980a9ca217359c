"""Background work of the web upload (huey): analyse an uploaded workbook (the preview), then commit it.

`process_job` is the plain function (tests call it directly); `run_job` is the huey task the views
enqueue. Live progress and cancel requests go through `ledger.live` (outside the import's
transaction, so the bar moves during the write too); a cancel request is read back between chunks
and rolls the import back (nothing written). The outcome is written to the job row at the end; a job always ends (an unexpected error fails it), and
its upload is deleted when it ends (issue 10 part 5).
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from shouhu.ledger import live
from shouhu.ledger.importer import Cancelled, error_workbook, import_ledger
from shouhu.ledger.models import ImportJob
from shouhu.ledger.reader import UnusableFile

S = ImportJob.State
logger = logging.getLogger(__name__)


# Share of the bar each stage fills: a check is all validation; a commit validates again, then writes
# (on a 100,000-row ledger the write takes about as long as the check: docs/benchmarks.md).
SPANS = {False: {"validate": (0, 99)}, True: {"validate": (0, 45), "write": (45, 54)}}


def _progress(job_id: Any, commit: bool) -> Any:
    spans = SPANS[commit]

    def report(stage: str, done: int, total: int) -> None:
        base, span = spans.get(stage, (0, 99))
        pct = base + (span * done // total if total else span)
        live.report(job_id, min(pct, 99), stage)

    return report


def _cancelled(job_id: Any) -> Any:
    def check() -> bool:
        return live.cancel_requested(job_id)

    return check


def process_job(job_id: Any, *, commit: bool = False) -> None:
    job = ImportJob.objects.select_related("user", "region").get(pk=job_id)
    if job.cancel_requested or live.cancel_requested(job.pk):
        ImportJob.objects.filter(pk=job.pk).update(state=S.CANCELLED, finished_at=timezone.now())
        return
    ImportJob.objects.filter(pk=job.pk).update(state=S.COMMITTING if commit else S.ANALYSING, progress=1)
    live.report(job.pk, 1, "read")
    try:
        _run(job, commit)
    except Exception:  # never a job stuck at "analysing": whatever broke, the job ends and says so
        logger.exception("ledger import job %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            state=S.FAILED,
            message=_("文件无法使用：处理时发生意外错误，未写入任何数据。请另存为新的 .xlsx 后重新上传。"),
            content=None,
            finished_at=timezone.now(),
        )
    finally:
        live.clear(job.pk)


def _run(job: ImportJob, commit: bool) -> None:
    if job.content is None:  # deleted after `ledger_upload_keep_hours` (scan.py)
        ImportJob.objects.filter(pk=job.pk).update(
            state=S.FAILED,
            message=_("上传的文件已按规定删除，请重新上传。"),
            finished_at=timezone.now(),
        )
        return
    try:
        result = import_ledger(
            bytes(job.content),
            job.filename,
            actor=job.user,
            region=job.region,
            dry_run=not commit,
            accept_valid=job.accept_valid,
            progress=_progress(job.pk, commit),
            should_cancel=_cancelled(job.pk),
        )
    except UnusableFile as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            state=S.FAILED, message=exc.message, content=None, finished_at=timezone.now()
        )
        return
    except Cancelled:
        ImportJob.objects.filter(pk=job.pk).update(
            state=S.CANCELLED, message=_("已取消，未写入任何数据。"), content=None, finished_at=timezone.now()
        )
        return
    summary = result.as_json()
    if commit and not result.written:
        state, message = (
            S.READY,
            _("发现无效行，未写入任何数据。请下载错误报告修改后重新上传，或只导入有效行。"),
        )
    else:
        state, message = (S.DONE if commit else S.READY), ""
    # The upload is deleted when the job ends; kept (encrypted) while it waits to be committed, or
    # for the error report of the rows left out, until `ledger_upload_keep_hours` (scan.py).
    keep = state == S.READY or bool(result.invalid)
    ImportJob.objects.filter(pk=job.pk).update(
        state=state,
        summary=summary,
        message=message,
        progress=100,
        finished_at=timezone.now(),
        **({} if keep else {"content": None}),
    )


@db_task()
def run_job(job_id: str, commit: bool = False) -> None:
    process_job(job_id, commit=commit)


def job_error_workbook(job: ImportJob) -> bytes:
    """Re-read the upload and produce the original rows plus the reasons (not stored twice)."""
    from shouhu.ledger.importer import ImportResult

    result = ImportResult(errors=(job.summary or {}).get("errors", []))
    if job.content is None:  # the upload was deleted when the job ended: the reasons alone
        return errors_only_workbook(result.errors)
    return error_workbook(result, bytes(job.content), job.filename)


def errors_only_workbook(errors: list[dict[str, Any]]) -> bytes:
    """The error list (row, column, reason) without the original rows, once the upload is deleted."""
    import io

    import xlsxwriter

    from shouhu.ledger.exporter import neutralise

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet(_("错误报告")[:31])
    ws.write_row(0, 0, [_("行号"), _("列"), _("错误原因")])
    ws.write_string(0, 3, _("上传的文件已按规定删除，此处只列出错误。"))
    for r, e in enumerate(errors, 1):
        ws.write_number(r, 0, int(e.get("row") or 0))
        ws.write_string(r, 1, neutralise(str(e.get("column", ""))))
        ws.write_string(r, 2, neutralise(str(e.get("message", ""))))
    wb.close()
    return buf.getvalue()
