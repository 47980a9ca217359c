"""`verify_audit`: walk the event chain and the access log and report any edited, removed, reordered or
forged row (R11.2). Exit 1 when either is broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shouhu.core.accesslog import verify_access_log
from shouhu.core.events import verify_chain
from shouhu.core.models import AccessLog, Event


class Command(BaseCommand):
    help = "Check the tamper-evident audit chain and the sealed access log; exit 1 when either is broken."

    def handle(self, *args: Any, **options: Any) -> None:
        count = Event.objects.count()
        problems = verify_chain(Event.objects.order_by("seq").iterator(chunk_size=5000))
        reads = AccessLog.objects.count()
        access_problems = verify_access_log()
        for p in problems[:100]:
            self.stderr.write(f"events: {p}")
        for p in access_problems[:100]:
            self.stderr.write(f"access log: {p}")
        if problems or access_problems:
            raise CommandError(
                f"audit broken: {len(problems)} problem(s) in {count} events, "
                f"{len(access_problems)} in {reads} access-log rows"
            )
        self.stdout.write(f"audit chain intact: {count} events; access log intact: {reads} rows")
