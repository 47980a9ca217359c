"""Demo schooling data for the featured townships' central primary schools (seed_demo): catchments, the
pupils the ledger already places at the school enrolled in classes by age, one pupil absent for the last
three school days (an open dropout case and its alert), and one pairing. Idempotent: a school that has
enrolments is left alone."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from shouhu.core.demo import FEATURED, short_name
from shouhu.core.models import Organisation, Region, User
from shouhu.registry.models import Child
from shouhu.schooling import rules, services
from shouhu.schooling.models import Catchment, Enrolment, Match, Pairing

GRADES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]


def _school_days_before(today: date, n: int) -> list[date]:
    out: list[date] = []
    d = today
    while len(out) < n:
        d -= timedelta(days=1)
        if rules.is_school_day(d):
            out.append(d)
    return sorted(out)


@transaction.atomic
def seed_schooling(today: date) -> int:
    """Returns the number of pupils enrolled."""
    enrolled = 0
    for code in FEATURED:
        town = Region.objects.get(code=code)
        school = Organisation.objects.filter(name=f"{short_name(town)}中心小学").first()
        if school is None or Enrolment.objects.filter(school=school).exists():
            continue
        # the school's own login: whoever takes attendance there (asked of the access model)
        teacher = next(
            (
                u
                for u in User.objects.filter(organisation=school, is_active=True).order_by("pk")
                if school.pk in services.school_ids(u, "attendance.record")
            ),
            None,
        )
        for village in Region.objects.filter(parent=town):
            Catchment.objects.get_or_create(school=school, village=village)
        rows = []
        pupils = Child.objects.filter(school=school).order_by("birth_date", "name_pinyin")
        for i, child in enumerate(pupils):
            age = rules.age_on(child.birth_date, today)
            grade = GRADES[min(max(age - 6, 0), 5)]
            rows.append(
                Enrolment(
                    child=child,
                    match=Match.ID,
                    school=school,
                    village=child.village,
                    name=child.name,
                    sex=child.sex,
                    birth_date=child.birth_date,
                    student_number=f"G{school.pk:04d}{i + 1:05d}",
                    grade=grade,
                    class_name=f"{i % 2 + 1}班",
                    boarding=child.boarding,
                    roster_left_behind=child.lb_status,
                    since=date(today.year if today.month >= 9 else today.year - 1, 9, 1),
                )
            )
        Enrolment.objects.bulk_create(rows)
        enrolled += len(rows)
        first = Enrolment.objects.filter(school=school, child__lb_status=True).select_related("child").first()
        if first is None or teacher is None:
            continue
        for d in _school_days_before(today, 3):
            services.absence_record(actor=teacher, enrolment=first, data={"date": d, "reason": ""})
        second = Enrolment.objects.filter(school=school, child__lb_status=True).exclude(pk=first.pk).first()
        if second is not None and second.child is not None:
            Pairing.objects.create(
                child=second.child,
                school=school,
                teacher_name="王老师",
                position="class_teacher",
                starts_on=today,
            )
    return enrolled
