"""Masks that cannot be undone (R11.3, issue 9 part 4): a masked identifier, together with everything
else the same reader sees, leaves at least 100 possible numbers.

A reader who sees a child's identity group sees, beside the masked ID number, the birth date, the sex
and the village (whose code is the number's address code for a local child). The property test
enumerates every 18-digit number consistent with all of that — every sequence, its check character
computed — and counts them. Parents' and guardians' numbers (18 and 15 digits: the birth date and the
sex shown beside them) and phones the same way. The former mask (address code and the last four
characters) is shown to fail, which is why it was changed.
"""

from __future__ import annotations

import string
from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from shouhu.core.identity import compose_id_number, id_birth_date, id_sex, mask_id_number, mask_phone

MINIMUM = 100
births = st.dates(min_value=date(1940, 1, 1), max_value=date(2025, 12, 31))
addresses = st.sampled_from(["500229", "500101", "110105", "440306", "510104"])
sexes = st.sampled_from(["1", "2"])


def _matches(mask: str, candidate: str) -> bool:
    return len(mask) == len(candidate) and all(
        m == "*" or m == c for m, c in zip(mask, candidate, strict=True)
    )


def candidates_18(masked: str, birth: date, sex: str) -> list[str]:
    """Every valid 18-digit number with this mask, birth date and sex (the address code as masked, or
    any code consistent with it)."""
    out = []
    address = masked[:6]
    if "*" in address:
        raise AssertionError("the address code is what the village already tells")
    for seq in range(1000):
        number = compose_id_number(address, birth, seq)
        if _matches(masked, number) and id_birth_date(number) == birth and id_sex(number) == sex:
            out.append(number)
    return out


def candidates_15(masked: str, birth: date, sex: str) -> list[str]:
    """Legacy 15-digit numbers (adults): address, YYMMDD, three sequence digits, no check character."""
    out = []
    for seq in range(1000):
        number = f"{masked[:6]}{birth:%y%m%d}{seq:03d}"
        if _matches(masked, number) and id_sex(number) == sex:
            out.append(number)
    return out


@given(addresses, births, st.integers(min_value=0, max_value=999))
def test_a_masked_child_or_parent_number_leaves_at_least_100_numbers(
    address: str, birth: date, seq: int
) -> None:
    number = compose_id_number(address, birth, seq)
    sex = id_sex(number)
    found = candidates_18(mask_id_number(number) or "", birth, sex)
    assert number in found
    assert len(found) >= MINIMUM
    assert len(found) == 500  # every sequence of the right parity: the mask adds nothing to the page


@given(addresses, st.dates(min_value=date(1920, 1, 1), max_value=date(1999, 12, 31)), st.integers(0, 999))
def test_a_masked_legacy_number_leaves_at_least_100_numbers(address: str, birth: date, seq: int) -> None:
    number = f"{address}{birth:%y%m%d}{seq:03d}"
    found = candidates_15(mask_id_number(number) or "", birth, id_sex(number))
    assert number in found and len(found) >= MINIMUM


def test_the_former_mask_could_be_undone() -> None:
    """Address code + last four characters, with the birth date on the page: about 45 numbers — few
    enough to try one by one (the rebuild the issue reports). The new mask leaves 500."""

    def old_mask(n: str) -> str:
        return f"{n[:6]}{'*' * 8}{n[-4:]}"

    counts = []
    for seq in range(0, 1000, 37):
        number = compose_id_number("500229", date(2014, 5, 17), seq)
        counts.append(len(candidates_18(old_mask(number), date(2014, 5, 17), id_sex(number))))
    assert max(counts) < MINIMUM
    assert (
        min(
            len(
                candidates_18(
                    mask_id_number(compose_id_number("500229", date(2014, 5, 17), s)) or "",
                    date(2014, 5, 17),
                    "1",
                )
            )
            for s in (1, 3)
        )
        == 500
    )


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
landlines = st.from_regex(r"0(10|2[0-9])[2-9][0-9]{7}|0[3-9][0-9]{2}[2-9][0-9]{6,7}", fullmatch=True)


@given(st.one_of(mobiles, landlines))
def test_a_masked_phone_leaves_at_least_100_numbers(phone: str) -> None:
    """Nothing else on a page tells a digit of a parent's or guardian's phone: the hidden digits alone
    must leave 100 possibilities."""
    masked = mask_phone(phone) or ""
    hidden = masked.count("*")
    assert len(masked) == len(phone) and _matches(masked, phone)
    assert 10**hidden >= MINIMUM


def test_check_character_is_not_shown() -> None:
    """The check character narrows 1000 sequences to 1 in 11: it is hidden with everything else."""
    number = compose_id_number("500229", date(2016, 2, 29), 123)
    assert ric.calc_check_digit(number) == number[-1]
    assert (mask_id_number(number) or "")[-1] == "*"
    assert set((mask_id_number(number) or "")[6:]) == {"*"}
    assert all(ch in string.digits for ch in (mask_id_number(number) or "")[:6])
