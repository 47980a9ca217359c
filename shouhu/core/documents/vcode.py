"""Verification codes printed on generated documents (R11.6).

16 characters of Crockford's base32 alphabet (no I, L, O, U: nothing to misread on paper): 15 random
ones (75 bits, from `secrets`, so codes cannot be guessed or enumerated) and a check character, so a
mistyped code is told apart from a code that was never issued. Shown in four groups: `7K3F-9QX2-MM4T-8ZPA`.

The check character is Damm's algorithm over the 32 symbols, with the totally anti-symmetric
quasigroup x∘y = 2x + y of the field GF(32) (Damm 2004). It catches every single wrong character and
every swap of two neighbours. (ISO 7064 MOD 37,36 run over a 32-symbol alphabet, used before, does not:
its modulus 33 is not prime, so some swaps passed.)
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
# What people type for the letters Crockford leaves out.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·]+")


_GF32_POLY = 0b100101  # x^5 + x^2 + 1, irreducible: the symbols are the elements of GF(32)


def _times_two(v: int) -> int:
    """Multiply by the field element x (= 2) in GF(32); 2 is neither 0 nor 1, as Damm's construction needs."""
    v <<= 1
    return v ^ _GF32_POLY if v & 0b100000 else v


def _interim(symbols: str) -> int:
    """Damm's running value: interim ∘ d = 2·interim + d (addition in GF(32) is XOR)."""
    interim = 0
    for ch in symbols:
        interim = _times_two(interim) ^ ALPHABET.index(ch)
    return interim


def check_character(body: str) -> str:
    """The symbol c with interim(body) ∘ c = 0, i.e. c = 2·interim(body)."""
    return ALPHABET[_times_two(_interim(body))]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return body + check_character(body)


def normalize(text: str) -> str:
    """Upper case, separators dropped, look-alike letters read as digits."""
    return _SEPARATORS.sub("", (text or "").strip().upper()).translate(_CONFUSABLE)


def well_formed(code: str) -> bool:
    """Length, alphabet and check character (on a normalized code)."""
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return False
    return _interim(code) == 0


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
