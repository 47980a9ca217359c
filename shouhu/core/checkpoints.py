"""The audit chain anchored outside the database (issue 10 part 6, R11.2).

The event chain detects an edited or removed row in the middle, but whoever can write to the database
can delete the newest events and move the chain head back: what is left is a valid, shorter chain. So
the chain head (and the access log's end) is written, signed with the audit key, to a file outside the
database — appended JSON lines at `SHOUHU_AUDIT_CHECKPOINT_FILE`, written every hour by huey
(`audit_checkpoint`), which the operator ships elsewhere (syslog, another host, WORM storage).
`verify_audit` then checks every checkpoint against the database: a chain that ends before a
checkpoint's sequence number, or holds another event under that number, was cut.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from shouhu.core.events import seal_key
from shouhu.core.models import AccessLogHead, AuditChainHead, Event

VERSION = 1


def checkpoint_path() -> Path:
    return Path(settings.SHOUHU_AUDIT_CHECKPOINT_FILE)


def key_id(key: bytes | None = None) -> str:
    """A public fingerprint of the audit key, so a checkpoint names the key that signed it."""
    return hashlib.sha256(b"shouhu-key-fingerprint:" + (key or seal_key())).hexdigest()[:16]


def _sign(body: dict[str, Any], key: bytes) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, b"shouhu-checkpoint:" + text.encode(), hashlib.sha256).hexdigest()


def current_head() -> dict[str, Any]:
    """What a checkpoint records: the event chain's last sequence number and seal, the access log's end."""
    head = AuditChainHead.objects.filter(id=1).first()
    access = AccessLogHead.objects.filter(id=1).first()
    return {
        "seq": head.last_seq if head else 0,
        "hash": head.last_hash if head else "0" * 64,
        "access_last": access.last_seq if access else 0,
    }


def read_checkpoints(path: Path | None = None) -> list[tuple[int, dict[str, Any] | None]]:
    """(line number, parsed line or None when it is not JSON) for every non-empty line."""
    path = path or checkpoint_path()
    if not path.exists():
        return []
    out: list[tuple[int, dict[str, Any] | None]] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                value = None
            out.append((n, value if isinstance(value, dict) else None))
    return out


def _append(path: Path, line: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def write_rekey(old_key: bytes, new_key: bytes, path: Path | None = None) -> dict[str, Any]:
    """After `rotate_keys` re-sealed the chain: a line signed with the new key that names the keys it
    supersedes and the head at the moment of the change. Lines signed with a superseded key are then
    no longer checkable, but this line covers their heads (it is at least as far along)."""
    path = path or checkpoint_path()
    kids = sorted(
        {str(c.get("kid")) for _n, c in read_checkpoints(path) if c is not None} | {key_id(old_key)}
    )
    body = {"v": VERSION, **current_head(), "rekey": True, "supersedes": kids}
    body["at"] = timezone.now().astimezone(UTC).isoformat()
    body["kid"] = key_id(new_key)
    _append(path, {**body, "mac": _sign(body, new_key)})
    return body


def write_checkpoint(path: Path | None = None, at: datetime | None = None) -> dict[str, Any]:
    """Append a signed line with the current heads (fsynced). Nothing new since the last line: nothing
    written, so the hourly task does not grow the file on a quiet night."""
    path = path or checkpoint_path()
    key = seal_key()
    body = {"v": VERSION, **current_head()}
    previous = [c for _n, c in read_checkpoints(path) if c is not None]
    if previous and all(previous[-1].get(k) == body[k] for k in ("seq", "hash", "access_last")):
        return {**body, "written": False, "file": str(path)}
    body["at"] = (at or timezone.now()).astimezone(UTC).isoformat()
    body["kid"] = key_id(key)
    _append(path, {**body, "mac": _sign(body, key)})
    return {**body, "written": True, "file": str(path)}


def verify_checkpoints(path: Path | None = None) -> tuple[list[str], int]:
    """(problems, checkpoints checked). A line that is not JSON or whose signature fails is a problem
    (edited, or forged without the key); each valid one must still be in the chain."""
    key = seal_key()
    kid = key_id(key)
    problems: list[str] = []
    checked = 0
    head = current_head()
    lines = read_checkpoints(path)
    superseded: set[str] = set()  # keys replaced by `rotate_keys`, vouched for by a line of this key
    for _n, cp in lines:
        if cp is not None and cp.get("rekey") and cp.get("kid") == kid:
            body = {k: v for k, v in cp.items() if k != "mac"}
            if hmac.compare_digest(str(cp.get("mac", "")), _sign(body, key)):
                superseded |= {str(k) for k in cp.get("supersedes", []) if k != kid}
    for n, cp in lines:
        if cp is None:
            problems.append(f"checkpoint line {n}: not a checkpoint (damaged file)")
            continue
        body = {k: v for k, v in cp.items() if k != "mac"}
        if cp.get("kid") in superseded:
            continue
        if cp.get("kid") != kid:
            problems.append(f"checkpoint line {n}: signed with another audit key ({cp.get('kid')})")
            continue
        if not hmac.compare_digest(str(cp.get("mac", "")), _sign(body, key)):
            problems.append(f"checkpoint line {n}: signature invalid (the line was edited)")
            continue
        checked += 1
        seq, at = int(cp.get("seq", 0)), cp.get("at", "?")
        if head["seq"] < seq:
            problems.append(
                f"chain ends at seq {head['seq']}, but the checkpoint of {at} saw seq {seq}: "
                "events removed from the end"
            )
        elif seq:
            stored = Event.objects.filter(seq=seq).values_list("hash", flat=True).first()
            if stored is None:
                problems.append(f"event seq {seq} of the checkpoint of {at} is missing")
            elif not hmac.compare_digest(stored, str(cp.get("hash", ""))):
                problems.append(
                    f"event seq {seq} differs from the checkpoint of {at}: the chain was rewritten"
                )
        if head["access_last"] < int(cp.get("access_last", 0)):
            problems.append(
                f"access log ends at #{head['access_last']}, but the checkpoint of {at} saw "
                f"#{cp['access_last']}: rows removed from the end"
            )
    return problems, checked
