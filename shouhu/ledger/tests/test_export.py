"""Export (issue 3 part 7): both layouts round-trip through the import; the summary sheet's cross-checks;
formula neutralisation; only what the user may see; every export logged with its reason."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from typing import Any

import pytest

from shouhu.core.models import AccessLog
from shouhu.ledger.exporter import ExportError, breakdowns, check_summary, export_ledger, summary_table
from shouhu.ledger.importer import import_ledger
from shouhu.registry import rules
from shouhu.registry.models import Child

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 28)


@pytest.fixture
def ledger(users: dict[str, Any], make_child: Any) -> list[Child]:
    kids = [
        make_child(name="王一", notes='=HYPERLINK("http://x")'),
        make_child(
            name="王二",
            sex="2",
            birth_date=date(2022, 2, 2),
            schooling="kindergarten",
            health="ill",
            illness="哮喘",
            guardianship_rating="",
            assistance=["dibao", "medical_relief"],
        ),
        make_child(
            name="王三",
            birth_date=date(2011, 1, 10),
            schooling="junior",
            care_arrangement="relatives_friends",
            health="disabled",
            disability_type="4",
            disability_grade="2",
            guardianship_rating="poor",
            village="500229102202",
            actor=users["vw_same_town"],
        ),
        make_child(name="王四", id_number=None, hukou_registered=False, birth_date=date(2019, 9, 9)),
        make_child(
            name="龙一", village="500229201201", actor=users["vw_other"], boarding=True, schooling="primary"
        ),
        make_child(
            name="非留守",
            parents=[
                {"relation": "father", "name": "父", "away_for_work": False, "guardianship_capacity": True}
            ],
            care_arrangement="parent",
        ),
    ]
    return kids


@pytest.mark.parametrize("layout", ["official", "platform"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_changes_nothing(
    users: dict[str, Any], ledger: list[Child], layout: str, fmt: str
) -> None:
    buf = io.BytesIO()
    n = export_ledger(buf, user=users["sup"], reason="核对", layout=layout, status="all", fmt=fmt, on=TODAY)
    assert n == 5  # 巴山镇 only: 龙一 is out of the supervisor's scope
    result = import_ledger(buf.getvalue(), f"export.{fmt}", actor=users["sup"], today=TODAY)
    assert (result.rows, result.unchanged, result.invalid, result.created, result.updated) == (
        5,
        5,
        0,
        0,
        0,
    ), result.errors
    assert result.ignored_columns == []


def test_formula_cells_are_neutralised(users: dict[str, Any], ledger: list[Child]) -> None:
    import python_calamine as pc

    buf = io.BytesIO()
    export_ledger(buf, user=users["sup"], reason="核对", layout="official", status="all", on=TODAY)
    rows = pc.CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_index(0).to_python()
    cells = [c for r in rows for c in r if isinstance(c, str)]
    assert '\'=HYPERLINK("http://x")' in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    csvbuf = io.BytesIO()
    export_ledger(
        csvbuf, user=users["sup"], reason="核对", layout="platform", status="all", fmt="csv", on=TODAY
    )
    assert "'=HYPERLINK" in csvbuf.getvalue().decode("utf-8-sig")


def test_export_needs_a_reason_and_is_logged(users: dict[str, Any], ledger: list[Child]) -> None:
    with pytest.raises(ExportError):
        export_ledger(io.BytesIO(), user=users["sup"], reason="  ")
    export_ledger(io.BytesIO(), user=users["sup"], reason="季度报送", ip="10.0.0.1")
    log = AccessLog.objects.get(action="export", user=users["sup"])
    assert "季度报送" in log.detail and log.ip == "10.0.0.1"


def test_export_only_what_the_user_sees(users: dict[str, Any], ledger: list[Child]) -> None:
    assert export_ledger(io.BytesIO(), user=users["sup_other"], reason="x", status="all") == 1
    assert export_ledger(io.BytesIO(), user=users["vw_other"], reason="x", status="all") == 1
    assert export_ledger(io.BytesIO(), user=users["county"], reason="x", status="all") == 6


def test_roles_without_the_export_capability_are_refused(users: dict[str, Any], ledger: list[Child]) -> None:
    """The ledger holds every field group: only roles that see them all export it (issue 9: the
    education bureau, which once exported a masked ledger, sees identity and schooling only)."""
    for who in ("edu", "school", "officer", "auditor", "nobody"):
        with pytest.raises(ExportError):
            export_ledger(io.BytesIO(), user=users[who], reason="x", status="all", fmt="csv")


def test_identifiers_masked_for_roles_that_may_not_see_them(
    users: dict[str, Any], ledger: list[Child], export_without_identifiers: Any
) -> None:
    buf = io.BytesIO()
    export_ledger(
        buf, user=export_without_identifiers, reason="x", status="all", fmt="csv", layout="platform"
    )
    text = buf.getvalue().decode("utf-8-sig")
    assert ledger[0].id_number is not None
    assert ledger[0].id_number not in text and "500229************" in text
    from shouhu.core.models import AccessLog

    row = AccessLog.objects.filter(user=export_without_identifiers, action="export").get()
    assert row.count == 6 and not row.identifiers and row.detail == "x"


def test_summary_breakdowns_sum_to_totals(users: dict[str, Any], ledger: list[Child]) -> None:
    qs = Child.objects.restrict(users["county"], "ledger.export")
    table = summary_table(qs, on=TODAY)
    assert check_summary(table) == []
    total = table[-1]
    assert total["total"] == 6 and len(table) == 3  # 巴山镇, 龙田乡, 合计
    # Recount in Python, breakdown by breakdown.
    kids = list(qs)
    expected: Counter[str] = Counter()
    for c in kids:
        age = rules.full_years(c.birth_date, TODAY)
        band = "0_5" if age < 6 else "6_13" if age < 14 else "14_15" if age < 16 else "16_plus"
        expected.update(
            [
                f"sex:{c.sex}",
                f"age:{band}",
                f"care_arrangement:{c.care_arrangement}",
                f"schooling:{c.schooling}",
                f"health:{c.health}",
                f"guardianship_rating:{c.guardianship_rating}",
                f"lb_type:{c.lb_type}",
            ]
        )
    for b in breakdowns():
        for v, _l in b.parts:
            assert total[f"{b.key}:{v}"] == expected[f"{b.key}:{v}"], (b.key, v)


def test_summary_sheet_in_the_workbook_cross_checks(users: dict[str, Any], ledger: list[Child]) -> None:
    import python_calamine as pc

    buf = io.BytesIO()
    export_ledger(buf, user=users["county"], reason="x", status="all", on=TODAY)
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue()))
    assert wb.sheet_names[1].startswith("附件3")
    rows = wb.get_sheet_by_name(wb.sheet_names[1]).to_python()
    data = [r for r in rows[4:] if r and isinstance(r[1], (int, float)) and r[0]]
    assert [r[0] for r in data][-1] == "合计"
    for r in data:
        j = 2
        for b in breakdowns():
            assert sum(r[j : j + len(b.parts)]) == r[1], (r[0], b.key)
            j += len(b.parts)
    for col in range(1, len(data[0])):
        assert sum(_number(r[col]) for r in data[:-1]) == data[-1][col]


def _number(value: object) -> int | float:
    assert isinstance(value, (int, float)), value
    return value


def test_check_summary_finds_a_broken_row() -> None:
    parts = {f"{b.key}:{v}": 0 for b in breakdowns() for v, _l in b.parts}
    row = {"township": "1", "name": "甲", "total": 1, **parts}
    assert check_summary([row])


def test_official_layout_has_title_unit_two_level_headers_and_footer(
    users: dict[str, Any], ledger: list[Child]
) -> None:
    import python_calamine as pc

    buf = io.BytesIO()
    export_ledger(buf, user=users["sup"], reason="x", on=TODAY)
    rows = pc.CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "农村留守儿童信息台账" and rows[1][0].startswith("填报单位")
    assert "儿童基本情况" in rows[2] and "父亲" in rows[2] and "母亲" in rows[2] and "监护情况" in rows[2]
    footer = rows[-1][0]
    assert isinstance(footer, str)
    assert rows[3][1] == "姓名" and "单位负责人" in footer
