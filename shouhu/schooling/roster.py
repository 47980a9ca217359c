"""A school's roster (学籍系统导出, xlsx/xls/csv) read, checked and matched to the ledger (R4.1; API.md
`import_roster`).

Every row is checked before anything is written: a row with an error (no name, a bad date or ID
number, a 学籍号 or ID number twice in the file) is reported with its Excel row number, column and a
Chinese message, and then nothing is written at all (exit 1). A valid file is written in one
transaction. Rows are matched first to the school's existing enrolments (学籍号, else ID number), so
re-importing the same file changes nothing; new rows are matched to the ledger by ID number, else by
name + birth date + village (to be confirmed by the school or the village), else recorded as roster
pupils missing from the ledger (the census work list, R1.10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.events import EventSpec, record_events
from shouhu.core.identity import IdentityError, validate_id_number
from shouhu.core.models import Organisation, Region, User
from shouhu.ledger.reader import UnusableFile, read_cells
from shouhu.registry.models import Child
from shouhu.schooling.models import Catchment, Enrolment, Match
from shouhu.schooling.services import event, id_index, set_child_school

# column key → header words the 学籍 system and schools use
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "学生姓名"),
    "sex": ("性别",),
    "birth_date": ("出生日期", "出生年月日", "出生年月"),
    "id_number": ("身份证号", "公民身份号码", "身份证件号", "身份证号码", "证件号码"),
    "student_number": ("学籍号", "全国学籍号", "学籍辅号", "个人标识码"),
    "grade": ("年级",),
    "class_name": ("班级", "班级名称", "班号"),
    "boarding": ("是否寄宿", "寄宿", "是否住校"),
    "left_behind": ("是否留守儿童", "留守儿童", "是否留守"),
    "village": ("村", "居住村", "村（居）", "所在村", "户籍所在村"),
}
REQUIRED = ("name",)
YES = {"是", "1", "y", "yes", "true", "寄宿", "住校", "√"}
NO = {"否", "0", "n", "no", "false", "走读", "", "×"}
HEADER_SCAN = 20
MAX_ROWS = 20000


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class RosterRow:
    row: int
    name: str
    sex: str = ""
    birth_date: date | None = None
    id_number: str | None = None
    student_number: str = ""
    grade: str = ""
    class_name: str = ""
    boarding: bool = False
    left_behind: bool | None = None
    village: Region | None = None


@dataclass
class Summary:
    rows: int = 0
    matched: int = 0
    new: int = 0
    mismatched: int = 0
    pending: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "matched": self.matched,
            "new": self.new,
            "mismatched": self.mismatched,
            "pending": self.pending,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
            "dry_run": self.dry_run,
        }


def _norm(text: Any) -> str:
    return str(text or "").replace(" ", "").replace("\u3000", "").replace("\n", "").strip()


def find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]]:
    for i, row in enumerate(rows[:HEADER_SCAN]):
        cols: dict[str, int] = {}
        for j, cell in enumerate(row):
            h = _norm(cell)
            for key, words in COLUMNS.items():
                if key not in cols and h in words:
                    cols[key] = j
        if "name" in cols and ("id_number" in cols or "student_number" in cols):
            return i, cols
    raise UnusableFile(
        "no_header",
        _("没有找到名册表头：前%(n)d行中须有“姓名”列，以及“身份证号/公民身份号码”或“学籍号”列。")
        % {"n": HEADER_SCAN},
    )


def _date(value: Any) -> date | str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = (
        _norm(value)
        .replace("年", "-")
        .replace("月", "-")
        .replace("日", "")
        .replace("/", "-")
        .replace(".", "-")
    )
    if text.isdigit() and len(text) == 8:
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        return "bad"


def _bool(value: Any) -> bool | str | None:
    t = _norm(value).lower()
    if t in YES:
        return True
    if t in NO:
        return False if t else None
    return "bad"


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _norm(value)


def parse(data: bytes, filename: str, *, school: Organisation) -> tuple[list[RosterRow], list[RowError]]:
    """The roster's rows and every row error (Excel row numbers). Raises UnusableFile."""
    _kind, cells = read_cells(data, filename)
    if not cells:
        raise UnusableFile("empty", _("文件中没有任何数据。请确认上传的是学籍系统导出的学生名册。"))
    head, cols = find_header(cells)
    body = cells[head + 1 :]
    if len(body) > MAX_ROWS:
        raise UnusableFile("too_many", _("名册超过%(n)d行，请按年级拆分后导入。") % {"n": MAX_ROWS})
    villages = {
        r.name: r
        for r in Region.objects.filter(code__in=Catchment.objects.filter(school=school).values("village"))
    }
    out: list[RosterRow] = []
    errors: list[RowError] = []
    seen_numbers: dict[str, int] = {}
    seen_ids: dict[str, int] = {}

    def cell(row: list[Any], key: str) -> Any:
        j = cols.get(key)
        return row[j] if j is not None and j < len(row) else None

    for offset, raw in enumerate(body):
        excel_row = head + 2 + offset
        if all(_norm(c) == "" for c in raw):
            continue
        errs: list[RowError] = []
        name = _text(cell(raw, "name"))
        if not name:
            errs.append(RowError(excel_row, "姓名", _("姓名为空，请填写学生姓名。")))
        birth = _date(cell(raw, "birth_date"))
        if birth == "bad":
            errs.append(
                RowError(
                    excel_row,
                    "出生日期",
                    _("出生日期“%(v)s”无法识别，请写成 2015-06-01。") % {"v": _text(cell(raw, "birth_date"))},
                )
            )
            birth = None
        sex_text = _text(cell(raw, "sex"))
        sex = {"男": "1", "女": "2", "1": "1", "2": "2"}.get(sex_text, "")
        if sex_text and not sex:
            errs.append(RowError(excel_row, "性别", _("性别须为“男”或“女”。")))
        number = None
        raw_id = cell(raw, "id_number")
        if raw_id not in (None, ""):
            try:
                number = validate_id_number(
                    raw_id if isinstance(raw_id, float) else _text(raw_id),  # type: ignore[arg-type]
                    birth_date=birth if isinstance(birth, date) else None,
                    sex=sex or None,
                )
            except IdentityError as exc:
                errs.append(RowError(excel_row, "身份证号", str(exc)))
        if number:
            birth = birth or None
            if number in seen_ids:
                errs.append(
                    RowError(
                        excel_row, "身份证号", _("身份证号码与第%(r)d行重复。") % {"r": seen_ids[number]}
                    )
                )
            seen_ids.setdefault(number, excel_row)
        student_number = _text(cell(raw, "student_number"))
        if student_number:
            if student_number in seen_numbers:
                errs.append(
                    RowError(
                        excel_row,
                        "学籍号",
                        _("学籍号与第%(r)d行重复。") % {"r": seen_numbers[student_number]},
                    )
                )
            seen_numbers.setdefault(student_number, excel_row)
        if not number and not student_number:
            errs.append(
                RowError(excel_row, "身份证号", _("身份证号和学籍号都为空，至少须有一项才能识别学生。"))
            )
        boarding = _bool(cell(raw, "boarding"))
        if boarding == "bad":
            errs.append(RowError(excel_row, "是否寄宿", _("是否寄宿须填“是”或“否”。")))
        lb = _bool(cell(raw, "left_behind"))
        if lb == "bad":
            errs.append(RowError(excel_row, "是否留守儿童", _("是否留守儿童须填“是”或“否”。")))
        village_name = _text(cell(raw, "village"))
        village = (
            villages.get(village_name)
            if village_name
            else (next(iter(villages.values())) if len(villages) == 1 else None)
        )
        if errs:
            errors.extend(errs)
            continue
        out.append(
            RosterRow(
                row=excel_row,
                name=name,
                sex=sex,
                birth_date=birth if isinstance(birth, date) else None,
                id_number=number,
                student_number=student_number,
                grade=_text(cell(raw, "grade"))[:20],
                class_name=_text(cell(raw, "class_name"))[:30],
                boarding=boarding is True,
                left_behind=lb if isinstance(lb, bool) else None,
                village=village,
            )
        )
    if not out and not errors:
        raise UnusableFile("empty", _("找到了表头，但表头下面没有学生数据行。"))
    return out, errors


FIELDS = (
    "name",
    "sex",
    "birth_date",
    "student_number",
    "grade",
    "class_name",
    "boarding",
    "roster_left_behind",
)


def _values(r: RosterRow) -> dict[str, Any]:
    return {
        "name": r.name,
        "sex": r.sex,
        "birth_date": r.birth_date,
        "student_number": r.student_number,
        "grade": r.grade,
        "class_name": r.class_name,
        "boarding": r.boarding,
        "roster_left_behind": r.left_behind,
    }


def roster_import(
    *,
    actor: User | None,
    school: Organisation,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    today: date | None = None,
) -> Summary:
    """Read, check and (unless `dry_run` or any row is invalid) write a roster. Raises UnusableFile."""
    rows, errors = parse(data, filename, school=school)
    summary = Summary(rows=len(rows) + len({e.row for e in errors}), errors=errors, dry_run=dry_run)
    with transaction.atomic():
        _apply(actor, school, rows, summary, today or timezone.localdate())
        if errors or dry_run:
            transaction.set_rollback(True)
    return summary


def _apply(actor: User | None, school: Organisation, rows: list[RosterRow], s: Summary, today: date) -> None:
    existing = list(Enrolment.objects.filter(school=school).select_related("child"))
    by_number = {e.student_number: e for e in existing if e.student_number}
    by_id = {e.id_number_index: e for e in existing if e.id_number_index}
    indexes = {id_index(r.id_number): r for r in rows if r.id_number}
    ledger = {c.id_number_index: c for c in Child.objects.filter(id_number_index__in=list(indexes))}
    taken = set(
        Enrolment.objects.filter(child__in=list(ledger.values()), until__isnull=True)
        .exclude(school=school)
        .values_list("child_id", flat=True)
    )
    events: list[EventSpec] = []
    for r in rows:
        idx = id_index(r.id_number)
        e = by_number.get(r.student_number) if r.student_number else None
        e = e or (by_id.get(idx) if idx else None)
        child = ledger.get(idx) if idx else None
        if child is not None:
            differs = [
                str(label)
                for label, a, b in (
                    ("姓名", r.name, child.name),
                    ("出生日期", r.birth_date, child.birth_date),
                )
                if a and a != b
            ]
            if differs:
                s.mismatched += 1
            else:
                s.matched += 1
        else:
            differs = []
        if e is not None:
            before = {f: getattr(e, f) for f in FIELDS}
            after = _values(r)
            if child is not None and e.child_id is None:  # the village has since put the pupil on the ledger
                e.child, e.candidate, e.match, e.village = child, None, Match.ID, child.village
                set_child_school(child, school)
                before["child"], after["child"] = None, str(child.pk)
            if before == after:
                s.unchanged += 1
                if child is None:
                    s.new += 1
                continue
            for f in FIELDS:
                setattr(e, f, after[f])
            e.version += 1
            e.save()
            s.updated += 1
            if child is None:
                s.new += 1
            events.append(
                event(
                    "schooling.enrolment_changed",
                    e,
                    actor,
                    _("学籍名册导入更新"),
                    after,
                    before=before,
                    child_id=e.child_id or "",
                    region=e.child.village_id if e.child else "",
                )
            )
            continue
        candidate = None
        match = Match.NONE
        if child is not None and child.pk in taken:  # the pupil moved here: the other school's enrolment ends
            Enrolment.objects.filter(child=child, until__isnull=True).exclude(school=school).update(
                until=today
            )
        if child is not None:
            match = Match.ID
        else:
            s.new += 1
            if r.birth_date and r.village is not None:
                candidate = Child.objects.filter(
                    name=r.name, birth_date=r.birth_date, village=r.village
                ).first()
                if candidate is not None:
                    match = Match.PENDING
                    s.pending += 1
        e = Enrolment(
            child=child,
            candidate=candidate,
            match=match,
            school=school,
            village=child.village if child else r.village,
            id_number=r.id_number,
            id_number_index=idx,
            since=today,
            mismatch="、".join(differs)[:200],
            **_values(r),
        )
        e.save()
        s.created += 1
        if child is not None:
            set_child_school(child, school)
        events.append(
            event(
                "schooling.enrolled",
                e,
                actor,
                _("%(school)s学籍名册导入") % {"school": school.name},
                {"school": school.pk, "match": match, "grade": r.grade, "class_name": r.class_name},
                child_id=child.pk if child else "",
                region=(child.village_id if child else (r.village.code if r.village else "")),
            )
        )
    events.append(
        EventSpec(
            verb="schooling.roster_imported",
            subject_type="core.organisation",
            subject_id=str(school.pk),
            actor=actor,
            region_code=school.region_id,
            summary=_("导入学籍名册：%(n)d行") % {"n": s.rows},
            after={k: v for k, v in s.as_dict().items() if k != "errors"},
        )
    )
    record_events(events)
