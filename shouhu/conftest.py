"""Fixtures shared by every app's tests: the demo county (regions, organisations, one login per role)
and a factory for valid child data."""

from __future__ import annotations

import itertools
import os
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from shouhu.core.identity import compose_id_number

# The `browser` fixture of the click-through tests (Debian's Chromium via Playwright).
pytest_plugins = ["shouhu.browser"]

# Nothing in the suite may depend on the machine's speed: no deadline and no `too_slow` health check,
# whatever else the two cores are doing. HYPOTHESIS_PROFILE=dev keeps Hypothesis's defaults.
hypothesis_settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
hypothesis_settings.register_profile("dev")
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_seq = itertools.count(1)
BASHAN = "500229102000"  # 巴山镇
LONGTIAN = "500229201000"  # 龙田乡
BASHAN_VILLAGE = "500229102201"
BASHAN_VILLAGE_2 = "500229102202"
LONGTIAN_VILLAGE = "500229201201"


def pytest_configure(config: Any) -> None:
    from django.conf import settings

    # Demo logins are hashed with PBKDF2 in real use; tests need no slow hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production serves hashed static files from a collectstatic run (CompressedManifestStaticFilesStorage,
    # issue 16); tests serve them from the apps and node_modules as they are, with no collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Audit checkpoints (issue 10 part 6) of a test run never mix with the demo's file.
    import tempfile
    from pathlib import Path

    settings.SHOUHU_AUDIT_CHECKPOINT_FILE = Path(tempfile.mkdtemp(prefix="shouhu-cp-")) / "checkpoints.jsonl"


@pytest.fixture(autouse=True)
def _force_login_finishes_second_factor(request: Any, monkeypatch: Any) -> None:
    """`Client.force_login` stands for a whole login, second factor included (shouhu.accounts.testing);
    tests of the second factor itself are marked `real_second_factor`."""
    if request.node.get_closest_marker("real_second_factor"):
        return
    from django.test import Client

    from shouhu.accounts.testing import force_login_with_second_factor

    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor(Client.force_login))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Build the demo county once per test database; each test then runs in a rolled-back transaction."""
    from shouhu.core.demo import build_county

    with django_db_blocker.unblock():
        build_county()


@pytest.fixture
def county(db: Any) -> dict[str, Any]:
    """The demo county's logins by username, as User objects (rebuilt if a transactional test flushed it)."""
    from shouhu.core.demo import build_county
    from shouhu.core.models import AccessLogHead, User
    from shouhu.core.reference import load_reference_data

    if not User.objects.filter(username="admin").exists():
        load_reference_data()
        build_county()
    # The access log's head row comes from a migration, and a transactional test's flush removes it:
    # without it the first read of a test creates it, and a query-count assertion would count that.
    AccessLogHead.objects.get_or_create(id=1)
    return {u.username: u for u in User.objects.exclude(username="nobody")}


@pytest.fixture
def users(county: dict[str, Any]) -> dict[str, Any]:
    """Short names for the users most tests need."""
    from shouhu.core.models import User

    nobody = User.objects.create_user("nobody", password="x-pass-12345")
    return {
        "admin": county["admin"],
        "county": county["county"],
        "sup": county["sup_bashan"],
        "sup_other": county["sup_longtian"],
        "vw": county["vw_102201"],
        "vw_same_town": county["vw_102202"],
        "vw_other": county["vw_201201"],
        "officer": county["police_bashan"],
        "officer_other": county["police_longtian"],
        "school": county["school_bashan"],
        "edu": county["edu"],
        "doctor": county["doctor_bashan"],
        "social": county["social"],
        "volunteer": county["volunteer"],
        "leader": county["leader"],
        "auditor": county["auditor"],
        "nobody": nobody,
    }


def child_data(**overrides: Any) -> dict[str, Any]:
    """Valid data for a left-behind child (both parents away) in 巴山镇's first village."""
    birth = overrides.get("birth_date", date(2015, 6, 1))
    sex = overrides.get("sex", "1")
    n = next(_seq)
    seq = (n * 2 + (1 if sex == "1" else 0)) % 1000
    data: dict[str, Any] = {
        "name": overrides.get("name", f"张晓明{'' if n == 1 else n}"),
        "sex": sex,
        "ethnicity": "01",
        "birth_date": birth,
        "hukou_registered": True,
        "hukou_rural": True,
        "id_number": compose_id_number("500229", birth, seq),
        "village": BASHAN_VILLAGE,
        "address": "巴山镇梨山村3组",
        "health": "healthy",
        "schooling": "primary",
        "boarding": False,
        "care_arrangement": "grandparents",
        "guardianship_rating": "adequate",
        "income_sources": ["wages"],
        "assistance": [],
        "parents": [
            {
                "relation": "father",
                "name": "张大山",
                "away_for_work": True,
                "away_since": date(2020, 3, 1),
                "work_province": "44",
                "work_city": "东莞",
                "guardianship_capacity": True,
                "phone": "13800138000",
            },
            {
                "relation": "mother",
                "name": "李小红",
                "away_for_work": True,
                "away_since": date(2021, 2, 1),
                "work_province": "50",
                "work_city": "重庆主城",
                "guardianship_capacity": True,
            },
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_child(users: dict[str, Any]) -> Any:
    from shouhu.registry.services import child_create

    def make(actor: Any = None, today: date | None = None, **overrides: Any) -> Any:
        return child_create(actor=actor or users["vw"], data=child_data(**overrides), today=today)

    return make
