"""Import of a ledger workbook (issue 3 parts 1–5): the official two-level layout with every point of
Chinese spreadsheet reality, row/column/reason messages, all or nothing, accept-valid, idempotence,
duplicates, updates through the file service, a crash that leaves nothing."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from shouhu.core.identity import compose_id_number
from shouhu.core.models import Event
from shouhu.ledger.columns import BY_KEY
from shouhu.ledger.importer import Cancelled, error_workbook, import_ledger
from shouhu.ledger.tests.helpers import base_row, id_for, official
from shouhu.registry.models import Child, StatusPeriod

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 28)


def reality_rows() -> list[dict[str, Any]]:
    b2, b3, b4 = date(2014, 2, 14), date(2014, 5, 3), date(2013, 5, 3)
    x_id = id_for(b2, male=False, x=True)
    bad_checksum = id_for(date(2015, 7, 7))[:-1] + ("0" if id_for(date(2015, 7, 7))[-1] != "0" else "1")
    return [
        base_row(name="王一", birth=date(2015, 6, 1)),  # r5 real date cell
        base_row(
            name="王二",
            birth=b2,
            birth_date=(b2 - date(1899, 12, 30)).days,
            sex="2",
            ethnicity="15",
            id_number=x_id.lower(),
        ),  # r6 serial, code sex, ethnicity code, lower-case x
        base_row(
            name="张 \n小明",
            birth=b3,
            birth_date="2014.5.3",
            id_number=id_for(b3).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
            boarding="√",
            father_guardianship_capacity="有",
        ),  # r7 full-width, stray space/line break
        base_row(
            name="王四",
            birth=b4,
            birth_date="2013-5-3",
            sex="女",
            id_number=id_for(b4, male=False),
            ethnicity="苗族",
            mother_away_for_work="否",
            mother_away_since=None,
            mother_work_province=None,
            mother_guardianship_capacity="无",
            mother_incapacity_reason="重病",
            care_arrangement="父或母在家但无监护能力",
        ),  # r9 (after a blank line)
        base_row(name="李　五", birth=date(2012, 5, 3), birth_date="2012年5月3日"),  # r10
        base_row(name="王六", birth=date(2016, 5, 3), birth_date="20160503"),  # r11
        base_row(name="王七", birth=date(2017, 5, 3), birth_date=20170503),  # r13
        base_row(
            name="王八", birth=date(2015, 8, 8), id_number=5.00229201508081e17
        ),  # r14 ID stored as number
        base_row(name="王九", birth_date="2015.13.1", sex="未知"),  # r15 two errors
        base_row(name="王一", birth=date(2015, 6, 1)),  # r17 same ID as r5
        base_row(name="龙十一", birth=date(2015, 9, 9), village="500229201201"),  # r18 outside 巴山镇
        base_row(name="王十二", birth=date(2015, 7, 7), id_number=bad_checksum),  # r19 checksum
        base_row(name="王十三", birth=date(2018, 1, 1), id_number=None, hukou_registered="否"),  # r21
    ]


def by_row(result: Any) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for e in result.errors:
        out.setdefault(e["row"], []).append((e["column"], e["message"]))
    return out


def test_official_layout_with_spreadsheet_reality(users: dict[str, Any]) -> None:
    data, first = official(reality_rows())
    assert first == 5
    before = Child.objects.count()
    result = import_ledger(data, "巴山镇台账.xlsx", actor=users["sup"], today=TODAY)
    assert (result.rows, result.valid, result.invalid) == (13, 8, 5)
    assert (result.created, result.updated, result.written) == (0, 0, False)  # all or nothing
    assert Child.objects.count() == before
    assert result.ignored_columns == ["包村干部"]
    errors = by_row(result)
    assert sorted(errors) == [14, 15, 17, 18, 19]
    ((col, msg),) = errors[14]
    assert col == "公民身份号码" and "Excel" in msg and "文本" in msg
    cols15 = dict(errors[15])
    assert set(cols15) == {"出生日期", "性别"}
    assert "不是存在的日期" in cols15["出生日期"] and "男" in cols15["性别"]
    assert errors[17] == [("公民身份号码", "与第 5 行是同一儿童（公民身份号码相同），请删除重复的一行。")]
    assert errors[18][0][0] == "所在村（居）" and "无权" in errors[18][0][1]
    assert errors[19][0][0] == "公民身份号码" and "校验位" in errors[19][0][1]
    assert all(e["cell"] for e in result.errors)


def test_accept_valid_writes_the_valid_rows_normalised(users: dict[str, Any]) -> None:
    data, _first = official(reality_rows())
    result = import_ledger(data, "t.xlsx", actor=users["sup"], accept_valid=True, today=TODAY)
    assert (result.created, result.invalid, result.written) == (8, 5, True)
    kids = {c.name: c for c in Child.objects.filter(village_id="500229102201")}
    assert {"王一", "王二", "张小明", "王四", "李五", "王六", "王七", "王十三"} <= set(kids)
    assert kids["王二"].id_number.endswith("X") and kids["王二"].ethnicity == "15" and kids["王二"].sex == "2"
    assert kids["王二"].birth_date == date(2014, 2, 14)
    assert kids["张小明"].id_number.isdigit() and kids["张小明"].boarding is True
    assert kids["王四"].ethnicity == "06" and kids["王四"].lb_type == "one_away_other_incapable"
    assert kids["王七"].birth_date == date(2017, 5, 3)
    assert kids["王十三"].id_number is None and kids["王十三"].hukou_registered is False
    father = kids["王一"].parents.get(relation="father")
    assert (
        father.away_since == date(2020, 3, 1)
        and father.work_province == "44"
        and father.phone == "13800138000"
    )
    assert kids["王一"].lb_status is True
    assert StatusPeriod.objects.filter(child=kids["王一"]).count() == 1
    assert Event.objects.filter(child_id=str(kids["王一"].pk), verb="child.created").exists()


def test_an_unattended_child_raises_its_alert_once_on_import(users: dict[str, Any]) -> None:
    """R2.2 through the bulk path: a row saying 无人监护 opens the `unattended` alert at once, one alert."""
    from shouhu.care.models import Alert

    data, _first = official([base_row(name="孤小明", care_arrangement="无人监护")])
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert result.created == 1
    child = Child.objects.get(name="孤小明")
    alerts = Alert.objects.filter(kind="unattended", key=f"child:{child.pk}", resolved_at__isnull=True)
    assert alerts.count() == 1 and "孤小明" in alerts.get().message


def test_same_workbook_twice_changes_nothing(users: dict[str, Any]) -> None:
    rows = [r for r in reality_rows()[:7]]
    data, _ = official(rows)
    first = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (first.created, first.invalid) == (7, 0)
    events = Event.objects.count()
    versions = dict(Child.objects.values_list("pk", "version"))
    second = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 7)
    assert Event.objects.count() == events
    assert dict(Child.objects.values_list("pk", "version")) == versions


def test_a_changed_row_updates_through_the_file_service(users: dict[str, Any]) -> None:
    data, _ = official([base_row(name="王一")])
    import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    child = Child.objects.get(name="王一")
    assert child.lb_status is True
    # The father came home: the child is no longer left behind (status history, timeline).
    data, _ = official(
        [
            base_row(
                name="王一",
                father_away_for_work="否",
                father_away_since=None,
                father_work_province=None,
                father_work_city=None,
                care_arrangement="父母一方在家照料",
                guardianship_rating="较好",
            )
        ]
    )
    preview = import_ledger(data, "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    assert (preview.changed, preview.updated, preview.written) == (1, 0, False)
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (result.updated, result.created) == (1, 0)
    child.refresh_from_db()
    assert child.lb_status is False and child.version == 2 and child.guardianship_rating == "good"
    assert StatusPeriod.objects.filter(child=child).count() == 2
    verbs = set(Event.objects.filter(child_id=str(child.pk)).values_list("verb", flat=True))
    assert {"child.created", "child.updated", "child.status_exited"} <= verbs


def test_duplicates_without_id_by_similar_name_birth_and_village(
    users: dict[str, Any], make_child: Any
) -> None:
    make_child(
        actor=users["vw"], name="张晓明", id_number=None, hukou_registered=False, birth_date=date(2016, 3, 3)
    )
    rows = [
        base_row(
            name="张小明", birth=date(2016, 3, 3), id_number=None, hukou_registered="否"
        ),  # same child on file
        base_row(name="刘一", birth=date(2016, 4, 4), id_number=None, hukou_registered="否"),
        base_row(
            name="刘 一", birth=date(2016, 4, 4), id_number=None, hukou_registered="否"
        ),  # twice in the file
    ]
    data, _ = official(rows, blank_every=0)
    result = import_ledger(data, "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    actions = [o.action for o in result.outcomes]
    assert actions[0] in ("changed", "unchanged") and actions[1] == "new" and actions[2] == "invalid"
    assert "疑似同一儿童" in result.errors[0]["message"] and result.errors[0]["row"] == 7


def test_duplicate_of_a_file_out_of_scope_reveals_nothing(users: dict[str, Any], make_child: Any) -> None:
    other = make_child(
        actor=users["vw_other"], village="500229201201", name="龙小", birth_date=date(2015, 1, 1)
    )
    row = base_row(name="龙小", birth=date(2015, 1, 1), id_number=other.id_number)
    data, _ = official([row])
    result = import_ledger(data, "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    assert result.invalid == 1
    msg = result.errors[0]["message"]
    assert "已在其他地方建档" in msg and "龙田" not in msg and other.village.name not in msg
    from shouhu.core.accesslog import lookups_used

    assert lookups_used(users["sup"], "duplicate") == 1  # an identifier look-up, logged and counted


def test_an_import_cannot_test_numbers_against_the_county(users: dict[str, Any], make_child: Any) -> None:
    """Issue 9 part 8: out-of-scope duplicate answers are limited per day. Past the limit every row with
    an ID number is refused with the same message, whether its number is on file elsewhere or not."""
    from shouhu.core.models import PolicyParameter

    PolicyParameter.objects.update_or_create(
        key="duplicate_answers_per_day", defaults={"value": 1, "description": "t"}
    )
    far = [
        make_child(
            actor=users["vw_other"], village="500229201201", name=f"龙{i}", birth_date=date(2015, 1, i + 1)
        )
        for i in range(3)
    ]
    rows = [
        base_row(name=f"龙{i}", birth=date(2015, 1, i + 1), id_number=c.id_number) for i, c in enumerate(far)
    ]
    rows.append(base_row(name="新人", birth=date(2014, 2, 2)))  # not on file anywhere
    result = import_ledger(official(rows)[0], "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    messages = [e["message"] for e in result.errors]
    assert result.invalid == 4
    assert sum("已在其他地方建档" in m for m in messages) == 1
    assert sum("查重次数已用完" in m for m in messages) == 3  # two on file elsewhere, one new: alike


def test_crash_in_the_middle_leaves_the_database_as_it_was(users: dict[str, Any], monkeypatch: Any) -> None:
    import shouhu.registry.services as services

    data, _ = official([base_row(name="王一")])
    import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    rows = [
        base_row(name="王一", guardianship_rating="差"),
        *[base_row(name=f"新{i}", birth=date(2015, 1, i + 1)) for i in range(5)],
    ]
    data, _ = official(rows)
    counts = (Child.objects.count(), Event.objects.count())

    def boom(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "child_update", boom)
    with pytest.raises(RuntimeError):
        import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)  # new rows were bulk-written first
    assert (Child.objects.count(), Event.objects.count()) == counts
    assert Child.objects.get(name="王一").guardianship_rating == "adequate"


def test_cancel_rolls_back(users: dict[str, Any], monkeypatch: Any) -> None:
    import shouhu.ledger.importer as importer

    monkeypatch.setattr(importer, "PROGRESS_EVERY", 1)
    calls = iter([False, False, True, True, True])
    data, _ = official([base_row(name=f"新{i}", birth=date(2015, 1, i + 1)) for i in range(4)])
    before = Child.objects.count()
    with pytest.raises(Cancelled):
        import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY, should_cancel=lambda: next(calls))
    assert Child.objects.count() == before


def test_village_ledger_without_village_column_takes_region(users: dict[str, Any]) -> None:
    from shouhu.core.models import Region
    from shouhu.ledger.columns import COLUMNS
    from shouhu.ledger.reader import UnusableFile

    cols = [c for c in COLUMNS if c.key != "village"]
    data, _ = official([base_row(name="王一")], columns=cols)
    with pytest.raises(UnusableFile, match="所在村"):
        import_ledger(data, "t.xlsx", actor=users["vw"], today=TODAY)
    village = Region.objects.get(code="500229102201")
    result = import_ledger(data, "t.xlsx", actor=users["vw"], region=village, today=TODAY)
    assert result.created == 1 and Child.objects.get(name="王一").village_id == village.code
    other = Region.objects.get(code="500229201201")
    result = import_ledger(data, "t.xlsx", actor=users["vw"], region=other, dry_run=True, today=TODAY)
    assert result.invalid == 1 and "无权" in result.errors[0]["message"]


def test_flat_layout_any_column_order_csv_in_gbk(users: dict[str, Any]) -> None:
    row = base_row(name="王一", birth_date="2015/6/1")
    keys = list(reversed([k for k in row if k in BY_KEY]))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["台账（村级）"])
    w.writerow(["备用列", *[BY_KEY[k].label for k in keys]])
    w.writerow(["x", *[row[k] for k in keys]])
    data = buf.getvalue().encode("gbk")
    result = import_ledger(data, "ledger.csv", actor=users["sup"], today=TODAY)
    assert (result.created, result.invalid) == (1, 0), result.errors
    assert result.ignored_columns == ["备用列"]


def test_xls_is_read(users: dict[str, Any]) -> None:
    import xlwt

    row = base_row(name="王一")
    keys = [k for k in row if k in BY_KEY]
    wb = xlwt.Workbook()
    ws = wb.add_sheet("s")
    for j, k in enumerate(keys):
        ws.write(0, j, BY_KEY[k].label)
        v = row[k]
        ws.write(1, j, v.isoformat() if isinstance(v, date) else v)
    buf = io.BytesIO()
    wb.save(buf)
    result = import_ledger(buf.getvalue(), "old.xls", actor=users["sup"], today=TODAY)
    assert (result.created, result.invalid) == (1, 0), result.errors


def test_error_workbook_is_original_rows_plus_reasons(users: dict[str, Any]) -> None:
    import python_calamine as pc

    data, _ = official(reality_rows())
    result = import_ledger(data, "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    out = error_workbook(result, data, "t.xlsx")
    rows = pc.CalamineWorkbook.from_filelike(io.BytesIO(out)).get_sheet_by_index(0).to_python()
    header = rows[3]
    reason_col = header.index("错误原因")
    data_rows = rows[4:]
    assert len(data_rows) == 13
    reasons = [r[reason_col] for r in data_rows]
    assert sum(1 for r in reasons if r) == 5
    assert isinstance(reasons[7], str)
    assert "Excel" in reasons[7] and data_rows[7][1] == "王八"
    # The error workbook imports again: the reasons column is recognised and skipped.
    again = import_ledger(out, "t-错误报告.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    assert again.rows == 13 and again.ignored_columns == ["包村干部"]


def test_parent_ids_and_phones_validated_per_parent_column(users: dict[str, Any]) -> None:
    row = base_row(
        name="王一", father_phone="5922123", mother_id_number=compose_id_number("500229", date(1990, 1, 1), 3)
    )
    data, _ = official([row])
    result = import_ledger(data, "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    cols = {e["column"] for e in result.errors}
    assert cols == {"父亲联系电话", "母亲公民身份号码"}
