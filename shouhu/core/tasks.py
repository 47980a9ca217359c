"""Background tasks (huey): the daily scan runs at 01:30 county time."""

from __future__ import annotations

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="1", minute="30"))
def daily_scan() -> None:
    call_command("run_scan")


@db_periodic_task(crontab(minute="5"))
def audit_checkpoint() -> None:
    """Every hour: the audit chain's head, signed, to the file outside the database (issue 10 part 6)."""
    call_command("audit_checkpoint")
