"""Web test helpers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def login(client: Client) -> Any:
    """Log a user in on the test client (no password round-trip)."""

    def do(user: Any) -> Client:
        client.force_login(user)
        return client

    return do
