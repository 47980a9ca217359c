"""Backups that restore (issue 10 part 10, R11.4): `backup` then `restore` into a fresh database, where
`verify_audit` passes and a sample of files and ID numbers decrypts (SQLite's online backup API in normal
runs; pg_dump / pg_restore when DATABASE_URL is PostgreSQL). Damaged backups, other keys and non-empty
targets are refused."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import uuid
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from shouhu.core.accesslog import record_read
from shouhu.core.checkpoints import write_checkpoint
from shouhu.core.crypto import reset_key_caches
from shouhu.core.documents import storage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_db(tmp_path: Path) -> Any:
    """The URL of a new, empty database of the engine in use (dropped afterwards on PostgreSQL)."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"shouhu_restore_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    yield f"postgres://{db['USER']}{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    with connection.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def data(make_child: Any, users: dict[str, Any]) -> dict[str, Any]:
    child = make_child()
    stored = storage.store(b"%PDF-1.7 petition")
    record_read(user=users["vw"], action="view", child_id=child.pk)
    write_checkpoint()
    return {"child": child, "stored": stored}


def _backup(path: Path) -> dict[str, Any]:
    out = StringIO()
    call_command("backup", str(path), stdout=out)
    return json.loads(out.getvalue())


def test_backup_restores_into_a_fresh_database_and_verifies(
    data: dict[str, Any], tmp_path: Path, fresh_db: str
) -> None:
    path = tmp_path / "shouhu.backup"
    summary = _backup(path)
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        names = set(tar.getnames())
    dump = "database.sqlite3" if connection.vendor == "sqlite" else "database.dump"
    assert names == {"manifest.json", dump, "audit-checkpoints.jsonl"}
    assert manifest["engine"] == summary["engine"] and manifest["counts"]["children"] >= 1
    assert "0001_initial" in manifest["migrations"]["registry"]
    assert set(manifest["key_fingerprints"]) == {"field", "index", "audit", "file"}
    assert manifest["audit_head"]["seq"] >= 1 and len(manifest["audit_head"]["hash"]) == 64
    raw = path.read_bytes()
    assert data["child"].id_number.encode() not in raw  # fields stay encrypted in the backup
    out = StringIO()
    call_command("restore", str(path), "--database-url", fresh_db, stdout=out)
    result = json.loads(out.getvalue())
    verified = result["verified"]
    assert "audit chain intact" in verified["audit"] and "checkpoint(s) hold" in verified["audit"]
    assert verified["files_decrypted"] >= 1 and verified["id_numbers_decrypted"] >= 1
    assert result["audit_head"] == manifest["audit_head"]
    if connection.vendor == "sqlite":
        con = sqlite3.connect(fresh_db.removeprefix("sqlite:///"))
        assert (
            con.execute("SELECT count(*) FROM registry_child").fetchone()[0] == manifest["counts"]["children"]
        )
        con.close()
    # A second restore into the same (now full) database is refused.
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(path), "--database-url", fresh_db, stdout=StringIO())


def test_a_damaged_backup_and_other_keys_are_refused(
    data: dict[str, Any], tmp_path: Path, fresh_db: str
) -> None:
    path = tmp_path / "shouhu.backup"
    _backup(path)
    with override_settings(FILE_ENCRYPTION_KEY=Fernet.generate_key().decode()):
        reset_key_caches()
        with pytest.raises(CommandError, match="keys are not those of the backup"):
            call_command("restore", str(path), "--database-url", fresh_db, stdout=StringIO())
    reset_key_caches()
    # Change one byte of the checkpoints inside the tar: the digest no longer matches.
    altered = tmp_path / "altered.backup"
    with tarfile.open(path) as src, tarfile.open(altered, "w") as dst:
        for member in src.getmembers():
            content = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "audit-checkpoints.jsonl":
                content = content.replace(b'"seq"', b'"SEQ"', 1)
            member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
    with pytest.raises(CommandError, match="does not match its digest"):
        call_command("restore", str(altered), "--database-url", fresh_db, stdout=StringIO())
    with pytest.raises(CommandError, match=r"not a Shouhu backup|cannot read"):
        bogus = tmp_path / "bogus.backup"
        bogus.write_bytes(b"not a tar")
        call_command("restore", str(bogus), "--database-url", fresh_db, stdout=StringIO())
