"""Encryption at rest and blind indexes for ID numbers and phone numbers (R11.3, PIPL art. 51).

Values are encrypted with Fernet (AES-128-CBC + HMAC, from `cryptography`); several comma-separated
keys in SHOUHU_FIELD_KEY allow rotation (the first encrypts, all decrypt). Exact lookup goes through a
keyed HMAC-SHA256 "blind index" of the normalised value, so the database never holds the plain number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _derived_key(purpose: str) -> bytes:
    """A demo key derived from SECRET_KEY, used only when the deployment sets none."""
    return hashlib.sha256(f"shouhu:{purpose}:{settings.SECRET_KEY}".encode()).digest()


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    configured = [k.strip() for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k.strip()]
    keys = configured or [base64.urlsafe_b64encode(_derived_key("field")).decode()]
    return MultiFernet([Fernet(k) for k in keys])


@lru_cache(maxsize=1)
def _index_key() -> bytes:
    return settings.BLIND_INDEX_KEY.encode() if settings.BLIND_INDEX_KEY else _derived_key("index")


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong or rotated-away key must fail loudly, never show garbage
        raise ValueError("cannot decrypt a protected field: check SHOUHU_FIELD_KEY") from exc


def blind_index(kind: str, normalized: str) -> str:
    """Deterministic keyed digest for exact-match lookup of `normalized` (already validated)."""
    return hmac.new(_index_key(), f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()[:40]


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
