"""Background tasks (huey): the daily scan runs at 01:30 county time."""

from __future__ import annotations

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="1", minute="30"))
def daily_scan() -> None:
    call_command("run_scan")
