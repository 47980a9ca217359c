"""Schooling rows of the permission matrix's two worlds (web/tests/worlds.py): world A's child enrolled
at 巴山中心小学 with a dropout case; world B's child at a school of the other county, with its own case."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from shouhu.core.models import Organisation, OrganisationKind, Region


def _case(enrolment: Any) -> Any:
    from shouhu.schooling.models import DropoutCase, DropoutStep

    now = timezone.now()
    case = DropoutCase.objects.create(
        child=enrolment.child,
        school=enrolment.school,
        enrolment=enrolment,
        opened_at=now,
        state_since=now,
        opened_on=timezone.localdate(),
        trigger="连续3个上学日无故缺课",
    )
    DropoutStep.objects.create(case=case, to_state="absent", at=now)
    return case


def _enrol(child: Any, school: Organisation) -> Any:
    from shouhu.schooling.models import Enrolment, Match
    from shouhu.schooling.services import set_child_school

    e = Enrolment.objects.create(
        child=child,
        match=Match.ID,
        school=school,
        village=child.village,
        name=child.name,
        birth_date=child.birth_date,
        student_number=f"M{str(child.pk)[:8]}",
        grade="三年级",
        class_name="1班",
        since=date(2026, 9, 1),
    )
    set_child_school(child, school)
    return e


def add_schooling(a: Any, b: Any) -> None:
    a.enrolment = _enrol(a.child, Organisation.objects.get(name="巴山中心小学"))
    a.dropout = _case(a.enrolment)
    town = Region.objects.get(code=b.child.village.parent_id)
    school_b = Organisation.objects.create(name="乙县第一小学", kind=OrganisationKind.SCHOOL, region=town)
    b.enrolment = _enrol(b.child, school_b)
    b.dropout = _case(b.enrolment)
