"""R11.5: Chinese first with English beside it. Every app's catalogue translates every string it has,
and its compiled catalogue is current (a stale .mo would show Chinese on the English pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

APPS_ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(APPS_ROOT.glob("*/locale/en/LC_MESSAGES/django.po"))


def entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each entry after the header; --no-wrap keeps each on one line."""
    found = []
    for block in po.read_text(encoding="utf-8").split("\n\n")[1:]:
        msgid = re.search(r'^msgid "(.*)"$', block, re.M)
        msgstr = re.search(r'^msgstr "(.*)"$', block, re.M)
        plural = re.search(r'^msgstr\[0\] "(.*)"$', block, re.M)
        if msgid is None or block.lstrip().startswith("#~"):
            continue
        found.append(
            (msgid.group(1), (msgstr or plural).group(1) if (msgstr or plural) else "", "fuzzy" in block)
        )
    return found


def test_every_app_with_strings_has_a_catalogue() -> None:
    assert {p.parts[-5] for p in CATALOGUES} >= {"core", "registry", "care", "protection", "ledger", "web"}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_catalogue_is_complete(po: Path) -> None:
    missing = [m for m, s, fuzzy in entries(po) if not s or fuzzy]
    assert not missing, f"{po}: untranslated or fuzzy: {missing[:10]}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_compiled_catalogue_is_current(po: Path) -> None:
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} missing: run make messages"
    assert mo.stat().st_size > 0
    from gettext import GNUTranslations

    with mo.open("rb") as fh:
        compiled = GNUTranslations(fh)
    stale = [
        m for m, s, _f in entries(po) if "%(" not in m and compiled.gettext(_unescape(m)) != _unescape(s)
    ]
    assert not stale, f"{mo} is older than its .po: run make messages ({stale[:5]})"


def _unescape(s: str) -> str:
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in s else s
