"""Model permissions from the capability table only (R11.4, 等保 level 3: separated administration).

Django's admin asks `user.has_perm("core.change_region")`. Here the answer comes from the roles the
user holds: `config.edit` (the system administrator) grants add/change/delete/view on the
configuration models of `capabilities.CONFIG_MODELS` and nothing else — not users, not role
assignments, not child data. Permission rows on users or groups in the database grant nothing, so a
mistake there cannot widen anyone's access. Nobody is a superuser (`manage.py check --deploy` warns).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from shouhu.core.access import can
from shouhu.core.capabilities import CONFIG_MODELS

ACTIONS = ("add", "change", "delete", "view")


def config_permissions() -> set[str]:
    out = set()
    for label in CONFIG_MODELS:
        app, model = label.split(".")
        out |= {f"{app}.{action}_{model}" for action in ACTIONS}
    return out


class CapabilityBackend(ModelBackend):
    """Password authentication as Django's; permissions from the capability table."""

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if obj is not None or not getattr(user_obj, "is_active", False) or user_obj.is_anonymous:
            return set()
        return config_permissions() if can(user_obj, "config.edit") else set()
