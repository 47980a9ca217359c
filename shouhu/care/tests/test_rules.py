"""The pure rules (R2.1, R2.3, R3.1): ISO weeks, the semester calendar as data, visit intervals."""

from datetime import date

from shouhu.care import rules

SPRING, AUTUMN = ["03-01", "07-15"], ["09-01", "01-15"]


def test_iso_week() -> None:
    assert rules.week_start(date(2026, 3, 8)) == date(2026, 3, 2)  # a Sunday belongs to Monday's week
    assert rules.week_label(date(2026, 1, 1)) == "2026-W01"
    assert rules.week_label(date(2027, 1, 1)) == "2026-W53"  # ISO year, not calendar year


def test_semesters_default_and_overridden() -> None:
    terms = rules.calendar(range(2025, 2027), SPRING, AUTUMN, {})
    autumn = next(t for t in terms if t.year == 2025 and t.term == "autumn")
    assert (autumn.start, autumn.end) == (date(2025, 9, 1), date(2026, 1, 15))  # ends next January
    assert rules.reference_term(terms, date(2026, 1, 10)) == (autumn, True)
    spring, in_term = rules.reference_term(terms, date(2026, 8, 1))
    assert spring.term == "spring" and spring.year == 2026 and not in_term  # summer: the last semester
    moved = rules.calendar(
        range(2026, 2027), SPRING, AUTUMN, {(2026, "spring"): (date(2026, 2, 24), date(2026, 7, 5))}
    )
    assert moved[0].start == date(2026, 2, 24)


def test_meeting_overdue_only_near_the_end_or_after() -> None:
    t = rules.Term(2026, "spring", date(2026, 3, 1), date(2026, 7, 15))
    assert not rules.meeting_overdue(t, True, date(2026, 6, 14), False, 30)
    assert rules.meeting_overdue(t, True, date(2026, 6, 15), False, 30)
    assert not rules.meeting_overdue(t, True, date(2026, 6, 15), True, 30)
    assert rules.meeting_overdue(t, False, date(2026, 8, 1), False, 30)


def test_visit_intervals_by_rating_and_key_target() -> None:
    intervals = {"poor": 14, "adequate": 30, "good": 90, "unrated": 30}
    assert rules.visit_interval("good", False, intervals, 30) == 90
    assert rules.visit_interval("good", True, intervals, 30) == 30  # key targets at least every 30 days
    assert rules.visit_interval("poor", True, intervals, 30) == 14
    assert rules.visit_interval("", False, intervals, 30) == 30
    assert rules.next_visit_due(None, date(2026, 3, 1), 14) == date(2026, 3, 15)


def test_contact_and_admonition_rules() -> None:
    assert rules.contact_overdue(0, 0, True) and not rules.contact_overdue(0, 1, True)
    assert not rules.contact_overdue(0, 0, False)  # not on file for the whole week
    assert rules.admonitions_escalate(2, False, 2) and rules.admonitions_escalate(1, True, 2)
    assert not rules.admonitions_escalate(1, False, 2)
