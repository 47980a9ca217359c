"""What every part of the ledger export shares: the layouts, the refusal, and the formula guard."""

from __future__ import annotations

LAYOUTS = ("official", "platform")
STATUSES = ("left_behind", "all", "key_target")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """An export that cannot be made as asked; the message says why, in Chinese, for the user."""


def neutralise(value: str) -> str:
    """CSV/formula injection (OWASP): a text cell never starts with a formula character."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
