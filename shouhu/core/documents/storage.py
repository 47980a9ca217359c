"""Encryption at rest of generated documents and attachments (R11.3, PIPL art. 51).

Fernet (AES-128-CBC + HMAC-SHA256) with its own key setting, SHOUHU_FILE_KEY, separate from the field
key: several comma-separated keys allow rotation (the first encrypts, all decrypt). Without one, a demo
key is derived from SECRET_KEY, as for the other keys (crypto.py).
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from shouhu.core.crypto import _derived_key
from shouhu.core.documents.models import StoredFile


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    configured = [k.strip() for k in getattr(settings, "FILE_ENCRYPTION_KEY", "").split(",") if k.strip()]
    keys = configured or [base64.urlsafe_b64encode(_derived_key("file")).decode()]
    return MultiFernet([Fernet(k) for k in keys])


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
