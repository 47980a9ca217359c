"""`verify_audit`: walk the event chain and report any edited, removed or reordered event (R11.2)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shouhu.core.events import verify_chain
from shouhu.core.models import Event


class Command(BaseCommand):
    help = "Check the tamper-evident audit chain; exit 1 when it is broken."

    def handle(self, *args: Any, **options: Any) -> None:
        count = Event.objects.count()
        problems = verify_chain(Event.objects.order_by("seq").iterator(chunk_size=5000))
        if problems:
            for p in problems[:100]:
                self.stderr.write(p)
            raise CommandError(f"audit chain broken: {len(problems)} problem(s) in {count} events")
        self.stdout.write(f"audit chain intact: {count} events")
