"""Issue 12 part 3 checks, time frozen: alerts that apply (R1.4, R1.5, R1.11, R2.1, R3.1, R3.3).

Each test runs a small county through dated scans and asserts exactly which alerts are open when.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shouhu.care import scan, services
from shouhu.care.models import Alert, CareAssignment, Compliance, Semester
from shouhu.core.models import PolicyParameter
from shouhu.registry.models import Agreement, Guardian, Household, HouseholdPlanItem

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def roles_since_2020(users: dict[str, Any]) -> None:
    from shouhu.core.models import RoleAssignment

    RoleAssignment.objects.update(starts_at=datetime(2020, 1, 1, tzinfo=TZ))
    for u in users.values():
        u.__dict__.pop("_shouhu_scope", None)


def open_of(kind: str) -> set[tuple[str, str]]:
    return {
        (a.child.name if a.child else "", a.parent)
        for a in Alert.objects.filter(kind=kind, resolved_at__isnull=True).select_related("child")
    }


def meet(vw: Any, child: Any, when: datetime, parent: str = "father", channel: str = "in_person") -> None:
    with time_machine.travel(when, tick=False):
        services.contact_log(
            actor=vw, child=child, data={"parent": parent, "channel": channel, "occurred_at": when}
        )


@pytest.mark.django_db
def test_spring_festival_and_summer_meetings_count_for_the_term_before(
    users: dict[str, Any], make_child: Any
) -> None:
    """R2.1: a family that meets only at Spring Festival and in summer raises no meeting alert; a family
    that never meets is overdue once the term and its break are over."""
    vw = users["vw"]
    with time_machine.travel(at(2025, 9, 1, 10), tick=False):
        festival = make_child(name="春春")
        make_child(name="冬冬")
    meet(vw, festival, at(2026, 2, 17, 12))  # 春节 2026, in the winter break: counts for autumn 2025
    meet(vw, festival, at(2026, 7, 25, 12), parent="mother")  # the summer visit: counts for spring 2026
    for moment in (at(2025, 12, 20), at(2026, 1, 25), at(2026, 2, 10)):
        scan.run(moment)  # in the autumn term and its break: a meeting may still come, no alert
        assert open_of("meeting_overdue") == set()
    scan.run(at(2026, 2, 25))  # spring term begun: autumn 2025 and its break are over
    assert open_of("meeting_overdue") == {("冬冬", "")}
    sem = {r.child.name: r.met for r in Compliance.objects.filter(period="semester").select_related("child")}
    assert sem == {"春春": True, "冬冬": False}
    scan.run(at(2026, 6, 20))  # no warning late in the spring term: the summer still counts
    assert open_of("meeting_overdue") == {("冬冬", "")}
    scan.run(at(2026, 9, 2))  # spring 2026 + summer closed: 春春 met in July
    assert open_of("meeting_overdue") == {("冬冬", "")}
    assert Alert.objects.filter(kind="meeting_overdue", child=festival).count() == 0


@pytest.mark.django_db
def test_term_dates_and_the_break_policy_are_data(users: dict[str, Any], make_child: Any) -> None:
    vw = users["vw"]
    with time_machine.travel(at(2026, 2, 21, 10), tick=False):
        a = make_child(name="安安")
    # autumn 2026 starts on 7 September this year: the summer runs to 6 September
    Semester.objects.create(year=2026, term="autumn", starts_on=date(2026, 9, 7), ends_on=date(2027, 1, 20))
    scan.run(at(2026, 9, 2))
    assert open_of("meeting_overdue") == set()
    scan.run(at(2026, 9, 8))
    assert open_of("meeting_overdue") == {("安安", "")}
    # "none": a break counts for no term; the warning comes in the term's last 30 days
    PolicyParameter.objects.update_or_create(
        key="meeting_break_counts_for", defaults={"value": "none", "description": "x"}
    )
    meet(vw, a, at(2026, 9, 20))
    scan.run(at(2026, 12, 10))  # the missed spring term stays overdue; autumn has its meeting
    assert "2026 spring" in Alert.objects.get(kind="meeting_overdue", resolved_at__isnull=True).message
    with time_machine.travel(at(2026, 9, 1, 10), tick=False):
        make_child(name="贝贝")
    scan.run(at(2026, 12, 10))  # more than 30 days before the term ends on 20 January
    assert open_of("meeting_overdue") == {("安安", "")}
    scan.run(at(2026, 12, 22))  # within 30 days, no meeting in the term: the warning
    assert open_of("meeting_overdue") == {("安安", ""), ("贝贝", "")}


@pytest.mark.django_db
def test_a_parent_who_never_calls_gets_their_own_alert(users: dict[str, Any], make_child: Any) -> None:
    """R2.1: the weekly contact is each migrant parent's duty; the alert carries `parent`."""
    vw = users["vw"]
    with time_machine.travel(at(2026, 3, 1, 10), tick=False):
        a = make_child(name="安安")
    for day in (4, 11, 18):
        meet(vw, a, at(2026, 3, day, 20), parent="mother", channel="phone")
    for day in (9, 16, 23):
        scan.run(at(2026, 3, day))
        assert open_of("contact_overdue") == {("安安", "father")}
    alert = Alert.objects.get(kind="contact_overdue")
    assert alert.key == f"child:{a.pk}:father" and alert.resolved_at is None
    weeks = Compliance.objects.filter(child=a, period="week", label="2026-W11")
    assert {(r.parent, r.met) for r in weeks} == {("father", False), ("mother", True)}
    # a parent at home is not asked to call
    a.refresh_from_db()
    from shouhu.registry.services import child_update

    with time_machine.travel(at(2026, 3, 24, 10), tick=False):
        parents = [
            {
                "relation": "father",
                "name": "张大山",
                "away_for_work": False,
                "returned_on": date(2026, 3, 24),
            },
            {"relation": "mother", "name": "李小红", "away_for_work": True, "away_since": date(2021, 2, 1)},
        ]
        child_update(actor=vw, child_id=a.pk, data={"parents": parents}, version=a.version)
    scan.run(at(2026, 3, 30))
    assert open_of("contact_overdue") == set()


@pytest.mark.django_db
def test_agreements_missing_expiring_and_expired(users: dict[str, Any], make_child: Any) -> None:
    """R1.4: entrusted care without an agreement after 30 days; a warning 30 days before the end; the
    expired agreement."""
    with time_machine.travel(at(2026, 3, 1, 10), tick=False):
        a = make_child(name="安安", care_arrangement="grandparents")
        make_child(
            name="父在家",
            care_arrangement="parent",
            parents=[
                {"relation": "father", "name": "甲", "away_for_work": False},
                {"relation": "mother", "name": "乙", "away_for_work": True, "away_since": date(2021, 1, 1)},
            ],
        )
    scan.run(at(2026, 3, 30))
    assert open_of("agreement_missing") == set()
    scan.run(at(2026, 3, 31, 10))
    assert open_of("agreement_missing") == {("安安", "")}  # not the child whose father is home
    g = Guardian.objects.create(child=a, role="entrusted", name="王奶奶", relationship="61")
    with time_machine.travel(at(2026, 4, 1, 10), tick=False):
        Agreement.objects.create(
            child=a,
            guardian=g,
            principals="张大山、李小红",
            signed_on=date(2026, 4, 1),
            valid_from=date(2026, 4, 1),
            valid_to=date(2026, 6, 30),
        )
    scan.run(at(2026, 4, 2))
    assert open_of("agreement_missing") == set() and open_of("agreement_expiring") == set()
    scan.run(at(2026, 6, 1))
    assert open_of("agreement_expiring") == {("安安", "")}
    scan.run(at(2026, 7, 1))
    assert open_of("agreement_expiring") == set()
    assert open_of("agreement_expired") == {("安安", "")}
    assert "到期" in Alert.objects.get(kind="agreement_expired").message


@pytest.mark.django_db
def test_overdue_plan_items_and_ended_pairings_alert(users: dict[str, Any], make_child: Any) -> None:
    """R1.5: a household plan item past its due date; R3.3: a pairing that ended with no other."""
    vw = users["vw"]
    with time_machine.travel(at(2026, 3, 1, 10), tick=False):
        a = make_child(name="安安")
    household = Household.objects.create(village_id=a.village_id, head_name="张大山")
    a.household = household
    a.save(update_fields=["household"])
    item = HouseholdPlanItem.objects.create(
        household=household, measure="落实低保", owner="村委会", due_date=date(2026, 3, 20)
    )
    pairing = CareAssignment.objects.create(
        child=a, kind="party_member", person_name="刘书记", starts_on=date(2026, 3, 1)
    )
    scan.run(at(2026, 3, 20))
    assert open_of("plan_overdue") == set() and open_of("care_uncovered") == set()
    pairing.ends_on = date(2026, 3, 25)
    pairing.save()
    scan.run(at(2026, 3, 26))
    assert open_of("plan_overdue") == {("安安", "")}
    assert Alert.objects.get(kind="plan_overdue", resolved_at__isnull=True).key == f"plan:{item.pk}"
    assert open_of("care_uncovered") == {("安安", "")}
    item.done_on = date(2026, 3, 27)
    item.save()
    with time_machine.travel(at(2026, 3, 27, 10), tick=False):
        services.assignment_add(
            actor=vw,
            child=a,
            data={"kind": "volunteer", "person_name": "小李", "starts_on": date(2026, 3, 27)},
        )
    scan.run(at(2026, 3, 28))
    assert open_of("plan_overdue") == set() and open_of("care_uncovered") == set()


@pytest.mark.django_db
def test_a_child_turning_16_leaves_the_duties_and_is_proposed_for_archiving(
    users: dict[str, Any], make_child: Any
) -> None:
    """R1.11: at 16 the child leaves the ledger with the reason in the history; visits, contacts and
    meetings stop; after the follow-up period the worker is asked to archive; 困境儿童 stay to 18."""
    with time_machine.travel(at(2026, 3, 1, 10), tick=False):
        a = make_child(name="十六", birth_date=date(2010, 4, 10), guardianship_rating="poor")
        make_child(
            name="困境",
            birth_date=date(2010, 4, 10),
            guardianship_rating="poor",
            distress_categories=["poverty"],
        )
    scan.run(at(2026, 4, 6))
    assert open_of("visit_overdue") == {("十六", ""), ("困境", "")}
    assert ("十六", "father") in open_of("contact_overdue")
    from shouhu.core.scan import run_all

    with time_machine.travel(at(2026, 4, 13), tick=False):
        run_all(at(2026, 4, 13))  # the daily scan: statuses first, then the care duties
    a.refresh_from_db()
    assert a.lb_status is False and a.state == "active"
    exit_period = a.status_periods.get(end__isnull=True)
    assert exit_period.start == date(2026, 4, 11) and "已满16周岁" in exit_period.reasons[0]
    assert open_of("visit_overdue") == {("困境", "")}  # 困境儿童 are still visited
    assert {n for n, _p in open_of("contact_overdue")} == set()
    assert open_of("archive_due") == set()
    run_all(at(2026, 10, 9))  # 180 days of follow-up done
    assert open_of("archive_due") == {("十六", "")}
    from shouhu.registry.lifecycle import child_archive

    child_archive(actor=users["vw"], child_id=a.pk, reason="aged_out", today=date(2026, 10, 9))
    assert Alert.objects.filter(child=a, resolved_at__isnull=True).count() == 0
    run_all(at(2026, 10, 12))
    assert Alert.objects.filter(child=a, resolved_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_file_edited_as_unattended_starts_the_report_clock(users: dict[str, Any], make_child: Any) -> None:
    """R5.3, issue 12 part 4: a file edit (not only a visit) showing a child under 16 unattended starts
    the mandatory-report duty for the unit that recorded it; one clock per unit while it runs."""
    from shouhu.protection.models import Finding
    from shouhu.registry.services import child_update

    vw = users["vw"]
    with time_machine.travel(at(2026, 3, 1, 10), tick=False):
        a = make_child(name="安安")
        assert Finding.objects.filter(child=a).count() == 0
        child_update(actor=vw, child_id=a.pk, data={"care_arrangement": "unattended"}, version=a.version)
    f = Finding.objects.get(child=a)
    assert f.source == "file_edit" and f.found_at == at(2026, 3, 1, 10)
    assert f.unit_id == (vw.organisation_id or f.unit_id)
    with time_machine.travel(at(2026, 3, 1, 11), tick=False):
        services.visit_log(actor=vw, child=a, data={"occurred_at": at(2026, 3, 1, 11), "living_alone": True})
    assert Finding.objects.filter(child=a).count() == 1  # the same unit's clock is already running
    with time_machine.travel(at(2026, 3, 1, 10), tick=False):
        b = make_child(name="贝贝", care_arrangement="unattended")
    assert Finding.objects.get(child=b).source == "file_edit"


@pytest.mark.django_db
def test_visit_coverage_and_completeness_count_the_same_children(
    users: dict[str, Any], make_child: Any
) -> None:
    """Issue 12 part 6: the villages page and the completeness page read one count, so a new file that
    was never visited is neither "covered" on one nor missing from the other; archived files count on
    neither."""
    from shouhu.care.selectors import village_summary
    from shouhu.ledger.completeness import figures
    from shouhu.registry.lifecycle import child_archive

    vw, sup = users["vw"], users["sup"]
    now = datetime.now(TZ)
    visited, fresh, gone = make_child(name="甲"), make_child(name="乙"), make_child(name="丙")
    services.visit_log(actor=vw, child=visited, data={"occurred_at": now})
    child_archive(actor=vw, child_id=gone.pk, reason="moved_away")
    row = next(r for r in village_summary(sup, now) if r["village"].code == visited.village_id)
    assert (row["children"], row["due"], row["visited"], row["never_visited"]) == (2, 2, 1, 1)
    assert row["visit_rate"] == 50  # not 100 %: a file too new to be "overdue" is not "visited"
    town = next(t for t in figures(sup) if t.code == visited.village_id[:9] + "000")
    village = next(v for v in town.villages if v.code == visited.village_id)
    assert (village.children, village.no_visit) == (row["children"], row["never_visited"])
    assert fresh.pk
