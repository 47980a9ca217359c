"""The access log (R11.2, R11.3): every read of child data leaves a sealed row.

- `record_read` appends one row: who, what (action), which child or how many files, with the query
  (identifiers in it masked), whether full identifiers were shown, from where. Rows are numbered
  without gaps under a lock on `AccessLogHead` and each is sealed with the audit key (`events.mac`
  over the row and its number), so an edited row fails its seal and a deleted one leaves a gap.
- The head's sealed range (`first_seq`..`last_seq`) detects rows removed from either end.
- `apply_retention` (a `run_scan` step) removes the rows older than `audit_retention_days` (never fewer
  than 183 days, Cybersecurity Law art. 21), moves the range's start and records the removal as an
  event in the sealed event chain, so verification holds before and after.
- Identifier look-ups (searches by ID number or phone, police look-ups, duplicate answers about files
  outside the user's scope) are rows too; `lookups_left` counts them against the policy limits.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from shouhu.core.clientip import client_ip
from shouhu.core.events import AuditHeadMissing, mac, record_event, seal_key
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.models import AccessLog, AccessLogHead, Event, User
from shouhu.core.policy import param

MIN_RETENTION_DAYS = 183  # 网络安全法第二十一条: at least six months
RETENTION_VERB = "audit.access_retention"
CHECKPOINT_VERB = "audit.access_checkpoint"
_ID_IN_TEXT = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9])")
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])(1[3-9][0-9]{9}|0[0-9]{9,11})(?![0-9])")

# Kinds of identifier look-up and the policy parameter that limits each per user per day.
LOOKUP_LIMITS = {
    "search": "identifier_lookups_per_day",
    "duplicate": "duplicate_answers_per_day",
}


def mask_text(text: str) -> str:
    """A query as it is logged: ID numbers and phone numbers in it masked like on screen."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(1).upper()) or "", text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(1)) or "", text)


def describe_query(params: Mapping[str, Any] | str | None) -> str:
    """The query string of a read (filters, search text, page), identifiers masked, at most 500 chars."""
    if not params:
        return ""
    if isinstance(params, str):
        text = params
    else:
        items = []
        for k in sorted(params):
            values = params.getlist(k) if hasattr(params, "getlist") else [params[k]]  # type: ignore[union-attr]
            items += [(k, str(v)) for v in values if str(v) != ""]
        text = urlencode(items)
    return mask_text(text)[:500]


def _row_parts(row: AccessLog) -> list[Any]:
    return [
        "access",
        row.seq,
        row.at.astimezone(UTC).isoformat(),
        row.user_id,
        row.action,
        row.child_id,
        row.region_code,
        row.count,
        row.query,
        row.identifiers,
        row.detail,
        row.ip,
    ]


def row_mac(row: AccessLog, key: bytes | None = None) -> str:
    return mac(_row_parts(row), key)


def head_mac(head: AccessLogHead, key: bytes | None = None) -> str:
    return mac(["access-head", head.first_seq, head.last_seq], key)


def _locked_head() -> AccessLogHead:
    head = AccessLogHead.objects.select_for_update().filter(id=1).first()
    if head is None:  # a fresh (or flushed) database: the migration's row is gone
        if AccessLog.objects.exists():  # deleted by hand: refuse, never restart the numbering at 0
            raise AuditHeadMissing("the access log head row is missing while access-log rows exist")
        AccessLogHead.objects.get_or_create(id=1)
        head = AccessLogHead.objects.select_for_update().get(id=1)
    return head


def record_read(
    *,
    user: User,
    action: str,
    count: int = 1,
    child_id: Any = "",
    region_code: str = "",
    query: Mapping[str, Any] | str | None = None,
    identifiers: bool = False,
    detail: str = "",
    ip: str | None = None,
    at: datetime | None = None,
) -> AccessLog:
    """Append one sealed access-log row (its own short transaction when called outside one)."""
    with transaction.atomic():
        head = _locked_head()
        row = AccessLog(
            seq=head.last_seq + 1,
            at=at or timezone.now(),
            user=user,
            action=action,
            child_id=str(child_id or ""),
            region_code=region_code or "",
            count=max(int(count), 0),
            query=describe_query(query),
            identifiers=identifiers,
            detail=mask_text(detail)[:500],
            ip=ip,
        )
        row.mac = row_mac(row)
        row.save()
        head.last_seq = row.seq
        AccessLogHead.objects.filter(id=1).update(last_seq=row.seq, mac=head_mac(head))
    return row


def verify_access_log(rows: Iterable[AccessLog] | None = None) -> list[str]:
    """Problems found: a row altered, rows missing from the kept range, the head altered or not
    matching the last retention recorded in the event chain."""
    problems: list[str] = []
    head = AccessLogHead.objects.filter(id=1).first()
    if head is None:
        if AccessLog.objects.exists():
            problems.append("access log head missing")
        return problems
    key = seal_key()
    if not hmac.compare_digest(head.mac or "", head_mac(head, key)) and (head.last_seq or head.first_seq > 1):
        problems.append("access log head altered")
    expected = head.first_seq
    for row in rows if rows is not None else AccessLog.objects.order_by("seq").iterator(chunk_size=5000):
        if row.seq < head.first_seq:
            problems.append(f"access #{row.seq}: before the kept range #{head.first_seq}")
            continue
        if row.seq != expected:
            problems.append(f"access #{expected}..#{row.seq - 1} missing")
        if not hmac.compare_digest(row.mac, row_mac(row, key)):
            problems.append(f"access #{row.seq}: content altered")
        expected = row.seq + 1
    if expected - 1 != head.last_seq:
        problems.append(f"access #{expected}..#{head.last_seq} missing (rows removed from the end)")
    last = Event.objects.filter(verb=RETENTION_VERB).order_by("-seq").first()
    through = int((last.after or {}).get("through_seq", 0)) if last is not None else 0
    if head.first_seq != through + 1:
        problems.append(
            f"access log starts at #{head.first_seq}, but the last recorded retention kept #{through + 1} on"
        )
    checkpoint = Event.objects.filter(verb=CHECKPOINT_VERB).order_by("-seq").first()
    sealed_last = int((checkpoint.after or {}).get("last_seq", 0)) if checkpoint is not None else 0
    if head.last_seq < sealed_last:
        problems.append(
            f"access log ends at #{head.last_seq}, but the checkpoint in the event chain saw #{sealed_last}"
        )
    return problems


def retention_days() -> int:
    return max(int(param("audit_retention_days")), MIN_RETENTION_DAYS)


@transaction.atomic
def apply_retention(at: datetime) -> dict[str, Any]:
    """Remove the access-log rows older than the retention period; idempotent for the same moment."""
    days = retention_days()
    cutoff = at - timedelta(days=days)
    head = _locked_head()
    through = AccessLog.objects.filter(at__lt=cutoff, seq__gte=head.first_seq).aggregate(m=Max("seq"))["m"]
    if through is None:
        return {"retention_days": days, "removed": 0}
    removed, _ = AccessLog.objects.filter(seq__lte=through).delete()
    head.first_seq = through + 1
    head.mac = head_mac(head)
    head.save(update_fields=["first_seq", "mac"])
    record_event(
        verb=RETENTION_VERB,
        subject_type="core.accesslog",
        subject_id=str(through),
        summary=f"访问日志保存期满删除 {removed} 条（保存 {days} 天）",
        after={"through_seq": through, "removed": removed, "cutoff": cutoff.isoformat(), "days": days},
        occurred_at=at,
    )
    return {"retention_days": days, "removed": removed, "through_seq": through}


@transaction.atomic
def checkpoint(at: datetime) -> dict[str, Any]:
    """Write the access log's sealed range into the event chain (once a day from the scan), so that
    rows cut from the end together with the head are detected too. Nothing new since the last one:
    nothing written (idempotent)."""
    head = _locked_head()
    last = Event.objects.filter(verb=CHECKPOINT_VERB).order_by("-seq").first()
    if last is not None and (last.after or {}).get("last_seq") == head.last_seq:
        return {"last_seq": head.last_seq, "written": False}
    record_event(
        verb=CHECKPOINT_VERB,
        subject_type="core.accesslog",
        subject_id=str(head.last_seq),
        summary=f"访问日志检查点 #{head.first_seq}–#{head.last_seq}",
        after={"first_seq": head.first_seq, "last_seq": head.last_seq, "mac": head.mac},
        occurred_at=at,
    )
    return {"last_seq": head.last_seq, "written": True}


def run(at: datetime) -> dict[str, Any]:
    """The `run_scan` step: retention, then a checkpoint of what is kept."""
    return {**apply_retention(at), **checkpoint(at)}


# --- identifier look-ups -----------------------------------------------------------------------------


def lookups_used(user: User, kind: str, on: datetime | None = None) -> int:
    day = timezone.localtime(on or timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    used = AccessLog.objects.filter(
        user=user, action=AccessLog.Action.LOOKUP, detail=kind, at__gte=day, at__lt=day + timedelta(days=1)
    ).aggregate(n=Sum("count"))["n"]
    return int(used or 0)


def lookups_left(user: User, kind: str, on: datetime | None = None) -> int:
    return max(int(param(LOOKUP_LIMITS[kind])) - lookups_used(user, kind, on), 0)


def record_lookup(
    *, user: User, kind: str, count: int = 1, query: str = "", child_id: Any = "", ip: str | None = None
) -> AccessLog:
    return record_read(
        user=user,
        action=AccessLog.Action.LOOKUP,
        count=count,
        query=query,
        child_id=child_id,
        detail=kind,
        ip=ip,
    )


def record_request(
    request: Any,
    action: str,
    *,
    child: Any = None,
    count: int | None = None,
    query: Mapping[str, Any] | str | None = None,
    detail: str = "",
    identifiers: bool = False,
) -> AccessLog:
    """`record_read` for a view: the user and address from the request; `child` (a Child, or any row
    with `child_id` and a region) names the file read; `count` defaults to 1 with a child, else 0."""
    child_id, region = "", ""
    if child is not None:
        child_id = getattr(child, "child_id", None) or child.pk
        region = getattr(child, "village_id", "") or ""
    return record_read(
        user=request.user,
        action=action,
        count=count if count is not None else (1 if child is not None else 0),
        child_id=child_id,
        region_code=region,
        query=query,
        identifiers=identifiers,
        detail=detail,
        ip=client_ip(request),
    )
