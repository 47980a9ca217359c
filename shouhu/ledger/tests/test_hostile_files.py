"""Uploads that cannot hurt (issue 10 part 5, R1.9, R11.4): bomb workbooks are generated here, never
committed. Refused before parsing when the zip directory or the sheet dimension says so; otherwise the
child process's limits turn an abort or a memory blow-up into "the file cannot be used" (exit status 2),
and this process — the server, the worker — goes on. Uploads are encrypted at rest and deleted when
their job ends."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from shouhu.core.models import PolicyParameter
from shouhu.ledger import sandbox
from shouhu.ledger.importer import import_ledger
from shouhu.ledger.models import ImportJob
from shouhu.ledger.reader import UnusableFile
from shouhu.ledger.scan import run as ledger_scan
from shouhu.ledger.tasks import process_job
from shouhu.ledger.tests.helpers import base_row, official
from shouhu.registry.models import Child

pytestmark = pytest.mark.django_db

CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
    'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WB = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def workbook(sheet_xml: str) -> bytes:
    """A minimal xlsx around one sheet's XML, written by hand (a bomb no library would write)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


def sheet(cells: str, dimension: str | None = None, padding: int = 0) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main">{dim}<sheetData>{" " * padding}{cells}</sheetData></worksheet>'
    )


FAR_CELL = '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


def _policy(key: str, value: Any) -> None:
    PolicyParameter.objects.update_or_create(key=key, defaults={"value": value, "description": "t"})


def refuse(users: dict[str, Any], data: bytes) -> UnusableFile:
    before = Child.objects.count()
    with pytest.raises(UnusableFile) as exc:
        import_ledger(data, "台账.xlsx", actor=users["sup"])
    assert Child.objects.count() == before
    return exc.value


def test_one_cell_at_xfd1048576_is_refused_by_its_dimension(users: dict[str, Any]) -> None:
    data = workbook(sheet(FAR_CELL, dimension="A1:XFD1048576"))
    assert len(data) < 2000  # the 1.5 KB file of the issue
    e = refuse(users, data)
    assert e.code == "too_large" and "XFD1048576" in e.message and "文件无法使用" in e.message


def test_the_same_cell_without_a_dimension_is_stopped_by_the_child_limits(users: dict[str, Any]) -> None:
    """No <dimension> (or a lying one): the library tries to allocate 17 billion cells and aborts — in
    the child. This process carries on and the file is refused."""
    _policy("ledger_parse_memory_mb", 768)
    for dim in (None, "A1:A1"):
        e = refuse(users, workbook(sheet(FAR_CELL, dimension=dim)))
        assert e.code == "unreadable" and "内存或时间限制" in e.message
    assert connection.is_usable()  # this process (the server, the worker) is still here


def test_a_zip_bomb_member_is_refused_by_its_compression_ratio(users: dict[str, Any]) -> None:
    data = workbook(sheet("", padding=3 * 1024 * 1024))  # 3 MB of blanks in a few KB
    e = refuse(users, data)
    assert e.code == "too_large" and "压缩比" in e.message


def test_a_huge_declared_size_is_refused(users: dict[str, Any]) -> None:
    _policy("ledger_unzipped_max_mb", 1)
    rows = "".join(
        f'<row r="{i}"><c r="A{i}"><v>{os.urandom(8).hex()}</v></c></row>' for i in range(1, 40000)
    )
    e = refuse(users, workbook(sheet(rows, dimension="A1:A40000")))
    assert e.code == "too_large" and "MB" in e.message


def test_too_many_declared_columns_or_rows_are_refused(users: dict[str, Any]) -> None:
    e = refuse(users, workbook(sheet("", dimension="A1:ZZ10")))
    assert e.code == "too_large" and "702 列" in e.message
    _policy("ledger_import_max_rows", 10)
    e = refuse(users, workbook(sheet("", dimension="B2:C5000")))
    assert e.code == "too_large" and "5000 行" in e.message


def test_a_normal_ledger_still_imports_through_the_child(users: dict[str, Any]) -> None:
    data, _ = official([base_row()])
    result = import_ledger(data, "台账.xlsx", actor=users["sup"], dry_run=True)
    assert result.valid == 1 and result.invalid == 0


def test_the_child_turns_crashes_and_limits_into_outcomes() -> None:
    data, _ = official([base_row()])
    assert sandbox.parse(data, memory_mb=1024, seconds=30).status == "ok"
    starved = sandbox.parse(data, memory_mb=16, seconds=30)  # cannot even start its interpreter
    assert starved.status in ("crash", "memory") and starved.rows == []
    garbage = sandbox.parse(b"PK\x03\x04garbage", memory_mb=1024, seconds=30)
    assert garbage.status == "corrupt"


def test_the_child_sets_its_limits_and_a_cpu_hog_is_stopped(monkeypatch: Any) -> None:
    import subprocess
    import sys

    code = (
        "import resource; from shouhu.ledger.sandbox import _limit; _limit(300, 2); "
        "print(resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CPU)[0], "
        "resource.getrlimit(resource.RLIMIT_FSIZE)[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(300 * 1024 * 1024), "2", "0"]
    # A child that spins past its CPU limit is killed by the kernel and reported as a time limit.
    hog = "import resource; resource.setrlimit(resource.RLIMIT_CPU, (1, 2))\nwhile True: pass"
    monkeypatch.setattr(sandbox, "CHILD", [sys.executable, "-c", hog])
    assert sandbox.parse(b"x", memory_mb=512, seconds=1).status == "time"
    # One that sleeps (no CPU) is stopped by the parent's wall clock.
    monkeypatch.setattr(sandbox, "CHILD", [sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(sandbox, "WALL_FACTOR", 1)
    assert sandbox.parse(b"x", memory_mb=512, seconds=1).status == "time"


def test_the_answer_is_unpickled_as_plain_values_only() -> None:
    import pickle

    evil = pickle.dumps(("ok", [[os.system]]))
    with pytest.raises(pickle.UnpicklingError):
        sandbox._Values(io.BytesIO(evil)).load()


def test_import_ledger_command_exits_2_on_a_bomb(users: dict[str, Any], tmp_path: Path) -> None:
    _policy("ledger_parse_memory_mb", 768)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(workbook(sheet(FAR_CELL)))
    with pytest.raises(SystemExit) as exc:
        call_command(
            "import_ledger",
            str(path),
            "--user",
            users["sup"].username,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert exc.value.code == 2


def _job(users: dict[str, Any], data: bytes, **kw: Any) -> ImportJob:
    return ImportJob.objects.create(user=users["sup"], filename="台账.xlsx", content=data, **kw)


def test_a_bomb_job_fails_with_a_message_and_its_upload_is_deleted(users: dict[str, Any]) -> None:
    _policy("ledger_parse_memory_mb", 768)
    job = _job(users, workbook(sheet(FAR_CELL)))
    process_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "文件无法使用" in job.message and job.content is None


def test_an_unexpected_error_never_leaves_a_job_analysing(users: dict[str, Any], monkeypatch: Any) -> None:
    import shouhu.ledger.tasks as tasks

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(tasks, "import_ledger", boom)
    data, _ = official([base_row()])
    job = _job(users, data)
    process_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.finished_at and "意外错误" in job.message and job.content is None


def test_uploads_are_encrypted_at_rest_and_deleted_when_the_job_ends(users: dict[str, Any]) -> None:
    data, _ = official([base_row()])
    job = _job(users, data)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT content FROM ledger_importjob WHERE id = %s",
            [job.pk.hex if connection.vendor == "sqlite" else job.pk],
        )
        raw = bytes(cur.fetchone()[0])
    assert raw.startswith(b"gAAAAA") and b"PK" not in raw[:4] and data not in raw
    assert ImportJob.objects.get(pk=job.pk).content == data
    process_job(job.pk)  # the check: the upload is kept (encrypted) until the commit
    job.refresh_from_db()
    assert job.state == "ready" and job.content == data
    process_job(job.pk, commit=True)
    job.refresh_from_db()
    assert job.state == "done" and job.content is None


def test_uploads_kept_too_long_are_deleted_and_stalled_jobs_end(users: dict[str, Any]) -> None:
    data, _ = official([base_row()])
    now = timezone.now()
    waiting = _job(users, data, state="ready", finished_at=now - timedelta(hours=25))
    fresh = _job(users, data, state="ready", finished_at=now - timedelta(hours=1))
    stalled = _job(users, data, state="analysing", created_at=now - timedelta(hours=30))
    summary = ledger_scan(now)
    assert summary == {"stalled_jobs": 1, "expired_uploads": 1, "removed_uploads": 0}
    waiting.refresh_from_db()
    stalled.refresh_from_db()
    assert waiting.state == "cancelled" and waiting.content is None and "删除" in waiting.message
    assert stalled.state == "failed" and stalled.content is None
    assert ImportJob.objects.get(pk=fresh.pk).content == data
    assert ledger_scan(now) == {"stalled_jobs": 0, "expired_uploads": 0, "removed_uploads": 0}


def test_the_error_report_after_the_upload_is_deleted_lists_the_reasons(
    client: Any, users: dict[str, Any]
) -> None:
    import python_calamine as pc

    errors = [{"row": 7, "column": "公民身份号码", "message": "校验码错误"}]
    job = _job(users, b"", state="done", summary={"rows": 1, "invalid": 1, "errors": errors})
    ImportJob.objects.filter(pk=job.pk).update(content=None)
    client.force_login(users["sup"])
    r = client.get(f"/ledger/imports/{job.pk}/errors.xlsx")
    assert r.status_code == 200
    rows = pc.CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python()
    assert rows[1][:3] == [7, "公民身份号码", "校验码错误"]
