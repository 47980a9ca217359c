"""The owner registry: for each type of record that documents and attachments belong to, how to fetch
it for a user and what that user may do with it.

Each app declares its record types in its own `documents.py` (loaded from `AppConfig.ready`), built on
that app's scoped selectors, so a record out of the user's scope answers 404 exactly like a missing one
(R11.1). Every "who may see this record" decision of this package goes through these callbacks and
nowhere else, so the access model can be rewired here in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404


@dataclass(frozen=True)
class OwnerType:
    code: str  # "registry.child", "protection.case" …
    label: Any  # lazy translation
    # The record if `user` may see it; raises Http404 when it is missing or out of scope.
    fetch: Callable[[Any, str], Any]
    # The child the record is about ("" if none): the timeline and the access log use it.
    child_id: Callable[[Any], str]
    region_code: Callable[[Any], str]
    # The page of the record (for the file's own pages and the verify page's link).
    url: Callable[[Any], str]
    # A short name of the record for the user who may see it (never shown on the public verify page).
    title: Callable[[Any], str]
    # May the user add attachments (and remove those added by mistake)?
    may_attach: Callable[[Any, Any], bool]
    # May the user see full identifiers (ID numbers, phones) of this record's people?
    sees_identifiers: Callable[[Any, Any], bool]
    # Attachment categories that make sense for the record (codes of AttachmentCategory).
    categories: tuple[str, ...] = field(default=())


_OWNERS: dict[str, OwnerType] = {}


def register(owner: OwnerType) -> OwnerType:
    if owner.code in _OWNERS and _OWNERS[owner.code] is not owner:
        raise RuntimeError(f"owner type {owner.code} registered twice")
    _OWNERS[owner.code] = owner
    return owner


def get(code: str) -> OwnerType:
    """The owner type; an unknown code answers 404 like a missing record."""
    owner = _OWNERS.get(code)
    if owner is None:
        raise Http404("not found")
    return owner


def all_types() -> list[OwnerType]:
    return list(_OWNERS.values())


def fetch(user: Any, code: str, record_id: Any) -> tuple[OwnerType, Any]:
    owner = get(code)
    return owner, owner.fetch(user, str(record_id))


def guarded(get_one: Callable[[], Any]) -> Any:
    """Run a scoped lookup, turning "no such row" and malformed ids into 404 (R11.1)."""
    try:
        return get_one()
    except Http404:
        raise
    except Exception as exc:
        name = exc.__class__.__name__
        if name in ("DoesNotExist", "ValidationError", "ValueError", "TypeError") or name.endswith(
            "DoesNotExist"
        ):
            raise Http404("not found") from exc
        raise
