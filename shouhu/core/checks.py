"""System checks of the access model (R11.4)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, Warning, register
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


# --- Keys (issue 10 part 4, R11.3) --------------------------------------------------------------------


def key_problems() -> list[Error]:
    """The public demo key, and any data key derived from it (or from the SECRET_KEY in use) the way
    versions before issue 10 did: whoever has the repository could decrypt ID numbers with them."""
    from django.conf import settings

    from config.keys import DEMO_SECRET_KEY
    from shouhu.core.crypto import KeySet

    out: list[Error] = []
    if settings.SECRET_KEY == DEMO_SECRET_KEY:
        out.append(
            Error(
                "SECRET_KEY is the public demo key.",
                hint="Set SHOUHU_SECRET_KEY (or remove it and let the key file be generated): docs/operations.md.",
                id="shouhu.E001",
            )
        )
    configured = KeySet.from_settings()
    for secret in {DEMO_SECRET_KEY, settings.SECRET_KEY}:
        legacy = KeySet.legacy(secret)
        derived = [
            name
            for name, bad in (
                ("SHOUHU_FIELD_KEY", bool(set(configured.field) & set(legacy.field))),
                ("SHOUHU_INDEX_KEY", configured.index == legacy.index),
                ("SHOUHU_AUDIT_KEY", configured.audit == legacy.audit),
                ("SHOUHU_FILE_KEY", bool(set(configured.file) & set(legacy.file))),
            )
            if bad
        ]
        for name, raw in (
            ("SHOUHU_INDEX_KEY", configured.index),
            ("SHOUHU_AUDIT_KEY", configured.audit),
        ):
            if raw in (secret.encode(), b"") and name not in derived:
                derived.append(name)
        if derived:
            out.append(
                Error(
                    f"{', '.join(sorted(derived))} derived from "
                    f"{'the public demo key' if secret == DEMO_SECRET_KEY else 'SECRET_KEY'}.",
                    hint="Give each key its own random value, then run `manage.py rotate_keys --from-derived` "
                    "to re-encrypt the data (docs/operations.md).",
                    id="shouhu.E001",
                )
            )
    return out


@register(Tags.security)
def keys_in_production(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """With DEBUG off the server refuses to start on a public or derived key."""
    from django.conf import settings

    return [] if settings.DEBUG else key_problems()


@register(Tags.security, deploy=True)
def keys_for_deploy(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """`check --deploy` refuses them whatever DEBUG says (with DEBUG off the check above already did)."""
    from django.conf import settings

    return key_problems() if settings.DEBUG else []
