"""Protection test helpers: API clients per user and a second provider (县妇联) with a login."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api() -> Any:
    def client(user: Any) -> APIClient:
        c = APIClient()
        c.force_authenticate(user)
        return c

    return client


@pytest.fixture
def fulian(users: dict[str, Any]) -> Any:
    """A service-provider login at 县妇联 (guardianship guidance / family education)."""
    from shouhu.core.models import Organisation, RoleAssignment, User

    org = Organisation.objects.get(name="县妇联")
    user = User.objects.create_user(
        "fulian_sw", password="x-pass-12345", full_name="县妇联 家庭教育指导", organisation=org
    )
    RoleAssignment.objects.create(user=user, role="service_provider", organisation=org)
    return user


@pytest.fixture
def orgs(county: Any) -> dict[str, Any]:
    from shouhu.core.models import Organisation

    return {
        o.name: o
        for o in Organisation.objects.filter(
            name__in=[
                "城口县阳光社会工作服务中心",
                "县妇联",
                "城口县公安局巴山派出所",
                "城口县公安局龙田派出所",
                "巴山镇人民政府",
                "巴山中心小学",
            ]
        )
    }
