"""seed_demo gives the demo school login something to see (issue 13): classes, an open dropout case with
its alert for the village, a pairing; a second run adds nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from shouhu.care.models import Alert
from shouhu.core.models import User
from shouhu.schooling.models import DropoutCase, Enrolment, Pairing

pytestmark = pytest.mark.django_db


def test_seed_demo_seeds_the_demo_schools(county: dict[str, Any]) -> None:
    call_command("seed_demo", children=300, seed=7, stdout=io.StringIO())
    school_user = User.objects.get(username="school_bashan")
    assert Enrolment.objects.filter(school=school_user.organisation).count() > 5
    case = DropoutCase.objects.get(school=school_user.organisation)
    assert Alert.objects.filter(kind="dropout", child=case.child, resolved_at__isnull=True).exists()
    assert Pairing.objects.filter(school=school_user.organisation).exists()
    c = Client()
    c.force_login(school_user)
    page = c.get("/schooling/").content.decode()
    assert "点名" in page and case.child.name in page
    before = Enrolment.objects.count()
    call_command("seed_demo", children=300, seed=7, stdout=io.StringIO())
    assert Enrolment.objects.count() == before
