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


@pytest.fixture
def export_without_identifiers(users: Any) -> Any:
    """A login whose role exports the ledger but may not see identifiers in full. No role of the table
    is like that today; the exporter's masking must hold if one ever is (fails closed)."""
    from unittest import mock

    from shouhu.core.capabilities import ALL_GROUPS, REGION, ROLES, RoleSpec
    from shouhu.core.models import RoleAssignment, User

    spec = RoleSpec(
        "ledger_clerk",
        "台账录入员",
        {"child.view": REGION, "ledger.export": REGION},
        groups=ALL_GROUPS - {"identifiers", "contacts"},
    )
    user = User.objects.create_user("clerk", password="x-pass-12345")
    RoleAssignment.objects.create(user=user, role="ledger_clerk", region_id="500229000000")
    with mock.patch.dict(ROLES, {"ledger_clerk": spec}):
        yield user
