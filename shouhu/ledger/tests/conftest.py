from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def immediate_huey() -> Any:
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = before
