"""Pinyin keys for searching people by name (R1.8).

Why: staff in the field search on a phone keyboard, often typing pinyin or its initials ("zxm" for
张晓明). pypinyin reads characters by their most common reading, which is wrong for many surnames:
曾 is "ceng" in 曾经 but "zeng" as a surname, 单 is "dan" but the surname is "shan". A child who
cannot be found is a child whose visit is missed, so the surname readings are corrected here.

The correction only applies to the first character(s) of a name, because Chinese names put the
surname first; the same character later in the given name keeps pypinyin's reading.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

__all__ = ["SURNAME_READINGS", "name_pinyin", "search_key"]

# Surname readings that differ from pypinyin's default reading of the character, toneless.
# Data, not logic: add a line when a village reports a name that cannot be found.
# Compound (two-character) surnames are matched before single ones, so 长孙 wins over 长.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    # Compound surnames whose first character has its own entry below or a misleading default.
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "长孙": ("zhang", "sun"),
    "单于": ("chan", "yu"),
    # Single-character surnames.
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "朴": ("piao",),
    "查": ("zha",),
    "盖": ("ge",),
    "缪": ("miao",),
    "翟": ("zhai",),
    "覃": ("qin",),
    "尉": ("yu",),
    "乐": ("yue",),
    "重": ("chong",),
    "华": ("hua",),
    "召": ("shao",),
    "繁": ("po",),
    "员": ("yun",),
    "秘": ("bi",),
    "种": ("chong",),
    "长": ("chang",),
    "薄": ("bo",),
    "卜": ("bu",),
    "阚": ("kan",),
    "隗": ("wei",),
    "能": ("nai",),
    "句": ("gou",),
    "乜": ("nie",),
    "祭": ("zhai",),
    "都": ("du",),
    "洗": ("xian",),
    "便": ("pian",),
    "黑": ("he",),
    "折": ("she",),
}

_MAX_SURNAME_LEN = max(len(k) for k in SURNAME_READINGS)

# Separators inside names: the middle dot of transliterated minority names (阿依古丽·买买提) is
# typed in many look-alike forms.
_NAME_SEPARATORS = dict.fromkeys(map(ord, "·•・‧∙⋅.．-‐－_"), None)


def _clean_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(text.split())
    return text.translate(_NAME_SEPARATORS)


def _split_surname(name: str) -> tuple[tuple[str, ...], str]:
    """Return (corrected surname syllables, rest of the name), or ((), name) if no correction."""
    for length in range(min(_MAX_SURNAME_LEN, len(name)), 0, -1):
        reading = SURNAME_READINGS.get(name[:length])
        if reading is not None:
            return reading, name[length:]
    return (), name


def _ascii_key(parts: list[str]) -> str:
    """Join syllables; latin letters and digits pass through lower-cased, anything else is dropped."""
    return "".join(ch for ch in "".join(parts).lower() if ch.isascii() and ch.isalnum())


@lru_cache(maxsize=65536)
def name_pinyin(name: str) -> tuple[str, str]:
    """Return (full pinyin, initials) for a person's name, e.g. ("zhangxiaoming", "zxm").

    Lower-case, no tones, no spaces; ü is written "v" (吕 → "lv"), as on a phone keyboard.
    Cached: a county's names repeat, and a ledger import or re-import keys 100,000 of them at once.
    """
    text = _clean_name(name)
    if not text:
        return "", ""
    surname, rest = _split_surname(text)
    full = list(surname) + (lazy_pinyin(rest, style=Style.NORMAL) if rest else [])
    initials = [s[0] for s in surname] + (lazy_pinyin(rest, style=Style.FIRST_LETTER) if rest else [])
    return _ascii_key(full), _ascii_key(initials)


def search_key(q: str) -> str:
    """Normalise what a user typed into the search box so it can be compared with pinyin keys.

    Full-width letters become ASCII, everything is lower-cased, and spaces (including the
    ideographic space) are removed: "Zhang Xiao Ming" → "zhangxiaoming".
    """
    text = unicodedata.normalize("NFKC", q or "")
    return "".join(text.split()).lower()
