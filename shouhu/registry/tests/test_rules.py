"""The pure rules of R1.6: left-behind status, age, key targets, 困境儿童 suggestions, art. 22 checks.

Examples follow the definition in REQUIREMENTS ("Definitions that the code must get exactly right");
the properties check the rules against an oracle written independently of rules.py.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shouhu.registry import rules
from shouhu.registry.rules import (
    BOTH_AWAY,
    ONE_AWAY_OTHER_INCAPABLE,
    ChildFacts,
    GuardianFacts,
    ParentFacts,
    age_band,
    age_out_date,
    anniversary,
    evaluate_key_target,
    evaluate_left_behind,
    full_years,
    guardian_eligibility,
    suggest_distress_categories,
    under_age,
)

RULES_SETTINGS = settings(deadline=None, max_examples=300)

BIRTH = date(2012, 5, 10)
ON = date(2024, 1, 15)


def away(relation: str, since: date | None = date(2020, 3, 1)) -> ParentFacts:
    return ParentFacts(relation=relation, away_for_work=True, away_since=since)


def home(relation: str, *, capable: bool = True, reason: str = "", deceased: bool = False) -> ParentFacts:
    return ParentFacts(
        relation=relation, guardianship_capacity=capable, incapacity_reason=reason, deceased=deceased
    )


def child(*parents: ParentFacts, **kw: object) -> ChildFacts:
    return ChildFacts(birth_date=kw.pop("birth_date", BIRTH), parents=parents, **kw)  # type: ignore[arg-type]


def codes_of(decision: rules.LeftBehindDecision) -> list[str]:
    return [r.code for r in decision.reasons]


# --- examples the issue requires -------------------------------------------------------------------


def test_one_away_other_home_and_capable_is_not_left_behind() -> None:
    d = evaluate_left_behind(child(away("father"), home("mother")), ON)
    assert not d.left_behind
    assert d.type is None and d.since is None
    assert codes_of(d) == ["one_away_other_home"]
    assert d.status == "not_left_behind"


def test_both_away_is_left_behind_since_the_later_departure() -> None:
    d = evaluate_left_behind(child(away("father", date(2019, 1, 1)), away("mother", date(2021, 7, 1))), ON)
    assert d.left_behind
    assert d.type == BOTH_AWAY == "both_away"
    assert codes_of(d) == ["both_away"]
    assert d.since == date(2021, 7, 1)
    assert d.status == "left_behind"
    assert "国发〔2016〕13号" in d.reasons[0].text


def test_one_away_other_incapable_is_left_behind() -> None:
    d = evaluate_left_behind(
        child(away("mother"), home("father", capable=False, reason="serious_illness")), ON
    )
    assert d.left_behind
    assert d.type == ONE_AWAY_OTHER_INCAPABLE == "one_away_other_incapable"
    assert codes_of(d) == ["one_away_other_incapable"]
    assert d.since == date(2020, 3, 1)


def test_one_away_other_deceased_is_left_behind() -> None:
    d = evaluate_left_behind(child(away("father"), home("mother", deceased=True)), ON)
    assert d.left_behind
    assert d.type == ONE_AWAY_OTHER_INCAPABLE
    assert "已去世" in d.reasons[0].text


def test_deceased_parent_marked_away_does_not_count_as_away() -> None:
    dead_but_away = ParentFacts(
        relation="father", away_for_work=True, away_since=date(2020, 1, 1), deceased=True
    )
    d = evaluate_left_behind(child(dead_but_away, away("mother")), ON)
    assert d.left_behind and d.type == ONE_AWAY_OTHER_INCAPABLE


def test_neither_away_is_not_left_behind() -> None:
    d = evaluate_left_behind(
        child(home("father"), home("mother", capable=False, reason="serious_illness")), ON
    )
    assert not d.left_behind
    assert codes_of(d) == ["none_away"]


def test_16th_birthday_is_still_left_behind_and_the_day_after_is_not() -> None:
    facts = child(away("father"), away("mother"), birth_date=date(2008, 9, 3))
    birthday = date(2024, 9, 3)
    assert evaluate_left_behind(facts, birthday).left_behind
    after = evaluate_left_behind(facts, birthday + timedelta(days=1))
    assert not after.left_behind
    assert codes_of(after) == ["age_out"]
    assert "2024-09-03" in after.reasons[0].text
    assert age_out_date(date(2008, 9, 3)) == date(2024, 9, 4)


def test_born_29_february_with_a_limit_ending_in_a_common_year() -> None:
    # The policy limit is data: with 17, a 29 Feb 2012 birth reaches it in 2029, a common year.
    facts = child(
        away("father", date(2020, 1, 1)), away("mother", date(2020, 1, 1)), birth_date=date(2012, 2, 29)
    )
    assert anniversary(date(2012, 2, 29), 17) == date(2029, 2, 28)
    assert evaluate_left_behind(facts, date(2029, 2, 28), age_limit=17).left_behind
    gone = evaluate_left_behind(facts, date(2029, 3, 1), age_limit=17)
    assert not gone.left_behind and codes_of(gone) == ["age_out"]
    assert "2029-02-28" in gone.reasons[0].text


def test_born_29_february_turns_16_on_28_february_of_a_common_year() -> None:
    # Y and Y + 16 are both leap years except across the century rule: 29 Feb 2084 + 16 = 2100, a common
    # year (民法典 art. 203: the period ends on the last day of February).
    birth = date(2084, 2, 29)
    facts = child(away("father", date(2090, 1, 1)), away("mother", date(2090, 1, 1)), birth_date=birth)
    assert anniversary(birth, 16) == date(2100, 2, 28)
    assert full_years(birth, date(2100, 2, 28)) == 15
    assert full_years(birth, date(2100, 3, 1)) == 16
    assert evaluate_left_behind(facts, date(2100, 2, 28)).left_behind
    d = evaluate_left_behind(facts, date(2100, 3, 1))
    assert not d.left_behind and codes_of(d) == ["age_out"]
    assert age_out_date(birth) == date(2100, 3, 1)


def test_away_since_after_the_date_means_not_away_on_that_date() -> None:
    facts = child(away("father", date(2020, 1, 1)), away("mother", date(2024, 6, 1)))
    before = evaluate_left_behind(facts, date(2024, 5, 31))
    assert not before.left_behind
    assert codes_of(before) == ["one_away_other_home"]
    on_day = evaluate_left_behind(facts, date(2024, 6, 1))
    assert on_day.left_behind and on_day.since == date(2024, 6, 1)


def test_non_rural_hukou_is_not_left_behind() -> None:
    d = evaluate_left_behind(child(away("father"), away("mother"), hukou_rural=False), ON)
    assert not d.left_behind and codes_of(d) == ["not_rural"]


def test_moved_with_parents_is_not_left_behind() -> None:
    d = evaluate_left_behind(child(away("father"), away("mother"), moved_with_parents=True), ON)
    assert not d.left_behind and codes_of(d) == ["moved_with_parents"]


@pytest.mark.parametrize("present", ["father", "mother", None])
def test_missing_parent_record_is_not_left_behind_with_parent_unknown(present: str | None) -> None:
    parents = (away(present),) if present else ()
    d = evaluate_left_behind(child(*parents), ON)
    assert not d.left_behind
    assert d.type is None
    assert set(codes_of(d)) == {"parent_unknown"}
    assert len(d.reasons) == (1 if present else 2)


def test_before_birth_is_not_left_behind() -> None:
    d = evaluate_left_behind(child(away("father"), away("mother")), BIRTH - timedelta(days=1))
    assert not d.left_behind and codes_of(d) == ["not_born"]


def test_age_bands_at_their_edges() -> None:
    b = date(2010, 4, 1)
    assert age_band(b, b) == "0-5"
    assert age_band(b, date(2016, 4, 1)) == "0-5"  # 6th birthday: still 5 full years
    assert age_band(b, date(2016, 4, 2)) == "6-13"
    assert age_band(b, date(2024, 4, 2)) == "14-15"
    assert age_band(b, date(2026, 4, 1)) == "14-15"  # 16th birthday
    assert age_band(b, date(2026, 4, 2)) is None


def test_key_targets_examples() -> None:
    girl = child(away("father"), away("mother"), sex="2", health="disabled", assistance=frozenset({"dibao"}))
    d = evaluate_left_behind(girl, ON)
    k = evaluate_key_target(girl, d, ON)
    assert k.is_key_target and k.reasons == ("hardship", "disabled", "girl")
    not_lb = child(
        away("father"), home("mother"), sex="2", health="disabled", assistance=frozenset({"dibao"})
    )
    k2 = evaluate_key_target(not_lb, evaluate_left_behind(not_lb, ON), ON)
    assert not k2.is_key_target and k2.reasons == ()
    alone = child(away("father"), home("mother"), care_arrangement="unattended")
    k3 = evaluate_key_target(alone, evaluate_left_behind(alone, ON), ON)
    assert k3.is_key_target and k3.reasons == ("unattended",)


def test_distress_categories_examples() -> None:
    orphan = child(
        home("father", deceased=True),
        home("mother", capable=False, reason="imprisoned"),
        assistance=frozenset({"tekun"}),
        health="disabled",
        care_arrangement="unattended",
    )
    assert suggest_distress_categories(orphan, ON) == (
        "poverty",
        "disability",
        "de_facto_unsupported",
        "guardianship_missing",
    )
    # 18th birthday still counts (under 18), the day after not.
    eighteen = anniversary(BIRTH, 18)
    assert suggest_distress_categories(orphan, eighteen)
    assert suggest_distress_categories(orphan, eighteen + timedelta(days=1)) == ()
    # One parent incapable by illness, the other alive and capable: not de facto unsupported.
    sick = child(home("father", capable=False, reason="serious_illness"), home("mother"))
    assert "de_facto_unsupported" not in suggest_distress_categories(sick, ON)


def test_guardian_eligibility_examples() -> None:
    ok, problems = guardian_eligibility(GuardianFacts(date(1960, 1, 1), True, True, True, True), ON)
    assert ok and problems == ()
    ok, problems = guardian_eligibility(GuardianFacts(None, None, None, None, None), ON)
    assert not ok and len(problems) == 4
    assert all(p.startswith("尚未核实") for p in problems)
    ok, problems = guardian_eligibility(GuardianFacts(date(2010, 1, 1), True, False, True, True), ON)
    assert not ok and len(problems) == 2
    assert any("未满18周岁" in p for p in problems)
    assert any(p.startswith("不符合") and "暴力" in p for p in problems)
    # The 18th birthday itself is still under 18 full years.
    ok, _ = guardian_eligibility(GuardianFacts(date(2006, 1, 15), True, True, True, True), date(2024, 1, 15))
    assert not ok
    ok, _ = guardian_eligibility(GuardianFacts(date(2006, 1, 15), True, True, True, True), date(2024, 1, 16))
    assert ok


# --- an oracle written from the definition, independent of rules.py ---------------------------------


def oracle_anniversary(birth: date, years: int) -> date:
    y = birth.year + years
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(y):
        return date(y, 2, 28)
    return date(y, birth.month, birth.day)


def oracle_full_years(birth: date, on: date) -> int:
    """Count the birthdays strictly before `on` (N years are complete the day after the N-th)."""
    n = 0
    while birth.year + n + 1 <= 9999 and oracle_anniversary(birth, n + 1) < on:
        n += 1
    return n


def oracle_left_behind(f: ChildFacts, on: date, limit: int = 16) -> str | None:
    if on < f.birth_date or on > oracle_anniversary(f.birth_date, limit):
        return None
    if not f.hukou_rural or f.moved_with_parents:
        return None
    rel = {p.relation: p for p in f.parents}
    if set(rel) != {"father", "mother"}:
        return None

    def is_away(p: ParentFacts) -> bool:
        return p.away_for_work and not p.deceased and (p.away_since is None or p.away_since <= on)

    def can_guard(p: ParentFacts) -> bool:
        return not p.deceased and p.guardianship_capacity

    a, b = rel["father"], rel["mother"]
    if is_away(a) and is_away(b):
        return "both_away"
    if (is_away(a) and not can_guard(b)) or (is_away(b) and not can_guard(a)):
        return "one_away_other_incapable"
    return None


# --- strategies ------------------------------------------------------------------------------------

dates = st.dates(min_value=date(1995, 1, 1), max_value=date(2060, 12, 31))
births = st.dates(min_value=date(1995, 1, 1), max_value=date(2040, 12, 31))
leap_births = (
    st.integers(min_value=1996, max_value=2096).filter(calendar.isleap).map(lambda y: date(y, 2, 29))
)


@st.composite
def parent_facts(draw: st.DrawFn, relation: str) -> ParentFacts:
    deceased = draw(st.booleans()) and draw(st.booleans())
    capable = draw(st.booleans())
    return ParentFacts(
        relation=relation,
        away_for_work=draw(st.booleans()),
        away_since=draw(st.none() | dates),
        guardianship_capacity=capable,
        incapacity_reason=""
        if capable
        else draw(st.sampled_from(["serious_illness", "missing", "imprisoned", ""])),
        deceased=deceased,
    )


@st.composite
def child_facts(draw: st.DrawFn) -> ChildFacts:
    which = draw(st.sampled_from(["both", "both", "both", "both", "father", "mother", "none"]))
    parents: list[ParentFacts] = []
    if which in ("both", "father"):
        parents.append(draw(parent_facts("father")))
    if which in ("both", "mother"):
        parents.append(draw(parent_facts("mother")))
    if draw(st.booleans()):
        parents.reverse()
    return ChildFacts(
        birth_date=draw(births | leap_births),
        sex=draw(st.sampled_from(["1", "2"])),
        hukou_rural=draw(st.booleans() | st.just(True)),
        moved_with_parents=draw(st.just(False) | st.booleans()),
        care_arrangement=draw(
            st.sampled_from(["parent", "grandparents", "relatives_friends", "incapable_parent", "unattended"])
        ),
        health=draw(st.sampled_from(["healthy", "disabled", "ill"])),
        assistance=frozenset(
            draw(st.sets(st.sampled_from(["dibao", "tekun", "orphan_allowance", "medical", "other"])))
        ),
        parents=tuple(parents),
    )


# --- properties ------------------------------------------------------------------------------------


@RULES_SETTINGS
@given(child_facts(), dates)
def test_status_matches_the_definition(facts: ChildFacts, on: date) -> None:
    d = evaluate_left_behind(facts, on)
    assert (d.type if d.left_behind else None) == oracle_left_behind(facts, on)
    if d.left_behind:
        assert d.type in (BOTH_AWAY, ONE_AWAY_OTHER_INCAPABLE)
        assert d.status == "left_behind"
    else:
        assert d.type is None and d.since is None
        assert d.status == "not_left_behind"


@RULES_SETTINGS
@given(child_facts(), dates, st.integers(min_value=14, max_value=18))
def test_status_follows_the_policy_age_limit(facts: ChildFacts, on: date, limit: int) -> None:
    d = evaluate_left_behind(facts, on, age_limit=limit)
    assert (d.type if d.left_behind else None) == oracle_left_behind(facts, on, limit)


@RULES_SETTINGS
@given(child_facts(), dates)
def test_status_is_a_function_of_facts_and_date(facts: ChildFacts, on: date) -> None:
    first = evaluate_left_behind(facts, on)
    # Rebuilding equal facts (a new object, parents in another order) gives the same answer.
    again = ChildFacts(**{**facts.__dict__, "parents": tuple(reversed(facts.parents))})
    assert evaluate_left_behind(facts, on) == first
    assert evaluate_left_behind(again, on) == first
    k = evaluate_key_target(facts, first, on)
    assert evaluate_key_target(again, first, on) == k


@RULES_SETTINGS
@given(child_facts(), dates, st.integers(min_value=1, max_value=4000))
def test_no_left_behind_after_age_out(facts: ChildFacts, d: date, extra_days: int) -> None:
    later = age_out_date(facts.birth_date) + timedelta(days=extra_days - 1)
    after = evaluate_left_behind(facts, later)
    assert not after.left_behind
    assert [r.code for r in after.reasons] == ["age_out"]
    if evaluate_left_behind(facts, d).left_behind:
        assert d < age_out_date(facts.birth_date)


@RULES_SETTINGS
@given(child_facts(), dates)
def test_reasons_are_never_empty_and_cite_something(facts: ChildFacts, on: date) -> None:
    d = evaluate_left_behind(facts, on)
    assert d.reasons
    for r in d.reasons:
        assert r.code and r.text.strip()


@RULES_SETTINGS
@given(child_facts(), dates)
def test_since_lies_between_birth_and_the_date(facts: ChildFacts, on: date) -> None:
    d = evaluate_left_behind(facts, on)
    if d.left_behind:
        assert d.since is not None
        assert facts.birth_date <= d.since <= on
        # …and the child is left-behind on `since` too when the facts have not changed since then.
        assert evaluate_left_behind(facts, d.since).left_behind


@RULES_SETTINGS
@given(births | leap_births, dates)
def test_full_years_matches_the_oracle(birth: date, on: date) -> None:
    assert full_years(birth, on) == (oracle_full_years(birth, on) if on > birth else 0)


@RULES_SETTINGS
@given(births | leap_births, st.integers(min_value=1, max_value=20))
def test_birthday_and_day_after(birth: date, n: int) -> None:
    bday = anniversary(birth, n)
    assert bday == oracle_anniversary(birth, n)
    assert full_years(birth, bday) == n - 1
    assert full_years(birth, bday + timedelta(days=1)) == n
    assert under_age(birth, bday, n)
    assert not under_age(birth, bday + timedelta(days=1), n)
    assert age_out_date(birth, n) == bday + timedelta(days=1)


@RULES_SETTINGS
@given(births | leap_births, dates, dates)
def test_full_years_is_monotone(birth: date, a: date, b: date) -> None:
    lo, hi = sorted((a, b))
    assert full_years(birth, lo) <= full_years(birth, hi)


@RULES_SETTINGS
@given(births | leap_births, dates, st.integers(min_value=1, max_value=20))
def test_under_age_agrees_with_full_years(birth: date, on: date, limit: int) -> None:
    assume(on >= birth)
    assert under_age(birth, on, limit) == (full_years(birth, on) < limit)
    assert under_age(birth, on, limit) == (on < age_out_date(birth, limit))


@RULES_SETTINGS
@given(births | leap_births, dates)
def test_age_band_boundaries_agree_with_full_years(birth: date, on: date) -> None:
    assume(on >= birth)
    age = full_years(birth, on)
    expected = "0-5" if age <= 5 else "6-13" if age <= 13 else "14-15" if age <= 15 else None
    assert age_band(birth, on) == expected
    # The band is None exactly when the child is no longer under 16.
    assert (age_band(birth, on) is None) == (not under_age(birth, on, 16))


@RULES_SETTINGS
@given(child_facts(), dates)
def test_key_target_reasons(facts: ChildFacts, on: date) -> None:
    d = evaluate_left_behind(facts, on)
    k = evaluate_key_target(facts, d, on)
    assert set(k.reasons) <= {"hardship", "disabled", "girl", "unattended"}
    assert k.is_key_target == bool(k.reasons)
    assert len(set(k.reasons)) == len(k.reasons)
    assert ("girl" in k.reasons) == (d.left_behind and facts.sex == "2")
    assert ("disabled" in k.reasons) == (d.left_behind and facts.health == "disabled")
    hardship = bool(facts.assistance & {"dibao", "tekun", "orphan_allowance"})
    assert ("hardship" in k.reasons) == (d.left_behind and hardship)
    young = on <= oracle_anniversary(facts.birth_date, 16)
    assert ("unattended" in k.reasons) == (facts.care_arrangement == "unattended" and young)


@RULES_SETTINGS
@given(child_facts(), dates, st.sets(st.sampled_from(["dibao", "tekun", "orphan_allowance", "medical"])))
def test_key_target_hardship_codes_are_policy(facts: ChildFacts, on: date, codes: set[str]) -> None:
    d = evaluate_left_behind(facts, on)
    k = evaluate_key_target(facts, d, on, hardship_codes=codes)
    assert ("hardship" in k.reasons) == (d.left_behind and bool(facts.assistance & codes))


@RULES_SETTINGS
@given(child_facts(), dates)
def test_distress_categories(facts: ChildFacts, on: date) -> None:
    found = suggest_distress_categories(facts, on)
    assert set(found) <= {"poverty", "disability", "de_facto_unsupported", "guardianship_missing"}
    if on > oracle_anniversary(facts.birth_date, 18):
        assert found == ()
        return
    assert ("poverty" in found) == bool(facts.assistance & {"dibao", "tekun"})
    assert ("disability" in found) == (facts.health == "disabled")
    assert ("guardianship_missing" in found) == (facts.care_arrangement == "unattended")
    if "de_facto_unsupported" in found:
        assert {p.relation for p in facts.parents} == {"father", "mother"}
        assert all(p.deceased or not p.guardianship_capacity for p in facts.parents)


bools = st.none() | st.booleans()


@RULES_SETTINGS
@given(st.none() | births, bools, bools, bools, bools, dates)
def test_guardian_eligibility(
    birth: date | None, a: bool | None, b: bool | None, c: bool | None, d: bool | None, on: date
) -> None:
    ok, problems = guardian_eligibility(GuardianFacts(birth, a, b, c, d), on)
    answers = [a, b, c, d]
    minor = birth is not None and oracle_full_years(birth, on) < 18
    assert ok == (all(x is True for x in answers) and not minor)
    assert ok == (problems == ())
    assert sum(p.startswith("尚未核实") for p in problems) == sum(x is None for x in answers)
    assert sum(p.startswith("不符合") for p in problems) == sum(x is False for x in answers)
    assert len(problems) == sum(x is not True for x in answers) + (1 if minor else 0)
