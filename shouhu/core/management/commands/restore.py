"""`restore IN [--database-url URL]` (API.md, issue 10 part 10): restore a backup into an empty database
(default: the one named by DATABASE_URL), then verify it in a separate process: the audit chain against
the backup's checkpoints, the head equal to the manifest's, a sample of files and fields decrypting.
`restore --verify-only HEAD_JSON` is that verification (run by `restore` against the new database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.core.backup import BackupError, restore, verify_here


class Command(BaseCommand):
    help = "Restore a backup made by `backup` into an empty database and verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the backup file (or, with --verify-only, the expected head JSON)")
        parser.add_argument("--database-url", help="the empty target database (default: DATABASE_URL)")
        parser.add_argument(
            "--verify-only", action="store_true", help="verify the database in use (internal)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["verify_only"]:
                self.stdout.write(json.dumps(verify_here(json.loads(options["file"]))))
                return
            manifest = restore(Path(options["file"]), options.get("database_url"))
        except (BackupError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            json.dumps({k: manifest[k] for k in ("created_at", "engine", "audit_head", "counts", "verified")})
        )
