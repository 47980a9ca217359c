"""A child's timeline as one reader may see it (R11.1, R11.2; DESIGN principle 1).

Each event carries a visibility class (`core/visibility.py`). A reader sees an event when their field
groups of the child, or for protection events their right to the very case, allow it; within a change
to the file only the fields of the reader's groups are kept, and identifiers only for a reader who may
see them in full (the masks sealed in old events are not re-shown to anyone else). The actor of a
report event is the reporter: shown only to those who may see the reporter's identity (R5.1); papers
about the reporter (the written answer) are shown only to them at all. A document or an attachment of a
protection record names its case in the sealed `after["case"]`, and is shown only to readers of that case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shouhu.core.access import holders_by_ids
from shouhu.core.models import Event
from shouhu.core.visibility import (
    PROTECTION,
    REPORT,
    REPORTER,
    REPORTER_CAPABILITY,
    STATUS,
    TIMELINE_RULES,
    visibility_of,
)
from shouhu.registry.fields import (
    CARE,
    FAMILY,
    FIELD_GROUPS,
    full_id_numbers,
    full_phones,
    shows,
)

CASE_SUBJECT = "protection.case"
# Events about a record's documents and attachments: their case (protection classes) is in the payload.
PAPER_SUBJECTS = ("core.document", "core.attachment")
CASE_CLASSES = (PROTECTION, REPORT, REPORTER)
ID_KEYS = frozenset({"id_number"})
PHONE_KEYS = frozenset({"phone", "village_contact_phone", "reporter_phone"})


@dataclass
class Entry:
    event: Event
    before: Any
    after: Any
    show_actor: bool


def _identifier_allowed(key: str, groups: frozenset[str]) -> bool:
    if key in ID_KEYS:
        return full_id_numbers(groups)
    if key in PHONE_KEYS:
        return full_phones(groups)
    return True


def _person(value: Any, groups: frozenset[str]) -> Any:
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if _identifier_allowed(k, groups)}


def filter_payload(payload: Any, groups: frozenset[str], *, whole_group: bool = False) -> Any:
    """The part of an event's before/after the reader may see. `whole_group`: the event belongs to a
    group the reader holds (family events): every key but identifiers; otherwise a key is kept when the
    reader's groups show it."""
    if isinstance(payload, list):
        return [_person(v, groups) for v in payload]
    if not isinstance(payload, dict):
        return payload
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if not _identifier_allowed(key, groups):
            continue
        if not whole_group and key in FIELD_GROUPS and not shows(key, groups):
            continue
        if key in ("parents", "guardians") and isinstance(value, list):
            value = [_person(v, groups) for v in value]
        out[key] = value
    return out


def case_of(event: Event) -> str:
    """The protection case an event belongs to ("" if none): its subject, or a paper's sealed case."""
    if event.subject_type == CASE_SUBJECT:
        return event.subject_id
    if event.subject_type in PAPER_SUBJECTS and isinstance(event.after, dict):
        return str(event.after.get("case") or "")
    return ""


def timeline_for(user: Any, groups: frozenset[str], events: list[Event]) -> list[Entry]:
    """The events this reader may see, newest first, with the parts of each they may see."""
    case_ids = {case_of(e) for e in events if visibility_of(e) in CASE_CLASSES} - {""}
    cases = holders_by_ids(user, "case.view", CASE_SUBJECT, case_ids)
    reporters = holders_by_ids(user, REPORTER_CAPABILITY, CASE_SUBJECT, cases)
    out: list[Entry] = []
    for e in events:
        cls = visibility_of(e)
        needs = TIMELINE_RULES.get(cls)
        if needs is None:
            continue
        if needs in (("case",), ("reporter",)):
            case = case_of(e)
            if not case or case not in (reporters if cls == REPORTER else cases):
                continue
            show_actor = cls != REPORT or case in reporters
            out.append(Entry(e, None, e.after if cls == PROTECTION else None, show_actor))
            continue
        if not any(n == "child.view" or n.removeprefix("child.") in groups for n in needs):
            continue
        whole = cls == FAMILY
        before = filter_payload(e.before, groups, whole_group=whole)
        after = filter_payload(e.after, groups, whole_group=whole)
        if cls == STATUS and CARE not in groups:  # the reasons speak of the parents (care group)
            before = _without(before, "reasons")
            after = _without(after, "reasons")
        out.append(Entry(e, before, after, True))
    return out


def _without(payload: Any, key: str) -> Any:
    return {k: v for k, v in payload.items() if k != key} if isinstance(payload, dict) else payload
