"""Lookups in the code lists (the `Code` table): labels and validity, cached per process briefly."""

from __future__ import annotations

import time

from django.utils.translation import get_language

_CACHE: dict[str, tuple[float, dict[str, tuple[str, str]]]] = {}
TTL_SECONDS = 60.0


def _entries(list_name: str) -> dict[str, tuple[str, str]]:
    from shouhu.core.models import Code

    now = time.monotonic()
    hit = _CACHE.get(list_name)
    if hit and now - hit[0] < TTL_SECONDS:
        return hit[1]
    entries = {
        c.code: (c.name_zh, c.name_en or c.name_zh)
        for c in Code.objects.filter(list=list_name, active=True).order_by("sort", "code")
    }
    _CACHE[list_name] = (now, entries)
    return entries


def clear_cache() -> None:
    _CACHE.clear()


def is_valid(list_name: str, code: str) -> bool:
    return code in _entries(list_name)


def label(list_name: str, code: str) -> str:
    entry = _entries(list_name).get(code)
    if entry is None:
        return code
    return entry[1] if (get_language() or "zh-hans").startswith("en") else entry[0]


def choices(list_name: str) -> list[tuple[str, str]]:
    en = (get_language() or "zh-hans").startswith("en")
    return [(code, names[1] if en else names[0]) for code, names in _entries(list_name).items()]
