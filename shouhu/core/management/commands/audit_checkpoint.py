"""`audit_checkpoint [--file PATH]`: append a signed checkpoint of the audit chain's head to the file
outside the database (issue 10 part 6); huey runs it every hour. Prints the line's content as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shouhu.core.checkpoints import write_checkpoint


class Command(BaseCommand):
    help = "Append a signed checkpoint of the audit chain head to SHOUHU_AUDIT_CHECKPOINT_FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="checkpoint file (default: SHOUHU_AUDIT_CHECKPOINT_FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        result = write_checkpoint(Path(options["file"]) if options.get("file") else None)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
