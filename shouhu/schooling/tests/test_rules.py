"""The dropout threshold rule (R4.2) as properties: it depends only on unexcused absences up to the day,
weekends never break nor make a run, and adding an absence never withdraws a decision."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shouhu.schooling import rules

START = date(2026, 11, 2)  # a Monday
days = st.lists(st.tuples(st.integers(0, 40), st.sampled_from([0.5, 1.0])), max_size=25)


def absences(raw: list[tuple[int, float]]) -> list[tuple[date, float]]:
    return [(START + timedelta(days=n), d) for n, d in raw]


@given(days, st.integers(0, 40))
def test_later_absences_do_not_change_an_earlier_day(raw: list[tuple[int, float]], on: int) -> None:
    day = START + timedelta(days=on)
    rows = absences(raw)
    early = [(d, n) for d, n in rows if d <= day]
    a = rules.dropout_due(rows, on=day, consecutive=3, month_days=5)
    b = rules.dropout_due(early, on=day, consecutive=3, month_days=5)
    assert a == b


@given(days, st.integers(0, 40), st.integers(0, 40))
def test_one_more_absence_never_withdraws_a_decision(
    raw: list[tuple[int, float]], on: int, extra: int
) -> None:
    day = START + timedelta(days=on)
    rows = absences(raw)
    if rules.dropout_due(rows, on=day, consecutive=3, month_days=5).due:
        more = dict(rows)
        more[START + timedelta(days=extra)] = 1.0
        assert rules.dropout_due(more.items(), on=day, consecutive=3, month_days=5).due


def test_a_weekend_neither_breaks_nor_makes_a_run() -> None:
    fri, mon, tue = date(2026, 11, 6), date(2026, 11, 9), date(2026, 11, 10)
    assert rules.dropout_due([(fri, 1), (mon, 1), (tue, 1)], on=tue, consecutive=3, month_days=9).due
    sat, sun = date(2026, 11, 7), date(2026, 11, 8)
    assert not rules.dropout_due([(sat, 1), (sun, 1), (mon, 1)], on=mon, consecutive=3, month_days=9).due
    assert not rules.dropout_due([(fri, 1), (mon, 1)], on=tue, consecutive=3, month_days=9).due


def test_half_days_add_up_in_the_month() -> None:
    rows = [(date(2026, 11, d), 0.5) for d in (2, 4, 6, 10, 12, 16, 18, 20, 24)]
    assert not rules.dropout_due(rows, on=date(2026, 11, 24), consecutive=3, month_days=5).due
    rows.append((date(2026, 11, 26), 0.5))
    assert rules.dropout_due(rows, on=date(2026, 11, 26), consecutive=3, month_days=5).due


def test_school_age_and_the_mark() -> None:
    assert rules.school_age(date(2020, 11, 2), date(2026, 11, 2), (6, 15))
    assert not rules.school_age(date(2020, 11, 3), date(2026, 11, 2), (6, 15))
    assert not rules.school_age(date(2010, 11, 2), date(2026, 11, 2), (6, 15))
    assert (rules.left_behind_mark(True), rules.left_behind_mark(False), rules.left_behind_mark(None)) == (
        "是",
        "否",
        "",
    )
