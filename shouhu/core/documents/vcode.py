"""Verification codes printed on generated documents (R11.6).

16 characters of Crockford's base32 alphabet (no I, L, O, U: nothing to misread on paper): 15 random
ones (75 bits, from `secrets`, so codes cannot be guessed or enumerated) and a check character by
ISO 7064 MOD 37,36's hybrid method over that alphabet (stdnum), so a mistyped code is told apart from a
code that was never issued. Shown in four groups: `7K3F-9QX2-MM4T-8ZPA`.
"""

from __future__ import annotations

import re
import secrets

from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
# What people type for the letters Crockford leaves out.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·]+")


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return body + mod_37_36.calc_check_digit(body, alphabet=ALPHABET)


def normalize(text: str) -> str:
    """Upper case, separators dropped, look-alike letters read as digits."""
    return _SEPARATORS.sub("", (text or "").strip().upper()).translate(_CONFUSABLE)


def well_formed(code: str) -> bool:
    """Length, alphabet and check character (on a normalized code)."""
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return False
    return mod_37_36.is_valid(code, alphabet=ALPHABET)


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
