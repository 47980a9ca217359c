"""Encryption at rest of generated documents and attachments (R11.3, PIPL art. 51).

Fernet (AES-128-CBC + HMAC-SHA256) with its own key setting, SHOUHU_FILE_KEY, separate from the field
key: several comma-separated keys allow a gradual change (the first encrypts, all decrypt); `rotate_keys`
re-encrypts every stored file at once. Uploaded ledgers are kept encrypted with the same key while their
import job runs (crypto.EncryptedBinaryField, ledger/models.py).
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet

from shouhu.core.crypto import file_fernet
from shouhu.core.documents.models import StoredFile


def _fernet() -> MultiFernet:
    return file_fernet()


def store(data: bytes) -> StoredFile:
    """Encrypt and save; the caller's transaction makes it part of the same write."""
    return StoredFile.objects.create(data=_fernet().encrypt(data))


def load(stored: StoredFile | None) -> bytes:
    if stored is None:
        raise FileNotFoundError("content removed")
    token = bytes(stored.data)
    try:
        return _fernet().decrypt(token)
    except InvalidToken as exc:  # a wrong or rotated-away key must fail loudly, never serve garbage
        raise ValueError("cannot decrypt a stored file: check SHOUHU_FILE_KEY") from exc


def load_by_id(stored_id: Any) -> bytes:
    return load(StoredFile.objects.filter(pk=stored_id).first())
