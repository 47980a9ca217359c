"""Backups that restore (issue 10 part 10, R11.4; API.md `backup OUT` / `restore IN`).

A backup is one tar file:
- `database.dump` (PostgreSQL, `pg_dump --format=custom`) or `database.sqlite3` (SQLite, the online
  backup API: a consistent copy while the server runs);
- `audit-checkpoints.jsonl`: the signed checkpoints up to the backup (a copy; the operator's own copy,
  shipped elsewhere, stays the reference);
- `manifest.json`: format version, time, engine, the migrations applied, the fingerprints of the keys
  (never the keys: they are kept apart, docs/operations.md), the audit chain's head, row counts and
  each member's SHA-256.

`restore` checks the manifest and the digests, refuses keys other than the backup's and a target
database that is not empty, restores, then verifies the result in a separate process against that
database: the audit chain and access log (with the backup's checkpoints), the head equal to the
manifest's, and a sample of encrypted fields and stored files that must decrypt.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

FORMAT = "shouhu-backup"
VERSION = 1
MANIFEST = "manifest.json"
CHECKPOINTS = "audit-checkpoints.jsonl"
PG_DUMP = "database.dump"
SQLITE_DUMP = "database.sqlite3"


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why and what to do."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _engine(db: Mapping[str, Any]) -> str:
    engine = str(db["ENGINE"])
    if "sqlite" in engine:
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"unsupported database engine {engine}")


def _pg_env(db: Mapping[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return proc.stdout


def describe() -> dict[str, Any]:
    """What the manifest says of the database in use: migrations, keys, audit head, counts."""
    from shouhu.core.checkpoints import current_head
    from shouhu.core.crypto import KeySet
    from shouhu.core.documents.models import StoredFile
    from shouhu.core.models import AccessLog, Event

    with connection.cursor() as cur:
        cur.execute("SELECT app, name FROM django_migrations ORDER BY id")
        migrations: dict[str, list[str]] = {}
        for app, name in cur.fetchall():
            migrations.setdefault(app, []).append(name)
    # The registry sits above core: its model is looked up by label, not imported (DESIGN layers).
    Child = apps.get_model("registry", "Child")

    return {
        "migrations": migrations,
        "key_fingerprints": KeySet.from_settings().fingerprints(),
        "audit_head": current_head(),
        "counts": {
            "events": Event.objects.count(),
            "access_log": AccessLog.objects.count(),
            "children": Child.objects.count(),
            "stored_files": StoredFile.objects.count(),
        },
    }


def _dump_sqlite(target: Path) -> None:
    connection.ensure_connection()
    raw = connection.connection
    dst = sqlite3.connect(target)
    try:
        raw.backup(dst)  # the online backup API: consistent while others write
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the copy fails SQLite's integrity check")
    finally:
        dst.close()


def _dump_pg(db: Mapping[str, Any], target: Path) -> None:
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), str(db["NAME"])], _pg_env(db))
    _run(["pg_restore", "--list", str(target)])  # readable by pg_restore: a verified dump


def backup(out: Path) -> dict[str, Any]:
    """Write the backup tar to `out` and return its manifest."""
    from importlib.metadata import PackageNotFoundError, version

    from shouhu.core.checkpoints import checkpoint_path, write_checkpoint

    try:
        app_version = version("shouhu")
    except PackageNotFoundError:
        app_version = "unknown"
    db = connection.settings_dict
    engine = _engine(db)
    write_checkpoint()  # the head as backed up is anchored outside the database too
    with tempfile.TemporaryDirectory(prefix="shouhu-backup-") as tmp:
        work = Path(tmp)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "app_version": app_version,
            "created_at": timezone.now().isoformat(),
            "engine": engine,
            **describe(),
        }
        dump = work / (SQLITE_DUMP if engine == "sqlite" else PG_DUMP)
        if engine == "sqlite":
            _dump_sqlite(dump)
        else:
            _dump_pg(db, dump)
        members = [dump]
        cp = checkpoint_path()
        if cp.exists():
            (work / CHECKPOINTS).write_bytes(cp.read_bytes())
            members.append(work / CHECKPOINTS)
        manifest["files"] = {m.name: _sha256(m) for m in members}
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f, tarfile.open(fileobj=f, mode="w") as tar:
            for m in [work / MANIFEST, *members]:
                tar.add(m, arcname=m.name)
        os.replace(partial, out)
    return manifest


def read_manifest(path: Path, into: Path) -> dict[str, Any]:
    """Extract the backup into `into`, check its manifest and digests."""
    try:
        with tarfile.open(path) as tar:
            names = tar.getnames()
            allowed = {MANIFEST, CHECKPOINTS, PG_DUMP, SQLITE_DUMP}
            if not set(names) <= allowed or MANIFEST not in names:
                raise BackupError(f"{path}: not a Shouhu backup (members {names})")
            tar.extractall(into, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{path}: cannot read the backup ({exc})") from None
    manifest = json.loads((into / MANIFEST).read_text("utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')} {manifest.get('version')}")
    for name, digest in manifest.get("files", {}).items():
        if not (into / name).exists() or _sha256(into / name) != digest:
            raise BackupError(
                f"{path}: {name} does not match its digest in the manifest (damaged or altered)"
            )
    return dict(manifest)


def _target(url: str | None) -> dict[str, Any]:
    if url:
        return dict(dj_database_url.parse(url))
    return dict(connection.settings_dict)


def _is_empty(db: Mapping[str, Any], engine: str) -> bool:
    if engine == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or not Path(name).exists():
            return True
        con = sqlite3.connect(name)
        try:
            return con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] == 0
        finally:
            con.close()
    out = _run(
        [
            "psql",
            "-tA",
            "-d",
            str(db["NAME"]),
            "-c",
            "SELECT count(*) FROM pg_tables WHERE schemaname='public'",
        ],
        _pg_env(db),
    )
    return out.strip() == "0"


def restore(path: Path, url: str | None = None) -> dict[str, Any]:
    """Restore the backup into the (empty) database named by `url` (default: the configured one), then
    verify it. Returns the manifest with the verification's findings."""
    from shouhu.core.crypto import KeySet

    db = _target(url)
    engine = _engine(db)
    with tempfile.TemporaryDirectory(prefix="shouhu-restore-") as tmp:
        work = Path(tmp)
        manifest = read_manifest(path, work)
        if manifest["engine"] != engine:
            raise BackupError(f"the backup is of {manifest['engine']}, the target database is {engine}")
        mine = KeySet.from_settings().fingerprints()
        if mine != manifest["key_fingerprints"]:
            wrong = sorted(k for k in mine if mine[k] != manifest["key_fingerprints"].get(k))
            raise BackupError(
                f"the configured keys are not those of the backup ({', '.join(wrong)}): configure the keys "
                f"kept with it (fingerprints {manifest['key_fingerprints']}), docs/operations.md"
            )
        if not _is_empty(db, engine):
            raise BackupError(f"the target database {db['NAME']} is not empty: restore into an empty one")
        if engine == "sqlite":
            src = sqlite3.connect(work / SQLITE_DUMP)
            dst = sqlite3.connect(str(db["NAME"]))
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
        else:
            _run(
                ["pg_restore", "--no-owner", "--exit-on-error", "-d", str(db["NAME"]), str(work / PG_DUMP)],
                _pg_env(db),
            )
        cp = work / CHECKPOINTS
        manifest["verified"] = verify_in_child(db, engine, cp if cp.exists() else None, manifest)
    return manifest


def _url(db: Mapping[str, Any], engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = f"{db.get('USER') or ''}{':' + str(db['PASSWORD']) if db.get('PASSWORD') else ''}"
    return f"postgres://{auth}@{db.get('HOST') or ''}:{db.get('PORT') or 5432}/{db['NAME']}"


def verify_in_child(
    db: Mapping[str, Any], engine: str, checkpoints: Path | None, manifest: Mapping[str, Any]
) -> dict[str, Any]:
    """Run `restore --verify-only` against the restored database in its own process (its own settings,
    its own connection), with the backup's checkpoints."""
    env = dict(os.environ, DATABASE_URL=_url(db, engine))
    cp = checkpoints or Path(tempfile.gettempdir()) / "shouhu-no-checkpoints.jsonl"
    env["SHOUHU_AUDIT_CHECKPOINT_FILE"] = str(cp)
    expected = json.dumps(manifest["audit_head"])
    cmd = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "restore", "--verify-only", expected]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(
            f"the restored database does not verify: {(proc.stderr or proc.stdout).strip()[-1500:]}"
        )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def verify_here(expected_head: Mapping[str, Any], sample: int = 20) -> dict[str, Any]:
    """In the restored database: the audit chain, the access log and the checkpoints intact, the head
    the manifest's, and a sample of encrypted fields and stored files decrypting with the keys."""
    from django.core.management import call_command

    from shouhu.core.checkpoints import current_head
    from shouhu.core.documents.models import StoredFile
    from shouhu.core.documents.storage import load

    Child = apps.get_model("registry", "Child")  # looked up by label: the registry sits above core

    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit", stdout=out, stderr=err)  # raises CommandError when broken
    head = current_head()
    if head != dict(expected_head):
        raise BackupError(f"audit head {head} is not the manifest's {dict(expected_head)}")
    files = 0
    for stored in StoredFile.objects.order_by("?")[:sample]:
        load(stored)
        files += 1
    ids = 0
    for child in Child.objects.exclude(id_number=None).order_by("?")[:sample]:
        if child.id_number:
            ids += 1
    return {"audit": out.getvalue().strip(), "files_decrypted": files, "id_numbers_decrypted": ids}
