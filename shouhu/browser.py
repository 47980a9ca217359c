"""Shared pieces of the click-through tests: Debian's Chromium driven by Playwright at phone size.

Used as a pytest plugin from shouhu/conftest.py; the tests mark themselves `browser`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# Headless, and nothing that phones home: the machines running the tests have no internet.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_WIDTH = 360
SHOT_DIR = os.environ.get("SHOUHU_SCREENSHOT_DIR", "/tmp")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium, or a skip with the reason — a failure when SHOUHU_REQUIRE_BROWSER=1 (CI)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("SHOUHU_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and SHOUHU_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls happen elsewhere.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def fits_phone(page: Any) -> None:
    """No horizontal scrolling at phone width (R11.5)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"page is {width}px wide at a {PHONE_WIDTH}px viewport: {page.url}"
