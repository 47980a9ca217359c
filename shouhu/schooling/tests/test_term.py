"""A term simulated with time frozen (issue 13 part 3 checks; R4.2): absences open dropout cases on the
right day (3 consecutive school days across a weekend, or 5 in a month; excused absence never), the
`dropout` alert opens at once, deadlines are met or breached, a returned child closes the case and its
alert, and the written report is a PDF whose text says what happened."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shouhu.care.models import Alert
from shouhu.core.workflow import WorkflowError
from shouhu.schooling import dropout, services
from shouhu.schooling.models import DropoutCase
from shouhu.schooling.tests.conftest import enrol, make_child

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def at(m: int, d: int, h: int = 9) -> datetime:
    return datetime(2026, m, d, h, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def roles_since_2020(users: dict[str, Any]) -> None:
    from shouhu.core.models import RoleAssignment

    RoleAssignment.objects.update(starts_at=datetime(2020, 1, 1, tzinfo=TZ))


def absent(user: Any, e: Any, m: int, d: int, **extra: Any) -> Any:
    with time_machine.travel(at(m, d, 16), tick=False):
        _a, case = services.absence_record(actor=user, enrolment=e, data={"date": date(2026, m, d), **extra})
    return case


def move(user: Any, case: Any, to: str, when: datetime, note: str = "情况说明", unit: str = "") -> Any:
    with time_machine.travel(when, tick=False):
        return dropout.dropout_transition(actor=user, case_id=case.pk, to=to, note=note, by_unit=unit)


def test_a_term_of_absences_and_dropout_cases(users: dict[str, Any], school: Any) -> None:
    teacher, vw, edu = users["school"], users["vw"], users["edu"]
    kids = {n: make_child(users, name=n) for n in ("安安", "贝贝", "晨晨", "冬冬")}
    es = {n: enrol(school, c, n=i + 1) for i, (n, c) in enumerate(kids.items())}

    # 安安: Monday, Tuesday, Wednesday 2–4 November → the case opens on Wednesday, not before
    assert absent(teacher, es["安安"], 11, 2) is None
    assert absent(teacher, es["安安"], 11, 3) is None
    a = absent(teacher, es["安安"], 11, 4)
    assert a is not None and a.opened_on == date(2026, 11, 4) and a.opened_at == at(11, 4, 16)
    alert = Alert.objects.get(kind="dropout", child=kids["安安"])
    assert alert.opened_at == at(11, 4, 16) and alert.region_id == kids["安安"].village_id
    assert "连续3个上学日" in alert.message

    # 贝贝: Friday 6, then Monday 9 and Tuesday 10: the weekend does not break the run
    assert absent(teacher, es["贝贝"], 11, 6) is None
    assert absent(teacher, es["贝贝"], 11, 9) is None
    b = absent(teacher, es["贝贝"], 11, 10)
    assert b is not None and b.opened_on == date(2026, 11, 10)

    # 晨晨: a whole excused week never opens a case
    for d in (2, 3, 4, 5, 6):
        assert absent(teacher, es["晨晨"], 11, d, excused=True, reason="病假") is None

    # 冬冬: five scattered unexcused days in November → opens on the fifth (12 November)
    for d in (2, 4, 6, 10):
        assert absent(teacher, es["冬冬"], 11, d) is None
    c = absent(teacher, es["冬冬"], 11, 12)
    assert c is not None and c.opened_on == date(2026, 11, 12) and "累计无故缺课5天" in c.trigger
    assert DropoutCase.objects.count() == 3

    # 安安: registered the next morning (limit 1 day: met), persuaded with the village on day 3 (met);
    # no return within 7 days → the report is overdue, then made late
    a = move(teacher, a, "registered", at(11, 5))
    a = move(vw, a, "persuading", at(11, 7), "村和学校上门劝返，家长答应送回", "village")
    with time_machine.travel(at(11, 8), tick=False):
        dropout.persuasion_attempt(actor=teacher, case_id=a.pk, note="班主任再次家访", by_unit="school")
    with time_machine.travel(at(11, 15), tick=False):
        dl = {d.target: d for d in dropout.deadlines(DropoutCase.objects.get(pk=a.pk))}
        assert dl["registered"].met is True and dl["persuading"].met is True
        assert dl["reported"].met is False and dl["reported"].overdue  # due 14 November 09:00
        assert dropout.allowed_transitions(vw, a) == ["returned", "transferred"]  # the report is the school's
        assert "reported" in dropout.allowed_transitions(teacher, a)
    with pytest.raises(WorkflowError) as refused:
        move(vw, a, "reported", at(11, 15))
    assert "无权" in refused.value.message_text
    a = move(teacher, a, "reported", at(11, 15), "劝返未果，书面报告县教委和乡镇")
    assert a.state == "reported" and a.closed_at is None
    dl = {d.target: d for d in dropout.deadlines(a)}
    assert dl["reported"].met is False and dl["reported"].done_at == at(11, 15)

    # 贝贝: registered two days late (breached), then returns: the case and its alert close
    b = move(teacher, b, "registered", at(11, 12))
    assert {d.target: d.met for d in dropout.deadlines(b)}["registered"] is False
    b = move(teacher, b, "persuading", at(11, 12, 15), "学校上门劝返", "school")
    b = move(teacher, b, "returned", at(11, 13), "已返校上课")
    assert b.closed_at == at(11, 13) and b.state == "returned"
    resolved = Alert.objects.get(kind="dropout", child=kids["贝贝"])
    assert resolved.resolved_at == at(11, 13)
    # running clocks stop when the case ends: the report step is not missed
    assert {d.target: d.met for d in dropout.deadlines(b, at(12, 1))}["reported"] is None
    # no move out of a closed case; absences before the closed case's day open no new case
    with pytest.raises(WorkflowError):
        move(teacher, b, "persuading", at(11, 14))
    assert absent(teacher, es["贝贝"], 11, 16) is None
    assert absent(teacher, es["贝贝"], 11, 17) is None
    again = absent(teacher, es["贝贝"], 11, 18)
    assert again is not None and again.opened_on == date(2026, 11, 18)

    # 冬冬: the education commission exempts; the school may not
    c = move(teacher, c, "registered", at(11, 13))
    with pytest.raises(WorkflowError):
        move(teacher, c, "exempted", at(11, 14))
    c = move(edu, c, "exempted", at(11, 16), "经县教委认定，因病延缓入学")
    assert c.state == "exempted" and c.closed_at is not None


def test_an_illegal_move_and_a_missing_note_are_refused(users: dict[str, Any], school: Any) -> None:
    e = enrol(school, make_child(users, name="夏夏"), n=9)
    for d in (2, 3):
        absent(users["school"], e, 11, d)
    case = absent(users["school"], e, 11, 4)
    with pytest.raises(WorkflowError) as skip:
        move(users["school"], case, "reported", at(11, 5))
    assert "可以转为" in skip.value.message_text
    move(users["school"], case, "registered", at(11, 5))
    with pytest.raises(WorkflowError) as no_note:
        move(users["school"], case, "persuading", at(11, 6), note="")
    assert no_note.value.field_name == "note"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils: make docs-deps")
def test_the_written_report_is_a_pdf_that_says_what_happened(users: dict[str, Any], school: Any) -> None:
    from shouhu.core.documents.services import document_download, document_generate

    e = enrol(school, make_child(users, name="秋秋"), n=11)
    for d in (2, 3):
        absent(users["school"], e, 11, d)
    case = absent(users["school"], e, 11, 4)
    move(users["school"], case, "registered", at(11, 5))
    move(users["vw"], case, "persuading", at(11, 6), "村干部和班主任上门劝返未果", "village")
    doc = document_generate(
        actor=users["school"], kind="schooling.dropout_report", owner_id=case.pk, base_url="http://t"
    )
    _doc, pdf = document_download(actor=users["school"], document_id=doc.pk)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    for words in ("书面报告", "秋秋", "巴山中心小学", "村干部和班主任上门劝返未果", "2026年11月4日"):
        assert words in text.replace(" ", ""), words
