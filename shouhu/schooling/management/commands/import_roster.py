"""import_roster FILE --school ORG_ID [--dry-run] [--summary-json PATH] (API.md). Exit status as
import_ledger: 0 all rows valid (and written unless a dry run); 1 invalid rows found (nothing written);
2 the file cannot be used."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from shouhu.core.models import Organisation
from shouhu.ledger.reader import UnusableFile
from shouhu.schooling.roster import roster_import
from shouhu.schooling.services import SCHOOL_KINDS


class Command(BaseCommand):
    help = "Import a school's pupil roster (学籍系统导出: xlsx, xls, csv) and match it to the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--school", required=True, help="the school's organisation id")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--summary-json", help="write the summary JSON here")

    def _write(self, options: dict[str, Any], summary: dict[str, Any]) -> None:
        if options.get("summary_json"):
            Path(options["summary_json"]).write_text(
                json.dumps(summary, ensure_ascii=False, indent=1), "utf-8"
            )

    def _fail(self, options: dict[str, Any], code: str, message: str) -> NoReturn:
        summary = {"rows": 0, "matched": 0, "new": 0, "mismatched": 0, "error": code}
        summary["errors"] = [{"row": 0, "column": "", "message": message}]
        self._write(options, summary)
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            self._fail(options, "not_found", f"找不到文件：{path}")
        pk = int(options["school"]) if str(options["school"]).isdigit() else 0
        school = Organisation.objects.filter(pk=pk, kind__in=SCHOOL_KINDS).first()
        if school is None:
            self._fail(options, "bad_school", f"没有编号为 {options['school']} 的学校或幼儿园。")
        try:
            summary = roster_import(
                actor=None,
                school=school,
                data=path.read_bytes(),
                filename=path.name,
                dry_run=options["dry_run"],
            )
        except UnusableFile as exc:
            self._fail(options, exc.code, exc.message)
        out = summary.as_dict()
        self._write(options, out)
        self.stdout.write(
            f"{school.name}: {summary.rows} 行，匹配 {summary.matched}，台账中没有 {summary.new}，"
            f"不一致 {summary.mismatched}，错误 {len(summary.errors)}"
            + ("（试运行，未写入）" if options["dry_run"] else "")
        )
        for e in summary.errors:
            self.stderr.write(f"第{e.row}行 {e.column}：{e.message}")
        if summary.errors:
            sys.exit(1)
