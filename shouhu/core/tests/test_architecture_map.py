"""The newcomer's map in docs/architecture.md names only paths that exist (issue 11 part 8)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _map_section() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    start = text.index("## Map for newcomers")
    return text[start : text.index("\n## ", start + 1)]


def test_every_path_the_map_names_exists() -> None:
    # Paths from the repository's root; "the app's `views.py`" style names are relative and skipped.
    names = re.findall(r"`([^`\s]+)`", _map_section())
    paths = [p for p in names if p.startswith(("shouhu/", "config/", "docs/", "bench/"))]
    assert len(paths) > 20, "the map should name the places where concerns live"
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"docs/architecture.md's map names paths that do not exist: {missing}"
