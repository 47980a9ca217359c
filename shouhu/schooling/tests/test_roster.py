"""Roster import (issue 13 part 1 checks; R4.1, R1.10; API.md `import_roster`): bad files, row errors
with Excel row numbers, duplicates, pupils not on the ledger, a re-import that changes nothing, nothing
half-written, and the command's exit statuses."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from shouhu.core.identity import compose_id_number
from shouhu.core.models import Event
from shouhu.ledger.reader import UnusableFile
from shouhu.registry.models import Child
from shouhu.schooling import selectors, services
from shouhu.schooling.models import Enrolment, Match
from shouhu.schooling.roster import roster_import
from shouhu.schooling.tests.conftest import make_child, workbook

pytestmark = pytest.mark.django_db
NEW_ID = compose_id_number("500229", date(2016, 4, 2), 777)  # a boy not on the ledger


def _rows(a: Child, b: Child) -> list[list[Any]]:
    return [
        [a.name, "男", a.birth_date.isoformat(), a.id_number, "G500229001", "三年级", "1班", "否", "是"],
        ["王错名", "男", b.birth_date.isoformat(), b.id_number, "G500229002", "三年级", "1班", "是", "是"],
        ["刘新生", "男", "2016-04-02", NEW_ID, "G500229003", "四年级", "2班", "否", "是"],
    ]


@pytest.fixture
def pupils(users: dict[str, Any]) -> tuple[Child, Child]:
    return make_child(users, name="陈学生"), make_child(users, name="周学生", birth_date=date(2015, 9, 9))


def test_a_roster_is_matched_to_the_ledger(
    users: dict[str, Any], school: Any, pupils: tuple[Child, Child]
) -> None:
    a, b = pupils
    s = roster_import(actor=users["school"], school=school, data=workbook(_rows(a, b)), filename="名册.xlsx")
    assert (s.rows, s.matched, s.mismatched, s.new, s.created, s.errors) == (3, 1, 1, 1, 3, [])
    e_a = Enrolment.objects.get(student_number="G500229001")
    assert e_a.child == a and e_a.match == Match.ID and e_a.grade == "三年级" and e_a.roster_left_behind
    assert Child.objects.get(pk=a.pk).school == school  # the school now reaches its pupil's file
    e_b = Enrolment.objects.get(student_number="G500229002")
    assert e_b.child == b and e_b.mismatch == "姓名" and e_b.boarding
    e_new = Enrolment.objects.get(student_number="G500229003")
    assert e_new.child is None and e_new.village_id == "500229102201"  # the school's one catchment village
    # the census list of the village worker: on the roster, marked left-behind, missing from the ledger
    census = selectors.census(users["vw"], on=date(2026, 11, 2))
    assert [e.name for e in census.missing_from_ledger] == ["刘新生"]
    assert a not in census.not_on_roster


def test_a_re_import_changes_nothing(users: dict[str, Any], school: Any, pupils: tuple[Child, Child]) -> None:
    data = workbook(_rows(*pupils))
    roster_import(actor=users["school"], school=school, data=data, filename="名册.xlsx")
    before = list(Enrolment.objects.order_by("pk").values())
    events = Event.objects.filter(verb__startswith="schooling.enrol").count()
    s = roster_import(actor=users["school"], school=school, data=data, filename="名册.xlsx")
    assert (s.created, s.updated, s.unchanged, s.matched, s.new) == (0, 0, 3, 1, 1)
    assert list(Enrolment.objects.order_by("pk").values()) == before
    assert Event.objects.filter(verb__startswith="schooling.enrol").count() == events


def test_a_changed_class_is_updated(users: dict[str, Any], school: Any, pupils: tuple[Child, Child]) -> None:
    rows = _rows(*pupils)
    roster_import(actor=users["school"], school=school, data=workbook(rows), filename="名册.xlsx")
    rows[0][6] = "3班"
    s = roster_import(actor=users["school"], school=school, data=workbook(rows), filename="名册.xlsx")
    assert (s.updated, s.unchanged) == (1, 2)
    assert Enrolment.objects.get(student_number="G500229001").class_name == "3班"


def test_row_errors_name_the_row_and_write_nothing(
    users: dict[str, Any], school: Any, pupils: tuple[Child, Child]
) -> None:
    a, b = pupils
    rows = _rows(a, b)
    rows[1][4] = "G500229001"  # the first row's 学籍号 again
    rows[2][3] = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")  # a wrong check character
    rows.append(["", "女", "2015-01-01", "", "G500229009", "一年级", "1班", "否", "否"])
    rows.append(["赵日期", "女", "2015年13月40日", "", "G500229010", "一年级", "1班", "否", "否"])
    s = roster_import(actor=users["school"], school=school, data=workbook(rows), filename="名册.xlsx")
    found = {(e.row, e.column) for e in s.errors}
    assert found == {(4, "学籍号"), (5, "身份证号"), (6, "姓名"), (7, "出生日期")}
    assert any("第3行重复" in e.message for e in s.errors)
    assert any("校验位" in e.message for e in s.errors)
    assert not Enrolment.objects.exists()
    assert Child.objects.get(pk=a.pk).school_id is None


def test_duplicate_id_numbers_in_one_file_are_refused(
    users: dict[str, Any], school: Any, pupils: tuple[Child, Child]
) -> None:
    a, b = pupils
    rows = _rows(a, b)
    rows[2][3] = a.id_number
    rows[2][0], rows[2][2] = a.name, a.birth_date.isoformat()
    s = roster_import(actor=users["school"], school=school, data=workbook(rows), filename="名册.xlsx")
    assert [(e.row, e.column) for e in s.errors] == [(5, "身份证号")]
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "a.xlsx", "empty"),
        (b"this is not a spreadsheet", "a.xlsx", None),
        ("姓名,年级\n张三,一年级\n".encode(), "a.csv", "no_header"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(
    school: Any, data: bytes, name: str, code: str | None
) -> None:
    with pytest.raises(UnusableFile) as info:
        roster_import(actor=None, school=school, data=data, filename=name)
    assert info.value.message
    if code:
        assert info.value.code == code


def test_a_gbk_csv_and_a_pending_match_by_name_birth_and_village(
    users: dict[str, Any], school: Any, pupils: tuple[Child, Child]
) -> None:
    a, _b = pupils
    text = f"学籍号,姓名,性别,出生日期,村,是否留守儿童\nG1,{a.name},男,{a.birth_date:%Y/%m/%d},{a.village.name},是\n"
    s = roster_import(actor=users["school"], school=school, data=text.encode("gbk"), filename="名册.csv")
    assert (s.new, s.pending, s.errors) == (1, 1, [])
    e = Enrolment.objects.get()
    assert e.child is None and e.candidate == a and e.match == Match.PENDING
    services.enrolment_confirm(actor=users["school"], enrolment=e)
    e.refresh_from_db()
    assert e.child == a and e.match == Match.CONFIRMED and Child.objects.get(pk=a.pk).school == school


def test_the_command_exit_statuses(
    tmp_path: Path, users: dict[str, Any], school: Any, pupils: tuple[Child, Child]
) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook(_rows(*pupils)))
    out = tmp_path / "s.json"
    call_command(
        "import_roster", str(good), "--school", str(school.pk), "--dry-run", "--summary-json", str(out)
    )
    summary = json.loads(out.read_text("utf-8"))
    assert (summary["rows"], summary["matched"], summary["new"], summary["mismatched"]) == (3, 1, 1, 1)
    assert not Enrolment.objects.exists()  # a dry run writes nothing
    call_command("import_roster", str(good), "--school", str(school.pk))
    assert Enrolment.objects.count() == 3
    bad = tmp_path / "bad.xlsx"
    rows = _rows(*pupils)
    rows[0][0] = ""
    bad.write_bytes(workbook(rows))
    with pytest.raises(SystemExit) as exit1:
        call_command("import_roster", str(bad), "--school", str(school.pk), "--summary-json", str(out))
    assert exit1.value.code == 1
    assert json.loads(out.read_text("utf-8"))["errors"][0]["row"] == 3
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"junk")
    with pytest.raises(SystemExit) as exit2:
        call_command("import_roster", str(junk), "--school", str(school.pk), "--summary-json", str(out))
    assert exit2.value.code == 2
    with pytest.raises(SystemExit) as exit_school:
        call_command("import_roster", str(good), "--school", "999999")
    assert exit_school.value.code == 2


@pytest.mark.django_db(transaction=True)
def test_a_failure_while_writing_leaves_nothing_half_written(
    users: dict[str, Any], school: Any, pupils: tuple[Child, Child], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouhu.schooling import roster

    calls = {"n": 0}
    real = roster.set_child_school

    def failing(child: Any, org: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        real(child, org)

    monkeypatch.setattr(roster, "set_child_school", failing)
    with pytest.raises(RuntimeError):
        roster_import(
            actor=users["school"], school=school, data=workbook(_rows(*pupils)), filename="名册.xlsx"
        )
    assert not Enrolment.objects.exists()
    assert not Child.objects.filter(school=school).exists()
