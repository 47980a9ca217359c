"""Key rotation (issue 10 part 4, R11.3): re-encrypt every protected value from one key set to another,
in one transaction — all or nothing.

- Encrypted fields (`EncryptedTextField`: ID numbers, phones, reporters, document names) are decrypted
  with the old field key and encrypted with the new one; their blind indexes (`<field>_index`) are
  recomputed with the new index key.
- Stored files (documents, attachments) and uploads waiting in import jobs: old file key → new.
- With a new audit key, the event chain and the access log are first verified under the old key (a
  broken chain is never re-sealed: that would launder tampering), then re-sealed under the new one; a
  `rekey` line signed with the new key is appended to the checkpoint file (checkpoints.py).

Columns are read and written with plain SQL so that the model fields' own decryption (with the keys
in the settings) never runs on values under another key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.apps import apps
from django.db import connection, models, transaction

from shouhu.core.crypto import EncryptedBinaryField, EncryptedTextField, KeySet

# Encrypted field name → blind-index kind (the `<field>_index` column beside it).
INDEXED = {"id_number": "id", "phone": "phone"}
CHUNK = 2000


class RotationRefused(Exception):
    """Nothing was changed; the message says why."""


def _rows(table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(qn(c) for c in columns)} FROM {qn(table)}")
        while batch := cur.fetchmany(CHUNK):
            yield from batch


def _update(table: str, pk: str, columns: list[str], rows: list[list[Any]]) -> None:
    if not rows:
        return
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(c)} = %s" for c in columns)
    with connection.cursor() as cur:
        cur.executemany(f"UPDATE {qn(table)} SET {sets} WHERE {qn(pk)} = %s", rows)


def _column(field: Any) -> str:
    return str(field.column)


def _either(old: tuple[str, ...], new: tuple[str, ...]) -> MultiFernet:
    """Decrypt with the old keys, or the new ones for a value already moved: a rotation run again after
    a crash between the commit and the key file's replacement finishes the job instead of failing."""
    return MultiFernet([Fernet(k) for k in (*old, *new)])


def _reencrypt_fields(model: type[models.Model], old: KeySet, new: KeySet) -> int:
    fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    binaries = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedBinaryField)]
    if not fields and not binaries:
        return 0
    names = {f.name for f in model._meta.concrete_fields}
    indexed = [(f, f"{f.name}_index", INDEXED[f.name]) for f in fields if f.name in INDEXED]
    indexed = [(f, idx, kind) for f, idx, kind in indexed if idx in names]
    pk = _column(model._meta.pk)
    cols = [_column(f) for f in (*fields, *binaries)]
    out_cols = cols + [_column(model._meta.get_field(idx)) for _f, idx, _k in indexed]
    old_f, new_f = _either(old.field, new.field), new.field_fernet()
    old_b, new_b = _either(old.file, new.file), new.file_fernet()
    done, pending = 0, []
    for row in _rows(model._meta.db_table, [pk, *cols]):
        key, values = row[0], list(row[1:])
        plain: dict[str, str] = {}
        out: list[Any] = []
        for f, v in zip(fields, values[: len(fields)], strict=True):
            if v in (None, ""):
                out.append(v)
                continue
            text = old_f.decrypt(str(v).encode()).decode()
            plain[f.name] = text
            out.append(new_f.encrypt(text.encode()).decode())
        for v in values[len(fields) :]:
            out.append(None if v is None else new_b.encrypt(old_b.decrypt(bytes(v))))
        for f, _idx, kind in indexed:
            text = plain.get(f.name, "")
            out.append(new.blind_index(kind, text) if text else (None if f.null else ""))
        pending.append([*out, key])
        done += 1
        if len(pending) >= CHUNK:
            _update(model._meta.db_table, pk, out_cols, pending)
            pending = []
    _update(model._meta.db_table, pk, out_cols, pending)
    return done


def _stored_files(old: KeySet, new: KeySet) -> int:
    from shouhu.core.documents.models import StoredFile

    table, pk = StoredFile._meta.db_table, _column(StoredFile._meta.pk)
    old_b, new_b = _either(old.file, new.file), new.file_fernet()
    n, pending = 0, []
    for key, data in _rows(table, [pk, "data"]):
        pending.append([new_b.encrypt(old_b.decrypt(bytes(data))), key])
        n += 1
        if len(pending) >= 200:  # files are large: small batches
            _update(table, pk, ["data"], pending)
            pending = []
    _update(table, pk, ["data"], pending)
    return n


def _reseal(old: KeySet, new: KeySet) -> dict[str, int]:
    """Verify the chain and the access log under the old audit key, then seal them under the new one."""
    from shouhu.core.accesslog import head_mac, row_mac
    from shouhu.core.events import seal_event
    from shouhu.core.models import AccessLog, AccessLogHead, AuditChainHead, Event

    head = AuditChainHead.objects.select_for_update().filter(id=1).first()
    prev_old, prev_new, expected = "0" * 64, "0" * 64, 1
    batch: list[Event] = []
    for ev in Event.objects.order_by("seq").iterator(chunk_size=CHUNK):
        if ev.seq != expected or ev.prev_hash != prev_old or seal_event(ev, old.audit) != ev.hash:
            raise RotationRefused(f"the event chain is broken at seq {ev.seq}: run verify_audit")
        prev_old, expected = ev.hash, ev.seq + 1
        ev.prev_hash = prev_new
        ev.hash = prev_new = seal_event(ev, new.audit)
        batch.append(ev)
        if len(batch) >= CHUNK:
            Event.objects.bulk_update(batch, ["prev_hash", "hash"])
            batch = []
    Event.objects.bulk_update(batch, ["prev_hash", "hash"])
    if head is not None:
        if head.last_seq != expected - 1:
            raise RotationRefused("the chain head does not match the last event: run verify_audit")
        AuditChainHead.objects.filter(id=1).update(last_hash=prev_new)
    access = AccessLogHead.objects.select_for_update().filter(id=1).first()
    rows: list[AccessLog] = []
    n = 0
    for row in AccessLog.objects.order_by("seq").iterator(chunk_size=CHUNK):
        if row.mac != row_mac(row, old.audit):
            raise RotationRefused(f"access-log row #{row.seq} is altered: run verify_audit")
        row.mac = row_mac(row, new.audit)
        rows.append(row)
        n += 1
        if len(rows) >= CHUNK:
            AccessLog.objects.bulk_update(rows, ["mac"])
            rows = []
    AccessLog.objects.bulk_update(rows, ["mac"])
    if access is not None:
        AccessLogHead.objects.filter(id=1).update(mac=head_mac(access, new.audit))
    return {"events": expected - 1, "access_rows": n}


def rotate(old: KeySet, new: KeySet) -> dict[str, int]:
    """Re-encrypt everything from `old` to `new` in one transaction; the audit seals only when the audit
    key changes. Raises RotationRefused (or a decryption error) with nothing changed."""
    from cryptography.fernet import InvalidToken

    summary: dict[str, int] = {}
    try:
        with transaction.atomic():
            for model in apps.get_models():
                n = _reencrypt_fields(model, old, new)
                if n:
                    summary[model._meta.label_lower] = n
            summary["stored_files"] = _stored_files(old, new)
            if old.audit != new.audit:
                summary.update(_reseal(old, new))
    except InvalidToken:
        raise RotationRefused(
            "a value does not decrypt with the old keys: nothing was changed (are the old keys right?)"
        ) from None
    return summary
