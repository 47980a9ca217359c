"""Fixtures of the services tests: an approved provider serving 巴山镇's first village, with its staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shouhu.conftest import BASHAN_VILLAGE

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def provider(users: dict[str, Any]) -> Any:
    """县妇联 as a provider of homework help and counselling in 巴山镇's first village (capacity 2)."""
    from shouhu.core.models import Organisation
    from shouhu.services import services

    p = services.provider_register(
        actor=users["county"],
        data={
            "organisation": Organisation.objects.get(name="县妇联").pk,
            "category": "womens_federation",
            "villages": [BASHAN_VILLAGE],
            "service_types": ["homework_help", "counselling"],
            "capacity": 2,
        },
    )
    return services.provider_decide(actor=users["county"], provider=p, status="approved")


@pytest.fixture
def staff(provider: Any) -> Any:
    """A service_provider login of that provider (its staff)."""
    from shouhu.core.models import RoleAssignment, User

    u = User.objects.create_user("fulian_staff", password="x-pass-12345", organisation=provider.organisation)
    RoleAssignment.objects.create(
        user=u,
        role="service_provider",
        organisation=provider.organisation,
        starts_at=datetime(2020, 1, 1, tzinfo=TZ),
    )
    return u
