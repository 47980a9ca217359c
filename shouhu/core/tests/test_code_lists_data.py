"""The code lists are data an administrator will edit; catch malformed data before it loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "code_lists.json"
EXPECTED_LISTS = {
    "ethnicity",
    "relationship",
    "disability_type",
    "disability_grade",
    "health",
    "schooling",
    "care_arrangement",
    "left_behind_type",
    "guardianship_rating",
    "income_source",
    "assistance",
    "distress_category",
    "incapacity_reason",
    "agreement_responsibility",
    "agreement_negative",
    "province",
}


@pytest.fixture(scope="module")
def lists() -> dict[str, list[dict[str, str]]]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def test_all_lists_present(lists: dict[str, list[dict[str, str]]]) -> None:
    assert set(lists) >= EXPECTED_LISTS


def test_entries_well_formed_and_codes_unique(lists: dict[str, list[dict[str, str]]]) -> None:
    for name, entries in lists.items():
        assert entries, name
        codes = [e["code"] for e in entries]
        assert len(codes) == len(set(codes)), f"duplicate code in {name}"
        for e in entries:
            assert {"code", "zh", "en"} <= set(e), (name, e)
            assert all(isinstance(e[k], str) and e[k].strip() for k in ("code", "zh", "en")), (name, e)
        labels = [e["zh"] for e in entries]
        assert len(labels) == len(set(labels)), f"duplicate label in {name}"


def test_ethnicity(lists: dict[str, list[dict[str, str]]]) -> None:
    eth = lists["ethnicity"]
    assert len(eth) == 58
    assert [e["code"] for e in eth[:56]] == [f"{i:02d}" for i in range(1, 57)]
    assert [e["code"] for e in eth[56:]] == ["97", "98"]
    by_code = {e["code"]: e["zh"] for e in eth}
    assert by_code["01"] == "汉族"
    assert by_code["15"] == "土家族"
    assert by_code["56"] == "基诺族"
    assert all(by_code[f"{i:02d}"].endswith("族") for i in range(1, 57))


def test_relationship_core_codes(lists: dict[str, list[dict[str, str]]]) -> None:
    rel = {e["code"]: e["zh"] for e in lists["relationship"]}
    assert (rel["51"], rel["52"], rel["61"], rel["62"], rel["63"], rel["64"]) == (
        "父亲",
        "母亲",
        "祖父",
        "祖母",
        "外祖父",
        "外祖母",
    )
    assert rel["99"] == "非亲属"


def test_province(lists: dict[str, list[dict[str, str]]]) -> None:
    prov = {e["code"]: e["zh"] for e in lists["province"]}
    assert len(prov) == 34
    assert prov["50"] == "重庆市"
    assert prov["11"] == "北京市"
    assert prov["82"] == "澳门特别行政区"
    assert all(len(c) == 2 and c.isdigit() for c in prov)


def test_fixed_code_sets(lists: dict[str, list[dict[str, str]]]) -> None:
    codes = {name: [e["code"] for e in entries] for name, entries in lists.items()}
    assert codes["schooling"] == [
        "kindergarten",
        "not_in_kindergarten",
        "primary",
        "junior",
        "senior",
        "vocational",
        "dropped_out",
        "not_in_school",
    ]
    assert codes["disability_type"] == [str(i) for i in range(1, 8)]
    assert codes["disability_grade"] == ["1", "2", "3", "4"]
    assert 8 <= len(codes["agreement_responsibility"]) <= 12
    assert 10 <= len(codes["agreement_negative"]) <= 12
