"""The event timeline and audit trail (R11.2): every service records what it changed here.

Each event is sealed with an HMAC over its content and the previous event's seal, so editing or
deleting a row breaks the chain that `verify_audit` checks (tamper-evident). Appending takes a lock on
the chain head; bulk writers (imports, scans) append their events in one batch under one lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from shouhu.core.bulkcopy import bulk_insert
from shouhu.core.models import AuditChainHead, Event, User
from shouhu.core.visibility import visibility_of_verb

_SCALARS = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """Dates, UUIDs and decimals as JSON strings: what is stored is exactly what is sealed."""
    if type(value) in _SCALARS:  # nothing to convert (most `before` values are None)
        return value
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


@dataclass
class EventSpec:
    verb: str
    subject_type: str
    subject_id: str
    actor: User | None = None
    child_id: str = ""
    region_code: str = ""
    summary: str = ""
    before: Any = None
    after: Any = None
    occurred_at: datetime = field(default_factory=timezone.now)
    # Who may see the event on a timeline (core/visibility.py); left empty, the verb decides.
    visibility: str = ""


class AuditHeadMissing(RuntimeError):
    """A chain head row (events or access log) was deleted while its rows exist: appending would restart
    the numbering at 0 and fail on the next insert. Nothing is written, and nothing read, until an
    operator restores the row from a backup (docs/operations.md); `verify_audit` reports it too."""


def seal_key() -> bytes:
    """The audit key (SHOUHU_AUDIT_KEY): its own setting, never derived from SECRET_KEY (config/keys.py)."""
    return str(settings.AUDIT_SEAL_KEY).encode()


def mac(parts: list[Any], key: bytes | None = None) -> str:
    """The keyed seal (HMAC-SHA256) of a list of JSON values: the events' chain and the access log's rows
    and head are sealed with it, each with its own layout of parts."""
    body = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(key or seal_key(), body.encode(), hashlib.sha256).hexdigest()


def seal(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    verb: str,
    subject_type: str,
    subject_id: str,
    child_id: str,
    region_code: str,
    summary: str,
    before: Any,
    after: Any,
    prev_hash: str,
    visibility: str = "",
    key: bytes | None = None,
) -> str:
    """`key` defaults to the configured seal key; a batch passes it once instead of per event.

    The visibility class is sealed from the first event that carries one; events recorded before
    classes existed have none (their class is read from the verb table) and keep their original seal."""
    parts = [
        seq,
        occurred_at.astimezone(UTC).isoformat(),
        actor_id,
        verb,
        subject_type,
        subject_id,
        child_id,
        region_code,
        summary,
        before,
        after,
        prev_hash,
    ]
    if visibility:
        parts.append(visibility)
    return mac(parts, key)


def seal_event(ev: Event, key: bytes | None = None) -> str:
    """The seal of a stored or about-to-be-stored event (its content and the previous seal)."""
    return seal(
        seq=ev.seq,
        occurred_at=ev.occurred_at,
        actor_id=ev.actor_id,
        verb=ev.verb,
        subject_type=ev.subject_type,
        subject_id=ev.subject_id,
        child_id=ev.child_id,
        region_code=ev.region_code,
        summary=ev.summary,
        before=ev.before,
        after=ev.after,
        prev_hash=ev.prev_hash,
        visibility=ev.visibility,
        key=key,
    )


def record_events(specs: Sequence[EventSpec]) -> list[Event]:
    """Append events to the chain in one batch. Must run inside the caller's transaction.

    The returned rows carry their content, sequence numbers and seals; their primary keys are not read
    back (COPY on PostgreSQL): an event is identified by its `seq`."""
    if not specs:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_events must be called inside the service's transaction")
    head = AuditChainHead.objects.select_for_update().filter(id=1).first()
    if head is None:
        if Event.objects.exists():  # deleted by hand: refuse rather than restart the chain at 0
            raise AuditHeadMissing("the event chain head row is missing while events exist")
        AuditChainHead.objects.get_or_create(id=1)
        head = AuditChainHead.objects.select_for_update().get(id=1)
    seq, prev = head.last_seq, head.last_hash
    key = seal_key()
    rows: list[Event] = []
    for spec in specs:
        seq += 1
        before, after = jsonable(spec.before), jsonable(spec.after)
        actor_id = spec.actor.pk if spec.actor is not None else None
        row = Event(
            seq=seq,
            occurred_at=spec.occurred_at,
            actor_id=actor_id,
            verb=spec.verb,
            subject_type=spec.subject_type,
            subject_id=str(spec.subject_id),
            child_id=spec.child_id,
            region_code=spec.region_code,
            summary=spec.summary[:200],
            before=before,
            after=after,
            prev_hash=prev,
            visibility=spec.visibility or visibility_of_verb(spec.verb),
        )
        row.hash = digest = seal_event(row, key)
        rows.append(row)
        prev = digest
    bulk_insert(Event, rows)
    AuditChainHead.objects.filter(id=1).update(last_seq=seq, last_hash=prev)
    return rows


def record_event(**kwargs: Any) -> Event:
    return record_events([EventSpec(**kwargs)])[0]


def verify_chain(events: Iterable[Event]) -> list[str]:
    """Problems found walking the chain in order: a gap in seq, a broken link or a bad seal."""
    problems: list[str] = []
    prev, expected = "0" * 64, 1
    key = seal_key()
    for ev in events:
        if ev.seq != expected:
            problems.append(f"seq {expected}..{ev.seq - 1} missing")
        if ev.prev_hash != prev:
            problems.append(f"seq {ev.seq}: link to the previous event broken")
        digest = seal_event(ev, key)
        if not hmac.compare_digest(digest, ev.hash):
            problems.append(f"seq {ev.seq}: content altered")
        prev, expected = ev.hash, ev.seq + 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None and expected > 1:
        problems.append("chain head row missing while events exist")
    if head is not None and head.last_seq != expected - 1:
        problems.append(
            f"chain head at seq {head.last_seq}, last event seq {expected - 1}: events removed from the end"
        )
    return problems
