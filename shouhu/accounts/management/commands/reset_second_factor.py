"""`reset_second_factor USERNAME --reason R`: the operator's recovery when a user lost the phone and the
recovery codes (docs/operations.md). The user enrols again at the next login; recorded as an event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.accounts.otp import reset_second_factor
from shouhu.core.models import User


class Command(BaseCommand):
    help = "Remove a user's TOTP device and recovery codes (they enrol again at the next login)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why (recorded)")

    def handle(self, *args: Any, **o: Any) -> None:
        user = User.objects.filter(username=o["username"]).first()
        if user is None:
            raise CommandError(f"no user {o['username']!r}")
        if not o["reason"].strip():
            raise CommandError("--reason must say why")
        n = reset_second_factor(user=user, reason=o["reason"])
        self.stdout.write(f"{user.username}: {n} device(s) removed; the next login enrols a new one.")
