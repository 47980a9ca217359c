"""Where the platform's keys come from (issue 10 part 4, R11.3): the environment first, else a key file
generated once with fresh random keys (the demo's `.shouhu-keys.json`, git-ignored, mode 0600).

Five separate keys, none derived from another:
- SECRET_KEY (sessions, CSRF, password-reset tokens): SHOUHU_SECRET_KEY;
- the field key (Fernet, ID numbers and phones): SHOUHU_FIELD_KEY;
- the blind-index key (HMAC of identifiers for exact look-up): SHOUHU_INDEX_KEY;
- the audit key (HMAC seals of the event chain, the access log and the checkpoints): SHOUHU_AUDIT_KEY;
- the file key (Fernet, stored documents, attachments and uploaded ledgers): SHOUHU_FILE_KEY.

Plain Python (no Django): settings.py imports it. The public demo key of earlier versions is kept here
only so that the system check can refuse it and every key once derived from it (shouhu/core/checks.py,
shouhu/core/crypto.py `KeySet.legacy`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

# Published in the repository until issue 10: never acceptable outside a demo with DEBUG on.
DEMO_SECRET_KEY = "shouhu-demo-insecure-key-change-me-in-production-0123456789"

# Setting name → environment variable.
KEY_ENV = {
    "SECRET_KEY": "SHOUHU_SECRET_KEY",
    "FIELD_ENCRYPTION_KEY": "SHOUHU_FIELD_KEY",
    "BLIND_INDEX_KEY": "SHOUHU_INDEX_KEY",
    "AUDIT_SEAL_KEY": "SHOUHU_AUDIT_KEY",
    "FILE_ENCRYPTION_KEY": "SHOUHU_FILE_KEY",
}
FERNET_KEYS = ("FIELD_ENCRYPTION_KEY", "FILE_ENCRYPTION_KEY")


def fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def new_keys() -> dict[str, str]:
    """A fresh set of the five keys (what the key file holds, and what `rotate_keys` rotates to)."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": fernet_key(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "AUDIT_SEAL_KEY": secrets.token_urlsafe(32),
        "FILE_ENCRYPTION_KEY": fernet_key(),
    }


def write_key_file(path: Path, keys: Mapping[str, str]) -> None:
    """Write the keys readable by the owner only, replacing the file atomically."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(dict(keys), f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def _read_or_create(path: Path) -> dict[str, str]:
    if not path.exists():
        keys = new_keys()
        try:  # O_EXCL: two processes starting together (test workers) end up with the same file
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(keys, f, indent=1)
                f.write("\n")
            return keys
    for _attempt in range(50):  # the other process may still be writing it
        with contextlib.suppress(ValueError):
            data = json.loads(path.read_text("utf-8"))
            if isinstance(data, dict) and all(isinstance(data.get(k), str) for k in KEY_ENV):
                return {k: data[k] for k in KEY_ENV}
        import time

        time.sleep(0.1)
    raise RuntimeError(f"{path}: not a key file (expected {', '.join(KEY_ENV)}); set the keys or remove it")


def load_keys(key_file: Path, environ: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The five keys and where each came from ("env" or the file). The file is read (and created) only
    when some key is not in the environment."""
    keys = {name: environ.get(var, "").strip() for name, var in KEY_ENV.items()}
    source = {name: "env" for name, value in keys.items() if value}
    missing = [name for name, value in keys.items() if not value]
    if missing:
        stored = _read_or_create(key_file)
        for name in missing:
            keys[name] = stored[name]
            source[name] = str(key_file)
    return keys, source
