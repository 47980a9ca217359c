"""System checks of the access model (R11.4)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def no_superusers(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """A superuser passes every permission check of Django's admin: the platform has none. Access is
    recovered with `manage.py grant_role`, recorded in the event chain (docs/operations.md)."""
    from shouhu.core.models import User

    try:
        names = list(User.objects.filter(is_superuser=True).values_list("username", flat=True)[:5])
    except DatabaseError:  # not migrated yet
        return []
    if not names:
        return []
    return [
        Warning(
            f"Superuser accounts exist ({', '.join(names)}): they bypass the capability table.",
            hint="Clear is_superuser and grant roles with `manage.py grant_role` (docs/operations.md).",
            id="shouhu.W001",
        )
    ]
