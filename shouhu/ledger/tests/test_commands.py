"""import_ledger / export_ledger as API.md names them: exit statuses 0/1/2 and the summary JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from shouhu.core.models import AccessLog
from shouhu.ledger.tests.helpers import base_row, official
from shouhu.registry.models import Child

pytestmark = pytest.mark.django_db
KEYS = {"rows", "valid", "invalid", "created", "updated", "unchanged", "errors"}


def run(*args: str) -> int:
    try:
        call_command(*args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_exit_0_all_valid_and_written(users: dict[str, Any], tmp_path: Path) -> None:
    data, _ = official(
        [base_row(name="王一"), base_row(name="王二", birth=__import__("datetime").date(2016, 1, 1))]
    )
    f = tmp_path / "t.xlsx"
    f.write_bytes(data)
    out = tmp_path / "s.json"
    assert run("import_ledger", str(f), "--summary-json", str(out), "--dry-run") == 0
    s = json.loads(out.read_text("utf-8"))
    assert set(s) >= KEYS and (s["rows"], s["valid"], s["created"]) == (2, 2, 0)
    assert not Child.objects.filter(name="王一").exists()
    assert run("import_ledger", str(f), "--summary-json", str(out)) == 0
    s = json.loads(out.read_text("utf-8"))
    assert (s["created"], s["invalid"], s["errors"]) == (2, 0, [])
    assert run("import_ledger", str(f), "--summary-json", str(out)) == 0
    assert json.loads(out.read_text("utf-8"))["unchanged"] == 2


def test_exit_1_invalid_rows_nothing_written_unless_accept_valid(
    users: dict[str, Any], tmp_path: Path
) -> None:
    data, first = official([base_row(name="王一"), base_row(name="王二", sex="?")], blank_every=0)
    f = tmp_path / "t.xlsx"
    f.write_bytes(data)
    out, errs = tmp_path / "s.json", tmp_path / "e.xlsx"
    assert run("import_ledger", str(f), "--summary-json", str(out), "--errors", str(errs)) == 1
    s = json.loads(out.read_text("utf-8"))
    assert (s["rows"], s["valid"], s["invalid"], s["created"]) == (2, 1, 1, 0)
    assert s["errors"] == [
        {"row": first + 1, "column": "性别", "message": s["errors"][0]["message"], "cell": f"C{first + 1}"}
    ]
    assert "男" in s["errors"][0]["message"]
    assert errs.stat().st_size > 0 and not Child.objects.filter(name="王一").exists()
    assert run("import_ledger", str(f), "--summary-json", str(out), "--accept-valid") == 1
    assert json.loads(out.read_text("utf-8"))["created"] == 1 and Child.objects.filter(name="王一").exists()


def test_exit_2_unusable_file(users: dict[str, Any], tmp_path: Path) -> None:
    f = tmp_path / "t.xlsx"
    f.write_bytes(b"%PDF-1.4")
    out = tmp_path / "s.json"
    assert run("import_ledger", str(f), "--summary-json", str(out)) == 2
    s = json.loads(out.read_text("utf-8"))
    assert set(s) >= KEYS and s["rows"] == 0 and "PDF" in s["errors"][0]["message"]
    assert run("import_ledger", str(tmp_path / "missing.xlsx")) == 2


def test_region_option_for_a_village_ledger(users: dict[str, Any], tmp_path: Path) -> None:
    from shouhu.ledger.columns import COLUMNS

    data, _ = official([base_row(name="王一")], columns=[c for c in COLUMNS if c.key != "village"])
    f = tmp_path / "v.xlsx"
    f.write_bytes(data)
    assert run("import_ledger", str(f)) == 2
    assert run("import_ledger", str(f), "--region", "500229102201") == 0
    assert Child.objects.get(name="王一").village_id == "500229102201"


def test_export_command_xlsx_and_csv(users: dict[str, Any], make_child: Any, tmp_path: Path) -> None:
    make_child(name="王一")
    x, c = tmp_path / "l.xlsx", tmp_path / "l.csv"
    assert run("export_ledger", str(x), "--reason", "年度核查", "--region", "500229102000") == 0
    assert run("export_ledger", str(c), "--reason", "年度核查", "--layout", "platform") == 0
    assert x.read_bytes()[:2] == b"PK" and "王一" in c.read_text("utf-8-sig")
    assert AccessLog.objects.filter(action="export", detail__contains="年度核查").count() == 2
    with pytest.raises(CommandError):
        call_command("export_ledger", str(x))  # --reason is required
