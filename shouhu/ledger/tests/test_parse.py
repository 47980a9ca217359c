"""Cell values as Chinese spreadsheets hold them (issue 3 part 2), with property tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouhu.ledger import importer, parse
from shouhu.ledger.columns import COLUMNS
from shouhu.ledger.exporter import neutralise

DAY = dt.date(2010, 5, 3)


def to_fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in s)


@pytest.mark.parametrize(
    "raw",
    [
        DAY,
        dt.datetime(2010, 5, 3, 0, 0),
        40301,
        40301.0,
        "40301",
        "2010.5.3",
        "2010-5-3",
        "2010/5/3",
        "2010/05/03",
        "2010年5月3日",
        "2010 年 5 月 3 日",
        "20100503",
        20100503,
        20100503.0,
        "２０１０．５．３",
        "2010-05-03T00:00:00",
    ],
)
def test_dates_in_every_form(raw: object) -> None:
    assert parse.parse_date(raw) == DAY


def test_month_only_dates_where_allowed() -> None:
    assert parse.parse_date("2020.3", month_ok=True) == dt.date(2020, 3, 1)
    assert parse.parse_date("2020年3月", month_ok=True) == dt.date(2020, 3, 1)
    with pytest.raises(parse.ParseError, match="缺少日"):
        parse.parse_date("2020.3")


@pytest.mark.parametrize("raw", ["2010.13.3", "2010.2.30", "明年", "2010-5-3-4", -5])
def test_bad_dates_say_why(raw: object) -> None:
    with pytest.raises(parse.ParseError) as exc:
        parse.parse_date(raw)
    assert "日期" in exc.value.message


def test_blank_date_is_none() -> None:
    assert parse.parse_date(None) is None and parse.parse_date("  ") is None


@given(st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_date_forms_roundtrip(d: dt.date) -> None:
    serial = (d - parse.EXCEL_EPOCH).days
    forms = [
        d,
        serial,
        float(serial),
        f"{d.year}.{d.month}.{d.day}",
        f"{d.year}-{d.month}-{d.day}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d:%Y%m%d}",
        int(f"{d:%Y%m%d}"),
        to_fullwidth(f"{d.year}.{d.month}.{d.day}"),
    ]
    assert {parse.parse_date(f) for f in forms} == {d}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("√", True),
        ("×", False),
        ("有", True),
        ("无", False),
        ("Y", True),
        ("n", False),
        (1, True),
        (0.0, False),
        ("", None),
        (None, None),
        (True, True),
    ],
)
def test_yes_no(raw: object, expected: bool | None) -> None:
    assert parse.parse_bool(raw) is expected


def test_yes_no_refuses_nonsense() -> None:
    with pytest.raises(parse.ParseError, match="是"):
        parse.parse_bool("也许")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("男", "1"), ("女", "2"), ("1", "1"), (2, "2"), (2.0, "2"), ("男性", "1"), ("Ｆ", "2"), (" 女 ", "2")],
)
def test_sex(raw: object, expected: str) -> None:
    assert parse.parse_sex(raw) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("汉族", "01"),
        ("汉", "01"),
        ("土家族", "15"),
        ("1", "01"),
        (1.0, "01"),
        ("01", "01"),
        ("１５", "15"),
        ("苗族", "06"),
    ],
)
def test_ethnicity_by_name_or_code(raw: object, expected: str) -> None:
    parse.clear_caches()
    assert parse.parse_code("ethnicity", raw) == expected


@pytest.mark.django_db
def test_unknown_ethnicity_says_how() -> None:
    parse.clear_caches()
    with pytest.raises(parse.ParseError, match="民族名称"):
        parse.parse_code("ethnicity", "火星族")


@pytest.mark.django_db
def test_multi_codes_by_name() -> None:
    parse.clear_caches()
    assert parse.parse_multi("assistance", "低保、临时救助") == ["dibao", "temporary_relief"]
    assert parse.parse_multi("assistance", "无") == []
    assert parse.parse_code("province", "广东省") == "44" and parse.parse_code("province", "广东") == "44"


@pytest.mark.django_db
def test_choices_by_label() -> None:
    assert parse.parse_choice("schooling", "初中") == "junior"
    assert parse.parse_choice("care_arrangement", "祖辈") == "grandparents"
    assert parse.parse_choice("guardianship_rating", "较好") == "good"
    with pytest.raises(parse.ParseError, match="较好"):
        parse.parse_choice("guardianship_rating", "优")


def test_text_cleans_fullwidth_and_invisible() -> None:
    assert parse.text("\u200b１２３ａｂｃ\u3000") == "123abc"
    assert parse.text(3.0) == "3"
    assert parse.text("'=SUM(A1)") == "=SUM(A1)"  # neutralised on export, restored on import


@given(st.text(max_size=30))
def test_neutralise_roundtrip(s: str) -> None:
    out = neutralise(s)
    assert not out.startswith(("=", "+", "-", "@"))
    if s.strip() == s and not s.startswith(("\t", "\r")):
        assert parse.text(out) == parse.text(s)


def test_id_number_cells_keep_excel_damage_visible() -> None:
    assert parse.parse_id(5.00229201005031e17) == 5.00229201005031e17
    assert parse.parse_id("５００２２９２０１００５０３００１ｘ") == "50022920100503001x"
    assert parse.parse_phone(13800138000.0) == "13800138000"


@given(st.text(alphabet=st.sampled_from(list("张王李小明红 \n\u3000\t")), min_size=1, max_size=10))
def test_names_lose_only_whitespace(name: str) -> None:
    from shouhu.registry.validation import clean_name

    cleaned = clean_name(parse.parse_name(name))
    assert cleaned == "".join(name.split()).replace("\u3000", "")


_KINDS = sorted({c.kind for c in COLUMNS if c.kind not in ("village", "school")})
_CELLS = st.one_of(
    st.none(),
    st.sampled_from(
        ["", " ", "是", "否", "√", "男", "女", "2", "汉族", "01", "土家族", "小学", "祖辈照料", "一般"]
    ),
    st.sampled_from(
        ["广东省", "44", "务工收入", "低保、临时救助", "？", "61", "祖母", "2010.5.3", "13800138000"]
    ),
    st.text(max_size=6),
    st.integers(-5, 50000),
    st.dates(min_value=dt.date(1900, 1, 1)),
)


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except parse.ParseError as exc:
        return ("error", exc.message)


@pytest.mark.django_db
@given(st.lists(st.tuples(st.sampled_from(_KINDS), _CELLS), max_size=30))
def test_memoised_cell_reading_is_the_reading(cells: list[tuple[str, Any]]) -> None:
    """R1.9: the import's per-import memo of repeated cells gives exactly what reading the cell gives, the
    second time too (errors included), and never hands two rows the same list."""
    cache: dict[tuple[str, Any], Any] = {}
    for kind, raw in cells + cells:
        expected = _outcome(importer._convert, kind, raw)
        assert _outcome(importer._convert_cached, cache, kind, raw) == expected
        if expected[0] == "ok" and isinstance(expected[1], list):
            first = importer._convert_cached(cache, kind, raw)
            assert first is not importer._convert_cached(cache, kind, raw)
