"""Tests for ID numbers and phones (R1.7, R11.3).

The check character helper below is written independently of stdnum on purpose: if both
implementations agreed only because they shared a bug, these tests would not notice.
"""

from __future__ import annotations

import datetime as dt
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouhu.core.identity import (
    IdentityError,
    id_birth_date,
    id_sex,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
    validate_id_number,
    validate_phone,
)

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK_CHARS = "10X98765432"  # GB 11643-1999: index = (sum of digit × weight) mod 11


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def make_id(address: str = "500229", birth: str = "20100101", seq: str = "123") -> str:
    first17 = address + birth + seq
    return first17 + check_char(first17)


FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")

addresses = st.text(alphabet="0123456789", min_size=6, max_size=6)
births = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2025, 12, 31))
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    return make_id(draw(addresses), draw(births).strftime("%Y%m%d"), draw(sequences))


def test_helper_matches_published_example() -> None:
    # The example number from GB 11643-1999 / stdnum's documentation.
    assert check_char("36042619910101007") == "1"


# --- property tests --------------------------------------------------------------------------


@given(valid_ids())
def test_valid_numbers_accepted(number: str) -> None:
    assert validate_id_number(number) == number


@given(valid_ids(), st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_changing_one_of_first_17_digits_is_rejected(number: str, pos: int, delta: int) -> None:
    changed = str((int(number[pos]) + delta) % 10)
    mutated = number[:pos] + changed + number[pos + 1 :]
    with pytest.raises(IdentityError) as exc:
        validate_id_number(mutated)
    # MOD 11-2 detects every single-digit substitution, so it is never silently accepted; the code
    # is "checksum" or, when Excel-damage heuristics apply, "excel_number".
    assert exc.value.code in {"checksum", "excel_number"}


@given(valid_ids())
def test_lower_case_x_and_full_width_accepted(number: str) -> None:
    assert validate_id_number(number.lower()) == number
    assert validate_id_number(number.translate(FULL_WIDTH)) == number
    assert validate_id_number(f" {number[:6]}\u3000{number[6:14]}\n{number[14:]} ") == number


@given(valid_ids(), births)
def test_birth_date_and_sex_roundtrip(number: str, other: dt.date) -> None:
    birth = id_birth_date(number)
    assert birth.strftime("%Y%m%d") == number[6:14]
    sex = id_sex(number)
    assert sex == ("1" if int(number[16]) % 2 else "2")
    assert validate_id_number(number, birth_date=birth, sex=sex) == number
    if other != birth:
        with pytest.raises(IdentityError) as exc:
            validate_id_number(number, birth_date=other)
        assert exc.value.code == "birth_mismatch"


@given(valid_ids())
def test_mask_keeps_the_address_code_only(number: str) -> None:
    masked = mask_id_number(number)
    assert masked == number[:6] + "*" * 12
    assert mask_id_number(masked) == masked  # masking a stored mask again changes nothing


# --- examples --------------------------------------------------------------------------------


def test_normalize() -> None:
    assert normalize_id_number(" ５００２２９\u3000２０１００１０１\r\n１２３ｘ ") == "50022920100101123X"


def test_wrong_check_char_names_expected() -> None:
    good = make_id(seq="123")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(IdentityError) as exc:
        validate_id_number(wrong)
    assert exc.value.code == "checksum"
    assert f"“{good[-1]}”" in exc.value.message
    assert str(exc.value) == exc.value.message


def test_impossible_birth_date() -> None:
    with pytest.raises(IdentityError) as exc:
        validate_id_number(make_id(birth="20100230"))
    assert exc.value.code == "birth_date"
    assert "20100230" in exc.value.message


def test_future_birth_date() -> None:
    with pytest.raises(IdentityError) as exc:
        validate_id_number(make_id(birth="20990101"))
    assert exc.value.code == "birth_date"


def test_address_code_not_checked() -> None:
    # 000000 is no county at all; R1.7 says the address code is not checked.
    number = make_id(address="000000")
    assert validate_id_number(number) == number


def test_sex_mismatch() -> None:
    male = make_id(seq="123")  # 17th digit 3: odd, male
    assert validate_id_number(male, sex="1") == male
    with pytest.raises(IdentityError) as exc:
        validate_id_number(male, sex="2")
    assert exc.value.code == "sex_mismatch"
    female = make_id(seq="124")
    assert id_sex(female) == "2"
    # Unknown / unspecified sex (GB/T 2261.1 codes 0 and 9) is not cross-checked.
    assert validate_id_number(female, sex="9") == female


def test_birth_mismatch_names_both_dates() -> None:
    with pytest.raises(IdentityError) as exc:
        validate_id_number(make_id(birth="20100101"), birth_date=dt.date(2010, 1, 2))
    assert exc.value.code == "birth_mismatch"
    assert "2010年1月1日" in exc.value.message
    assert "2010年1月2日" in exc.value.message


def test_wrong_length_says_how_many() -> None:
    with pytest.raises(IdentityError) as exc:
        validate_id_number("5002292010010112")
    assert exc.value.code == "length"
    assert "16" in exc.value.message


def test_non_digit() -> None:
    with pytest.raises(IdentityError) as exc:
        validate_id_number("5002292O100101123X")  # letter O for zero
    assert exc.value.code == "format"
    assert "第 8 位" in exc.value.message
    with pytest.raises(IdentityError) as exc:
        validate_id_number("50022920100101123Y")
    assert exc.value.code == "format"
    with pytest.raises(IdentityError) as exc:
        validate_id_number("")
    assert exc.value.code == "format"


def test_legacy_15_digit_only_when_allowed() -> None:
    legacy = "500229780101123"
    with pytest.raises(IdentityError) as exc:
        validate_id_number(legacy)
    assert exc.value.code == "legacy_not_allowed"
    assert "18" in exc.value.message
    assert validate_id_number(legacy, allow_legacy=True) == legacy
    assert id_birth_date(legacy) == dt.date(1978, 1, 1)
    assert id_sex(legacy) == "1"
    assert id_sex("500229780101124") == "2"
    with pytest.raises(IdentityError) as exc:
        validate_id_number(legacy, allow_legacy=True, sex="2")
    assert exc.value.code == "sex_mismatch"
    with pytest.raises(IdentityError) as exc:
        validate_id_number("500229780230123", allow_legacy=True)
    assert exc.value.code == "birth_date"


@pytest.mark.parametrize("raw", ["5.00229E+17", "5.00229e+17", "5E+17", "500229201001011000", 5.00229e17])
def test_excel_mangled(raw: object) -> None:
    with pytest.raises(IdentityError) as exc:
        validate_id_number(raw)  # type: ignore[arg-type]
    assert exc.value.code == "excel_number"
    assert "文本" in exc.value.message


def test_real_number_ending_in_000_is_not_excel() -> None:
    # Find a sequence whose check character happens to be 0, giving a number ending in "000".
    for seq in (f"{n:03d}" for n in range(0, 1000, 10)):
        number = make_id(seq=seq)
        if number.endswith("000"):
            assert validate_id_number(number) == number
            break
    else:
        pytest.skip("no ...000 number for this address and date")


def test_mask_id_edge_cases() -> None:
    assert mask_id_number("50022920100101123X") == "500229************"
    assert mask_id_number("500229780101123") == "500229*********"
    assert mask_id_number("500229********123X") == "500229************"  # the former mask, re-masked
    assert mask_id_number("12345678") == "123*****"
    assert mask_id_number(None) is None
    assert mask_id_number("") == ""


def test_error_pickles() -> None:
    err = IdentityError("checksum", "消息")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.message) == ("checksum", "消息")


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("19912345678", "19912345678"),
        ("023-59221234", "02359221234"),
        ("(023)59221234", "02359221234"),
        ("（023）5922 1234", "02359221234"),
        ("010-87654321", "01087654321"),
        ("0851-8123456", "08518123456"),
        ("0755-81234567", "075581234567"),
        ("+86 23 5922 1234", "02359221234"),
    ],
)
def test_valid_phones(raw: str, expected: str) -> None:
    assert validate_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "12812345678", "1381234567", "138123456789", "59221234", "023-5922123", "abc", "02312345678"],
)
def test_invalid_phones(raw: str) -> None:
    with pytest.raises(IdentityError) as exc:
        validate_phone(raw)
    assert exc.value.code == "phone_format"
    assert "13812345678" in exc.value.message or "023-59221234" in exc.value.message


def test_missing_area_code_hint() -> None:
    with pytest.raises(IdentityError) as exc:
        validate_phone("59221234")
    assert "区号" in exc.value.message


def test_normalize_phone_strips_separators() -> None:
    assert normalize_phone(" 138-1234 5678 ") == "13812345678"


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("02359221234") == "023******34"
    assert mask_phone("08518123456") == "0851*****56"
    assert mask_phone(None) is None
