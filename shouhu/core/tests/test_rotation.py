"""Key rotation round trip (issue 10 part 4, R11.3): `rotate_keys` re-encrypts fields, recomputes blind
indexes, re-encrypts stored files and uploads and re-seals the audit chain — all or nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from config.keys import DEMO_SECRET_KEY, KEY_ENV, write_key_file
from shouhu.core.accesslog import record_read
from shouhu.core.checkpoints import write_checkpoint
from shouhu.core.crypto import KeySet, blind_index, reset_key_caches
from shouhu.core.documents import storage
from shouhu.ledger.models import ImportJob
from shouhu.registry.models import Child, Parent

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_file(tmp_path: Path) -> Any:
    """The configured keys, copied to a key file of the test's own (the command replaces it)."""
    path = tmp_path / "keys.json"
    keys = {name: str(getattr(settings, name)) for name in KEY_ENV}
    write_key_file(path, keys)
    with override_settings(
        SHOUHU_KEYS_FILE=path,
        SHOUHU_KEY_SOURCES=dict.fromkeys(KEY_ENV, str(path)),
        SHOUHU_AUDIT_CHECKPOINT_FILE=tmp_path / "cp.jsonl",
        **keys,
    ):
        yield path
    reset_key_caches()


def _pk(pk: Any) -> Any:
    """A UUID as the backend stores it (SQLite: 32 hex digits)."""
    return pk.hex if connection.vendor == "sqlite" and hasattr(pk, "hex") else pk


def _raw(table: str, column: str, pk: Any) -> Any:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [_pk(pk)])
        return cur.fetchone()[0]


def test_rotation_round_trip(key_file: Path, make_child: Any, users: dict[str, Any]) -> None:
    child = make_child()
    number = child.id_number
    parent = Parent.objects.filter(child=child).exclude(phone="").first()
    assert parent is not None
    stored = storage.store(b"%PDF-1.7 a court petition")
    job = ImportJob.objects.create(user=users["sup"], filename="a.xlsx", content=b"PK upload")
    record_read(user=users["vw"], action="view", child_id=child.pk)
    write_checkpoint()
    old = KeySet.from_settings()
    raw_before = _raw("registry_child", "id_number", child.pk)
    index_before = Child.objects.get(pk=child.pk).id_number_index

    out = StringIO()
    call_command("rotate_keys", "--audit", stdout=out)
    summary = json.loads(out.getvalue())["rotated"]
    assert summary["registry.child"] >= 1 and summary["stored_files"] >= 1 and summary["events"] >= 1

    new_file = json.loads(key_file.read_text())
    new = KeySet.from_mapping(new_file)
    assert (
        new.field != old.field and new.index != old.index and new.file != old.file and new.audit != old.audit
    )
    assert new_file["SECRET_KEY"] == str(settings.SECRET_KEY)  # sessions survive
    # Fields: re-encrypted under the new key only; the blind index recomputed, look-up still works.
    raw_after = _raw("registry_child", "id_number", child.pk)
    assert raw_after != raw_before and new.field_fernet().decrypt(raw_after.encode()).decode() == number
    with pytest.raises(InvalidToken):
        old.field_fernet().decrypt(raw_after.encode())
    fresh = Child.objects.get(pk=child.pk)
    assert fresh.id_number == number and fresh.id_number_index != index_before
    assert Child.objects.filter(id_number_index=blind_index("id", number)).get().pk == child.pk
    assert Parent.objects.get(pk=parent.pk).phone == parent.phone
    assert Parent.objects.filter(phone_index=blind_index("phone", parent.phone)).exists()
    # Files and uploads.
    assert storage.load_by_id(stored.pk) == b"%PDF-1.7 a court petition"
    assert ImportJob.objects.get(pk=job.pk).content == b"PK upload"
    # The audit chain, the access log and the checkpoints verify under the new key.
    out = StringIO()
    call_command("verify_audit", stdout=out, stderr=StringIO())
    assert "checkpoint(s) hold" in out.getvalue()


def test_a_failed_rotation_changes_nothing(key_file: Path, make_child: Any, monkeypatch: Any) -> None:
    child = make_child()
    storage.store(b"file")
    before = key_file.read_text()
    raw_before = _raw("registry_child", "id_number", child.pk)

    def broken(old: Any, new: Any) -> int:
        raise ValueError("disk full")

    import shouhu.core.rotation as rotation

    monkeypatch.setattr(rotation, "_stored_files", broken)
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("rotate_keys", stdout=StringIO())
    assert _raw("registry_child", "id_number", child.pk) == raw_before  # the fields rolled back too
    assert key_file.read_text() == before and not key_file.with_name("keys.json.new").exists()


def test_a_broken_chain_is_never_resealed(key_file: Path, make_child: Any) -> None:
    from shouhu.core.models import Event

    make_child()
    Event.objects.filter(seq=Event.objects.latest("seq").seq).update(summary="edited")
    with pytest.raises(CommandError, match="chain is broken"):
        call_command("rotate_keys", "--audit", stdout=StringIO())


def test_data_under_the_old_derived_keys_is_moved_to_the_configured_ones(
    key_file: Path, make_child: Any
) -> None:
    """A database from before issue 10 (keys derived from the demo key) is brought over with
    `rotate_keys --from-derived`; the configured keys are the new ones."""
    legacy = KeySet.legacy(DEMO_SECRET_KEY)
    child = make_child()
    number = child.id_number
    # Put the child's number under the legacy key, as the old version stored it.
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE registry_child SET id_number = %s, id_number_index = %s WHERE id = %s",
            [
                legacy.field_fernet().encrypt(number.encode()).decode(),
                legacy.blind_index("id", number),
                _pk(child.pk),
            ],
        )
    with pytest.raises(ValueError):
        Child.objects.get(pk=child.pk)
    # Only the fields were under the legacy keys here: the chain is sealed with the configured key.
    call_command("rotate_keys", "--old-keys", str(_legacy_fields_file(key_file, legacy)), stdout=StringIO())
    assert Child.objects.get(pk=child.pk).id_number == number
    assert Child.objects.filter(id_number_index=blind_index("id", number)).exists()


def _legacy_fields_file(key_file: Path, legacy: KeySet) -> Path:
    keys = json.loads(key_file.read_text())
    keys["FIELD_ENCRYPTION_KEY"] = legacy.field[0]
    keys["BLIND_INDEX_KEY"] = legacy.index.decode("latin-1")
    path = key_file.with_name("old.json")
    path.write_text(json.dumps(keys))
    return path


def test_the_legacy_keys_are_those_versions_before_issue_10_derived() -> None:
    import base64
    import hashlib

    def derived(purpose: str) -> bytes:
        return hashlib.sha256(f"shouhu:{purpose}:{DEMO_SECRET_KEY}".encode()).digest()

    legacy = KeySet.legacy(DEMO_SECRET_KEY)
    assert legacy.field == (base64.urlsafe_b64encode(derived("field")).decode(),)
    assert legacy.file == (base64.urlsafe_b64encode(derived("file")).decode(),)
    assert legacy.index == derived("index")
    assert legacy.audit == f"shouhu:audit:{DEMO_SECRET_KEY}".encode()
