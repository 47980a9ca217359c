"""`verify_audit [--checkpoints PATH]`: walk the event chain and the access log and report any edited,
removed, reordered or forged row (R11.2), then check them against the signed checkpoints kept outside
the database (issue 10 part 6), so that events cut from the end with the head moved back are detected.
Exit 1 when anything is broken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.core.accesslog import verify_access_log
from shouhu.core.checkpoints import checkpoint_path, verify_checkpoints
from shouhu.core.events import verify_chain
from shouhu.core.models import AccessLog, Event


class Command(BaseCommand):
    help = (
        "Check the tamper-evident audit chain, the sealed access log and the signed checkpoints of their "
        "ends; exit 1 when any is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints", help="checkpoint file (default: the SHOUHU_AUDIT_CHECKPOINT_FILE setting)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = Event.objects.count()
        problems = verify_chain(Event.objects.order_by("seq").iterator(chunk_size=5000))
        reads = AccessLog.objects.count()
        access_problems = verify_access_log()
        path = Path(options["checkpoints"]) if options.get("checkpoints") else checkpoint_path()
        cp_problems, checked = verify_checkpoints(path)
        for p in problems[:100]:
            self.stderr.write(f"events: {p}")
        for p in access_problems[:100]:
            self.stderr.write(f"access log: {p}")
        for p in cp_problems[:100]:
            self.stderr.write(f"checkpoints: {p}")
        if problems or access_problems or cp_problems:
            raise CommandError(
                f"audit broken: {len(problems)} problem(s) in {count} events, "
                f"{len(access_problems)} in {reads} access-log rows, "
                f"{len(cp_problems)} against the checkpoints in {path}"
            )
        if not checked:
            self.stderr.write(
                f"warning: no checkpoint in {path}: events removed from the end cannot be detected "
                "(run `manage.py audit_checkpoint`, docs/operations.md)"
            )
        self.stdout.write(
            f"audit chain intact: {count} events; access log intact: {reads} rows; "
            f"{checked} checkpoint(s) hold"
        )
