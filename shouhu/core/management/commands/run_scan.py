"""`run_scan [--at DATETIME]` (API.md): every periodic check as of a moment, idempotent.

The steps are listed in shouhu/core/scan.py; the command prints one JSON summary.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from shouhu.core.scan import run_all


def parse_moment(text: str) -> datetime:
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(f"--at: '{text}' is not a date-time (YYYY-MM-DDTHH:MM[:SS][+08:00]) or date")
        moment = datetime(day.year, day.month, day.day, 23, 59, 59)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Run every periodic check (statuses, compliance, visits, agreements, time limits) as of --at."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--at", help="ISO date-time or date; default now")

    def handle(self, *args: Any, **options: Any) -> None:
        moment = parse_moment(options["at"]) if options.get("at") else timezone.now()
        self.stdout.write(json.dumps(run_all(moment), ensure_ascii=False))
