"""`backup OUT` (API.md, issue 10 part 10): a verified backup of the database named by DATABASE_URL,
with a manifest; the keys are not in it (shouhu/core/backup.py, docs/operations.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump custom format, or SQLite's online backup) with a manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="the backup file to write (a tar)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup(Path(options["out"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            json.dumps({k: manifest[k] for k in ("created_at", "engine", "audit_head", "counts")})
        )
