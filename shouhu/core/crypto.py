"""Encryption at rest and blind indexes for ID numbers and phone numbers (R11.3, PIPL art. 51).

Values are encrypted with Fernet (AES-128-CBC + HMAC, from `cryptography`); several comma-separated
keys in SHOUHU_FIELD_KEY allow a gradual change (the first encrypts, all decrypt); `rotate_keys` re-encrypts
everything at once. Exact lookup goes through a
keyed HMAC-SHA256 "blind index" of the normalised value, so the database never holds the plain number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@dataclass(frozen=True)
class KeySet:
    """The data keys as the code uses them (issue 10 part 4): Fernet keys for fields and files (the first
    encrypts, all decrypt), HMAC keys for blind indexes and audit seals. Each comes from its own setting
    (config/keys.py); `rotate_keys` holds two sets at once, the old and the new."""

    field: tuple[str, ...]
    index: bytes
    audit: bytes
    file: tuple[str, ...]

    @classmethod
    def from_mapping(cls, keys: Mapping[str, str]) -> KeySet:
        """From setting-named strings (settings, a key file, the environment)."""

        def fernets(raw: str) -> tuple[str, ...]:
            return tuple(k.strip() for k in raw.split(",") if k.strip())

        return cls(
            field=fernets(keys["FIELD_ENCRYPTION_KEY"]),
            index=keys["BLIND_INDEX_KEY"].encode(),
            audit=keys["AUDIT_SEAL_KEY"].encode(),
            file=fernets(keys["FILE_ENCRYPTION_KEY"]),
        )

    @classmethod
    def from_settings(cls) -> KeySet:
        return cls.from_mapping({name: str(getattr(settings, name, "") or "") for name in KEY_SETTINGS})

    @classmethod
    def legacy(cls, secret_key: str) -> KeySet:
        """The keys versions before issue 10 derived from SECRET_KEY when none was set: refused by the
        system check, and what `rotate_keys --from-derived` re-encrypts data from."""

        def derived(purpose: str) -> bytes:
            return hashlib.sha256(f"shouhu:{purpose}:{secret_key}".encode()).digest()

        return cls(
            field=(base64.urlsafe_b64encode(derived("field")).decode(),),
            index=derived("index"),
            audit=f"shouhu:audit:{secret_key}".encode(),
            file=(base64.urlsafe_b64encode(derived("file")).decode(),),
        )

    def field_fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k) for k in self.field])

    def file_fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k) for k in self.file])

    def blind_index(self, kind: str, normalized: str) -> str:
        return hmac.new(self.index, f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()[:40]

    def fingerprints(self) -> dict[str, str]:
        """Short public digests naming each key (backup manifests, checkpoints): never the key itself."""

        def fp(raw: bytes) -> str:
            return hashlib.sha256(b"shouhu-key-fingerprint:" + raw).hexdigest()[:16]

        return {
            "field": fp(self.field[0].encode()) if self.field else "",
            "index": fp(self.index),
            "audit": fp(self.audit),
            "file": fp(self.file[0].encode()) if self.file else "",
        }


KEY_SETTINGS = ("FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY", "AUDIT_SEAL_KEY", "FILE_ENCRYPTION_KEY")


@lru_cache(maxsize=1)
def current_keys() -> KeySet:
    return KeySet.from_settings()


def _fernet() -> MultiFernet:
    return _field_fernet()


@lru_cache(maxsize=1)
def _field_fernet() -> MultiFernet:
    return current_keys().field_fernet()


@lru_cache(maxsize=1)
def file_fernet() -> MultiFernet:
    return current_keys().file_fernet()


def reset_key_caches() -> None:
    """After the key settings changed (tests, `rotate_keys`)."""
    current_keys.cache_clear()
    _field_fernet.cache_clear()
    file_fernet.cache_clear()


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong or rotated-away key must fail loudly, never show garbage
        raise ValueError("cannot decrypt a protected field: check SHOUHU_FIELD_KEY") from exc


def blind_index(kind: str, normalized: str) -> str:
    """Deterministic keyed digest for exact-match lookup of `normalized` (already validated)."""
    return current_keys().blind_index(kind, normalized)


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plain value. Not searchable: pair it with a
    blind-index column."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedBinaryField(models.BinaryField):
    """Bytes stored encrypted with the file key (SHOUHU_FILE_KEY): an uploaded ledger while its import
    job runs (issue 10 part 5). Python code sees the plain bytes; None stays None (content deleted)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> bytes | None:
        if value is None:
            return None
        try:
            return file_fernet().decrypt(bytes(value))
        except InvalidToken as exc:
            raise ValueError("cannot decrypt a stored upload: check SHOUHU_FILE_KEY") from exc

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is not None and not prepared:
            value = file_fernet().encrypt(bytes(value))
        return super().get_db_prep_value(value, connection, prepared)
