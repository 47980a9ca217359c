"""Document kinds: one template in the owning app plus one small registration (R11.6).

    documents.kinds.register(DocumentKind(
        code="registry.child_file", label=_("一人一档"), owner_type="registry.child",
        template="registry/documents/child_file.html", build=child_file_data,
        version=lambda child: str(child.version)))

`build(record, ctx)` returns the plain data the template prints (strings, numbers, dates, lists, dicts):
that is what is hashed as the document's data version, so two documents with the same hash printed the
same facts. It prints only the field groups in `ctx.groups` (the kind's groups the user sees: a part of
the file the user may not see is left out, not blanked) and identifiers masked unless `ctx.reveal` (the
user holds `child.identifiers`, or for a report the reporter's identity).

Who may issue a kind is a capability (`capability`, any of them, asked of `can()` on the owner's subject);
`may_generate` replaces that per-record check where the rule is not a capability alone (the reporter
prints the answer addressed to them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from shouhu.core.models import User


@dataclass(frozen=True)
class BuildContext:
    user: User
    reveal: bool  # full ID numbers and phones may be printed
    now: datetime
    groups: frozenset[str] = frozenset()  # the field groups of the child this document may print

    def shows(self, group: str) -> bool:
        return group in self.groups


def _no_version(record: Any) -> str:
    return ""


def _available(record: Any) -> str | None:
    return None


@dataclass(frozen=True)
class DocumentKind:
    code: str
    label: Any  # lazy translation
    owner_type: str
    template: str
    build: Callable[[Any, BuildContext], dict[str, Any]]
    # The record's own version (e.g. Child.version), recorded beside the hash of the printed data.
    version: Callable[[Any], str] = _no_version
    # The unit that issues it; default: the generating user's organisation (see services.issuer_of).
    issuer: Callable[[Any, User], str] | None = None
    # Who may issue it: any of these capabilities on the owner's subject (held nowhere: 403 before any
    # record is looked up).
    capability: tuple[str, ...] = ("child.view",)
    # A per-record rule replacing the capability check on the record (None: the capability decides).
    may_generate: Callable[[Any, Any], bool] | None = None
    # The field groups of the child's file the kind may print (ctx.groups: these ∩ the user's).
    groups: frozenset[str] = frozenset()
    # None when the record can have the document now, else the reason it cannot (shown to the user).
    unavailable: Callable[[Any], str | None] = _available
    # Printed data about a child: the access record of a generation or download counts one file read.
    contains_child_data: bool = True
    description: Any = ""


_KINDS: dict[str, DocumentKind] = {}


def register(kind: DocumentKind) -> DocumentKind:
    if kind.code in _KINDS and _KINDS[kind.code] is not kind:
        raise RuntimeError(f"document kind {kind.code} registered twice")
    _KINDS[kind.code] = kind
    return kind


def get(code: str) -> DocumentKind:
    kind = _KINDS.get(code)
    if kind is None:
        raise ValidationError({"kind": [_("没有这种文书：%(kind)s。") % {"kind": code}]})
    return kind


def find(code: str) -> DocumentKind | None:
    return _KINDS.get(code)


def for_owner(owner_type: str) -> list[DocumentKind]:
    return [k for k in _KINDS.values() if k.owner_type == owner_type]


def all_kinds() -> list[DocumentKind]:
    return list(_KINDS.values())
