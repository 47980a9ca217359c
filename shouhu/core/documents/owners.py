"""The owner registry: for each type of record that documents and attachments belong to, how to fetch
it for a user and which capabilities of the one access model (`core/capabilities.py`, `core/access.py`)
decide what that user may do with it.

Each app declares its record types in its own `documents.py` (loaded from `AppConfig.ready`):

- `fetch` restricts by the record's view capability (`restrict`/`get_or_404`), so a record out of the
  user's reach answers 404 exactly like a missing one (R11.1);
- `subject` is the object `can()` is asked about: the child whose file it is, or the protection case;
- `attach` names the capabilities that may add (and withdraw) attachments, any of them on the subject;
- `groups` are the field groups of the child the reader sees (`registry/fields.py`): a document prints
  only those, a copy printed with more opens only for readers who see as much, and an attachment's
  category may need groups of its own (`category_groups`: a court decision is part of the family's file);
- `visibility` is the class of the record's document and attachment events (`core/visibility.py`), so a
  child's timeline shows them only to readers who may see the record; `case_id` names the case of the
  protection classes (sealed in the event as `after["case"]`).

No role name is written here or in the owners: every decision is a capability asked of `can()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404

from shouhu.core.access import can
from shouhu.core.capabilities import GROUPS

# The outer gate of the document and attachment views: a user who may see some record that documents
# belong to (a child's file, a case, the reporter of a report, or their own report). Every owner type's
# view capabilities lie within it (checked at registration); which one a request needs is decided by the
# record, after which out of reach answers 404 like missing. (`report.create` is every account's: a
# reporter opens the written answer to their own report.)
RECORD_CAPABILITIES: tuple[str, ...] = (
    "child.view",
    "case.view",
    "case.reporter",
    "report.create",
    "dropout.view",  # a dropout case's written report (schooling, issue 13)
)


def _nothing(user: Any, record: Any) -> frozenset[str]:
    return frozenset()


def _no_case(record: Any) -> str:
    return ""


@dataclass(frozen=True)
class OwnerType:
    code: str  # "registry.child", "protection.case" …
    label: Any  # lazy translation
    # The capabilities whose reach decides who sees the record (any of them); `fetch` applies them.
    view: tuple[str, ...]
    # The record if `user` may see it; raises Http404 when it is missing or out of reach.
    fetch: Callable[[Any, str], Any]
    # The object can() is asked about for this record: the child, or the case (a region code for tests).
    subject: Callable[[Any], Any]
    # The child the record is about ("" if none): the timeline and the access log use it.
    child_id: Callable[[Any], str]
    region_code: Callable[[Any], str]
    # The page of the record (for the file's own pages and the verify page's link).
    url: Callable[[Any], str]
    # A short name of the record for the user who may see it (never shown on the public verify page).
    title: Callable[[Any], str]
    # Capabilities that add and withdraw attachments (any of them, on the subject); empty: nobody.
    attach: tuple[str, ...] = ()
    # May the user see full identifiers (ID numbers, phones) of this record's people?
    sees_identifiers: Callable[[Any, Any], bool] = lambda user, record: False
    # The field groups of the record's child this user sees (what a document may print for them).
    groups: Callable[[Any, Any], frozenset[str]] = _nothing
    # Attachment categories that make sense for the record (codes of AttachmentCategory), likeliest first.
    categories: tuple[str, ...] = ()
    # Field groups an attachment of a category needs beyond seeing the record (absent: none).
    category_groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Visibility class of the record's document and attachment events, and per category where it differs.
    visibility: str = "restricted"
    category_visibility: Mapping[str, str] = field(default_factory=dict)
    # The protection case the record belongs to, for events of the protection classes.
    case_id: Callable[[Any], str] = _no_case

    def may_attach(self, user: Any, record: Any) -> bool:
        subject = self.subject(record)
        return any(can(user, c, subject) for c in self.attach)

    def sees_category(
        self, user: Any, record: Any, category: str, groups: frozenset[str] | None = None
    ) -> bool:
        need = self.category_groups.get(category, frozenset())
        return not need or need <= (groups if groups is not None else self.groups(user, record))

    def event_visibility(self, category: str = "") -> str:
        return self.category_visibility.get(category, self.visibility)


_OWNERS: dict[str, OwnerType] = {}


def register(owner: OwnerType) -> OwnerType:
    if owner.code in _OWNERS and _OWNERS[owner.code] is not owner:
        raise RuntimeError(f"owner type {owner.code} registered twice")
    # A field group's capability (child.family …) is held only with child.view: within the gate too.
    outside = {
        c for c in owner.view if c not in RECORD_CAPABILITIES and c.removeprefix("child.") not in GROUPS
    }
    if not owner.view or outside:
        raise RuntimeError(f"owner type {owner.code}: {sorted(outside)} not within RECORD_CAPABILITIES")
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
    """Run a lookup, turning "no such row" and malformed ids into 404 (R11.1)."""
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
