"""Template context shared by every page: the user's scope decides the navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from shouhu.core.jurisdiction import scope_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"scope": scope_of(getattr(request, "user", None))}
