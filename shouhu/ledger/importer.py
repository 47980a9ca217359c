"""Ledger import (R1.9, issue 3 parts 3–5): every row validated by the one implementation of the file
form (`registry.validation.validate_child`), duplicates found within the file and against the database,
then all or nothing in one transaction.

- A row for a child already on file (same ID number; or, without one, a similar name with the same
  birth date and village — R1.7) updates the file through `services.child_update`, so the status history
  and the timeline follow; a row that changes nothing is "unchanged" and writes nothing, so the same
  workbook imported twice changes nothing the second time.
- New children are written set-based by `registry.bulk.bulk_register` (same derived status and events as
  `child_create`).
- By default nothing is written when any row is invalid; `accept_valid` writes the valid rows only.
  A dry run writes nothing. A crash or a cancel inside the write rolls the whole transaction back.
- Rows for villages outside the user's edit scope are invalid rows (R11.1); a duplicate of a file out of
  scope says so without revealing it.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core import codes
from shouhu.core.crypto import blind_index
from shouhu.core.jurisdiction import region_allowed, scope_of
from shouhu.core.models import Region, User
from shouhu.ledger import parse
from shouhu.ledger.columns import BY_KEY, COLUMNS, PARENT_PREFIX
from shouhu.ledger.reader import Sheet, UnusableFile, read_ledger
from shouhu.registry.models import Child, Parent
from shouhu.registry.services import PARENT_FIELDS, DuplicateChild, similar_names
from shouhu.registry.validation import validate_child

CHUNK = 900  # IN-list size below SQLite's variable limit on old builds
PROGRESS_EVERY = 1000
HEALTH_COMPANIONS = ("disability_type", "disability_grade", "illness")


class Cancelled(Exception):
    """The user cancelled; the transaction is rolled back."""


@dataclass
class RowOutcome:
    row: int
    action: str = "invalid"  # new | changed | unchanged | invalid
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column key, message)
    clean: dict[str, Any] | None = None
    existing: Child | None = None


@dataclass
class ImportResult:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    created: int = 0
    updated: int = 0
    written: bool = False
    dry_run: bool = False
    accept_valid: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list, repr=False)
    sheet: Sheet | None = field(default=None, repr=False)

    @property
    def exit_status(self) -> int:
        return 1 if self.invalid else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            # Additions (API.md: add, don't rename): what a write would do, and what was ignored.
            "new": self.new,
            "changed": self.changed,
            "written": self.written,
            "dry_run": self.dry_run,
            "ignored_columns": self.ignored_columns,
        }


ProgressFn = Callable[[str, int, int], None]


# --- context: everything a row needs, loaded once per import (no query per row) ---------------------


class Context:
    def __init__(self, actor: User, region: Region | None) -> None:
        self.actor = actor
        self.scope = scope_of(actor)
        self.region = region
        villages = list(Region.objects.filter(kind__in=("village", "community")).select_related("parent"))
        self.by_code = {r.code: r for r in villages}
        prefix = region.prefix if region is not None else ""
        names: dict[str, list[Region]] = defaultdict(list)
        for r in villages:
            if not r.code.startswith(prefix):
                continue
            variants = {r.name, r.name.removesuffix("村").removesuffix("社区")}
            for v in list(variants):
                variants |= {v + "村委会", v + "村民委员会", v + "居委会", v + "居民委员会"}
            if r.parent is not None:
                variants |= {r.parent.name + v for v in list(variants)}
            for v in variants:
                names[v].append(r)
        self.by_name = names
        parse.clear_caches()
        codes.clear_cache()

    def village(self, raw: Any) -> Region:
        s = parse.text(raw).replace(" ", "")
        if not s:
            if self.region is not None and self.region.is_village_level:
                return self.region
            raise parse.ParseError(_("请填写所在村（居）委会（名称或12位区划代码）。"))
        if s.isdigit() and len(s) == 12:
            r = self.by_code.get(s)
            if r is None:
                raise parse.ParseError(_("区划代码“%(v)s”不是本系统中的村（居）委会。") % {"v": s})
            return r
        hits = self.by_name.get(s, [])
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise parse.ParseError(
                _("“%(v)s”有重名的村（居），请写上乡镇名（如“%(ex)s”）或填写12位区划代码。")
                % {"v": s, "ex": (hits[0].parent.name if hits[0].parent else "") + s}
            )
        raise parse.ParseError(_("找不到村（居）委会“%(v)s”，请核对名称或填写12位区划代码。") % {"v": s})


# --- one row ----------------------------------------------------------------------------------------


def _cell(row: list[Any], idx: int) -> Any:
    return row[idx] if idx < len(row) else None


def _convert(kind: str, raw: Any) -> Any:
    if kind == "date":
        return parse.parse_date(raw, month_ok=False)
    if kind == "bool":
        return parse.parse_bool(raw)
    if kind == "sex":
        return parse.parse_sex(raw)
    if kind == "ethnicity":
        return parse.parse_code("ethnicity", raw) or None
    if kind == "id":
        return parse.parse_id(raw)
    if kind == "phone":
        return parse.parse_phone(raw)
    if kind.startswith("choice:"):
        return parse.parse_choice(kind[7:], raw)
    if kind.startswith("multi:"):
        return parse.parse_multi(kind[6:], raw)
    if kind.startswith("code:"):
        return parse.parse_code(kind[5:], raw)
    return parse.text(raw)


def row_input(sheet: Sheet, cells: list[Any], ctx: Context) -> tuple[dict[str, Any], dict[str, str]]:
    """The input dict of validate_child for one row, and the cells that could not be read."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, idx in sheet.columns.items():
        col = BY_KEY[key]
        raw = _cell(cells, idx)
        try:
            if col.kind == "village":
                values[key] = ctx.village(raw)
            elif col.kind == "date" and col.field == "away_since":
                values[key] = parse.parse_date(raw, month_ok=True)
            else:
                values[key] = _convert(col.kind, raw)
        except parse.ParseError as exc:
            errors[key] = exc.message
            values[key] = None
    data: dict[str, Any] = {}
    for key, v in values.items():
        col = BY_KEY[key]
        if col.parent is None:
            data[key] = v
    if "village" not in sheet.columns and ctx.region is not None and ctx.region.is_village_level:
        data["village"] = ctx.region
    for flag in ("hukou_registered", "hukou_rural", "boarding"):
        if data.get(flag) is None:
            data.pop(flag, None)
    if data.get("ethnicity") is None:
        data.pop("ethnicity", None)
    parents = []
    for rel in PARENT_PREFIX:
        keys = [k for k in sheet.columns if k.startswith(rel + "_")]
        if not keys or all(values.get(k) in (None, "", []) for k in keys):
            continue
        p: dict[str, Any] = {"relation": rel}
        for k in keys:
            p[BY_KEY[k].field] = values.get(k)
        p["away_for_work"] = bool(p.get("away_for_work"))
        p["deceased"] = bool(p.get("deceased"))
        p["guardianship_capacity"] = p.get("guardianship_capacity") is not False
        for f in ("name", "work_city", "work_province", "incapacity_reason"):
            p[f] = p.get(f) or ""
        parents.append(p)
    if any(k.startswith(("father_", "mother_")) for k in sheet.columns):
        data["parents"] = parents
    return data, errors


def _column_of(field_key: str, sheet: Sheet) -> str:
    """The sheet column that a validation error key belongs to."""
    if field_key.startswith("parents."):
        parts = field_key.split(".")
        return f"{parts[1]}_{parts[2]}" if len(parts) > 2 else f"{parts[1]}_name"
    if field_key == "parents":
        return "father_name" if "father_name" in sheet.columns else "mother_name"
    if field_key == "hukou_registered" and "hukou_registered" not in sheet.columns:
        return "id_number"
    return field_key


def present_keys(sheet: Sheet) -> set[str]:
    keys = {k for k in sheet.columns if not k.startswith(("father_", "mother_"))}
    keys.add("village")
    if "health" in keys:
        keys.update(HEALTH_COMPANIONS)
    if "id_number" in keys:
        keys.add("hukou_registered")
    if any(k.startswith(("father_", "mother_")) for k in sheet.columns):
        keys.add("parents")
    return keys


# --- comparison with the file on record -------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    if a in (None, "") and b in (None, ""):
        return True
    return bool(a == b)


def _parent_dict(p: Parent) -> dict[str, Any]:
    d = {f: getattr(p, f) for f in PARENT_FIELDS}
    d.update(relation=p.relation, id_number=p.id_number, phone=p.phone)
    return d


def changes(existing: Child, clean: dict[str, Any], present: set[str]) -> bool:
    """True when writing the row would change the file on record."""
    for key in present:
        if key == "parents":
            continue
        if key == "village":
            if existing.village_id != clean["village"].code:
                return True
            continue
        if key in clean and not _same(getattr(existing, key), clean[key]):
            return True
    if "parents" in present:
        on_file = {p.relation: p for p in existing.parents.all()}
        for p in clean.get("parents") or []:
            ex = on_file.get(p["relation"])
            if ex is None:
                return True
            for f in (*PARENT_FIELDS, "id_number", "phone"):
                if f in p and not _same(getattr(ex, f), p[f]):
                    return True
    return False


def update_data(existing: Child, clean: dict[str, Any], present: set[str]) -> dict[str, Any]:
    data = {k: clean[k] for k in present if k in clean and k != "parents"}
    data["village"] = clean["village"].code
    if "parents" in present:
        given = {p["relation"]: p for p in clean.get("parents") or []}
        kept = [_parent_dict(p) for p in existing.parents.all() if p.relation not in given]
        data["parents"] = [*given.values(), *kept]
    return data


# --- the import ---------------------------------------------------------------------------------------


def analyse(
    sheet: Sheet,
    *,
    actor: User,
    region: Region | None,
    today: date,
    progress: ProgressFn | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> list[RowOutcome]:
    """Validate every row and decide new / changed / unchanged / invalid. Reads only."""
    ctx = Context(actor, region)
    present = present_keys(sheet)
    outcomes: list[RowOutcome] = []
    total = len(sheet.rows)
    for n, (rownum, cells) in enumerate(sheet.rows, 1):
        out = RowOutcome(row=rownum)
        data, parse_errors = row_input(sheet, cells, ctx)
        sheet.rows[n - 1] = (rownum, [])  # memory: the error workbook reads the file again
        for key, msg in parse_errors.items():
            out.errors.append((key, msg))
        try:
            clean = validate_child(data, today=today)
        except ValidationError as exc:
            clean = None
            broken = set(parse_errors)
            for key, msgs in exc.message_dict.items():
                col = _column_of(key, sheet)
                if col in broken or (col == "village" and "village" in broken):
                    continue
                out.errors.extend((col, m) for m in msgs)
        if clean is not None and not parse_errors:
            if not region_allowed(ctx.scope, clean["village"].code, for_edit=True):
                out.errors.append(
                    (
                        "village",
                        _("您无权在“%(v)s”导入档案（不在您的管辖范围内）。") % {"v": clean["village"].name},
                    )
                )
            elif region is not None and not clean["village"].code.startswith(region.prefix):
                out.errors.append(
                    (
                        "village",
                        _("“%(v)s”不属于本次导入的区域“%(r)s”。")
                        % {"v": clean["village"].name, "r": region.name},
                    )
                )
            else:
                out.clean = clean
        outcomes.append(out)
        if n % PROGRESS_EVERY == 0:
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            if progress is not None:
                progress("validate", n, total)
    _duplicates_in_file(outcomes)
    _match_database(outcomes, actor, present)
    for o in outcomes:
        if o.errors:
            o.action, o.clean = "invalid", None
    if progress is not None:
        progress("validate", total, total)
    return outcomes


def _duplicates_in_file(outcomes: list[RowOutcome]) -> None:
    by_id: dict[str, int] = {}
    by_place: dict[tuple[str, date], list[tuple[str, int]]] = defaultdict(list)
    for o in outcomes:
        c = o.clean
        if c is None:
            continue
        if c.get("id_number"):
            first = by_id.setdefault(c["id_number"], o.row)
            if first != o.row:
                o.errors.append(
                    (
                        "id_number",
                        _("与第 %(row)d 行是同一儿童（公民身份号码相同），请删除重复的一行。")
                        % {"row": first},
                    )
                )
            continue
        group = by_place[(c["village"].code, c["birth_date"])]
        twin = next((r for name, r in group if similar_names(name, c["name"])), None)
        if twin is not None:
            o.errors.append(
                (
                    "name",
                    _(
                        "与第 %(row)d 行疑似同一儿童（姓名相同或相近，出生日期和所在村相同），请核对后删除重复的一行。"
                    )
                    % {"row": twin},
                )
            )
        else:
            group.append((c["name"], o.row))


def _match_database(outcomes: list[RowOutcome], actor: User, present: set[str]) -> None:
    """New, changed or unchanged against the files on record, chunk by chunk; only the files that a
    changed row will update are kept in memory."""
    scope = scope_of(actor)
    valid = [o for o in outcomes if o.clean is not None and not o.errors]

    def decide(o: RowOutcome) -> None:
        assert o.clean is not None
        if o.existing is None:
            o.action = "new"
        elif not region_allowed(scope, o.existing.village_id, for_edit=True):
            message, _visible = DuplicateChild(o.existing).explain(actor)
            o.errors.append(("id_number" if o.clean.get("id_number") else "name", message))
            o.existing = None
        elif changes(o.existing, o.clean, present):
            o.action = "changed"
        else:
            o.action, o.clean, o.existing = "unchanged", None, None

    with_id = [o for o in valid if o.clean and o.clean.get("id_number")]
    for i in range(0, len(with_id), CHUNK):
        part = {blind_index("id", o.clean["id_number"]): o for o in with_id[i : i + CHUNK] if o.clean}
        for child in (
            Child.objects.select_related("village")
            .prefetch_related("parents")
            .filter(id_number_index__in=list(part))
        ):
            part[child.id_number_index].existing = child  # type: ignore[index]
        for o in part.values():
            decide(o)
    without = [o for o in valid if o.clean and not o.clean.get("id_number")]
    if without:
        villages = sorted({o.clean["village"].code for o in without if o.clean})
        births = {o.clean["birth_date"] for o in without if o.clean}
        candidates: dict[tuple[str, date], list[Child]] = defaultdict(list)
        for i in range(0, len(villages), CHUNK):
            for child in (
                Child.objects.select_related("village")
                .prefetch_related("parents")
                .filter(village_id__in=villages[i : i + CHUNK])
            ):
                if child.birth_date in births:
                    candidates[(child.village_id, child.birth_date)].append(child)
        for o in without:
            assert o.clean is not None
            key = (o.clean["village"].code, o.clean["birth_date"])
            o.existing = next(
                (c for c in candidates.get(key, []) if similar_names(o.clean["name"], c.name)), None
            )
            decide(o)


def _summarise(result: ImportResult, sheet: Sheet, outcomes: list[RowOutcome]) -> None:
    result.sheet = sheet
    result.outcomes = outcomes
    result.rows = len(outcomes)
    result.invalid = sum(o.action == "invalid" for o in outcomes)
    result.valid = result.rows - result.invalid
    result.new = sum(o.action == "new" for o in outcomes)
    result.changed = sum(o.action == "changed" for o in outcomes)
    result.unchanged = sum(o.action == "unchanged" for o in outcomes)
    result.ignored_columns = list(sheet.ignored)
    result.errors = [
        {"row": o.row, "column": sheet.header_of(col), "message": msg, "cell": _cell_ref(sheet, col, o.row)}
        for o in outcomes
        for col, msg in o.errors
    ]


def _cell_ref(sheet: Sheet, key: str, row: int) -> str:
    idx = sheet.columns.get(key)
    if idx is None:
        return ""
    letters = ""
    n = idx + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _write(
    outcomes: list[RowOutcome],
    *,
    actor: User,
    present: set[str],
    today: date,
    progress: ProgressFn | None,
    should_cancel: Callable[[], bool] | None,
) -> tuple[int, int]:
    from shouhu.registry.bulk import bulk_register
    from shouhu.registry.services import child_update

    new = [o for o in outcomes if o.action == "new"]
    changed = [o for o in outcomes if o.action == "changed"]
    total = len(new) + len(changed)
    done = 0
    created = 0
    unattended: list[Child] = []
    step = 5000
    for i in range(0, len(new), step):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        chunk = new[i : i + step]
        saved = bulk_register(actor=actor, rows=[o.clean for o in chunk if o.clean], today=today)
        created += len(saved)
        unattended += [c for c in saved if c.care_arrangement == "unattended"]
        for o in chunk:
            o.clean = None  # memory: written
        done += len(chunk)
        if progress is not None:
            progress("write", done, total)
    _care_hook(unattended, actor)
    for n, o in enumerate(changed, 1):
        assert o.existing is not None and o.clean is not None
        child_update(
            actor=actor,
            child_id=o.existing.pk,
            data=update_data(o.existing, o.clean, present),
            version=o.existing.version,
            today=today,
        )
        if n % 200 == 0:
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            if progress is not None:
                progress("write", done + n, total)
    return created, len(changed)


def _care_hook(children: list[Child], actor: User) -> None:
    """R2.2: an unattended child raises its alert at once, as child_create does (bulk_register does not)."""
    unattended = [c for c in children if c.care_arrangement == "unattended"]
    if not unattended:
        return
    try:
        from shouhu.care.hooks import child_saved
    except ImportError:  # pragma: no cover - the care app is always installed in this project
        return
    for c in unattended:
        child_saved(child=c, actor=actor)


def import_ledger(
    data: bytes,
    filename: str,
    *,
    actor: User,
    region: Region | None = None,
    dry_run: bool = False,
    accept_valid: bool = False,
    today: date | None = None,
    progress: ProgressFn | None = None,
    should_cancel: Callable[[], bool] | None = None,
    max_rows: int | None = None,
) -> ImportResult:
    """Read, validate, deduplicate and (unless dry_run, or invalid rows without accept_valid) write.

    Raises UnusableFile when the file cannot be used at all, Cancelled when should_cancel() said so
    (nothing written).
    """
    today = today or timezone.localdate()
    sheet = read_ledger(data, filename, max_rows=max_rows)
    if "village" not in sheet.columns and (region is None or not region.is_village_level):
        raise UnusableFile(
            "no_village",
            _(
                "台账中没有“所在村（居）”列。村级台账请指定所属的村（居）委会（命令行 --region 12位代码，或上传页面选择村）。"
            ),
        )
    result = ImportResult(dry_run=dry_run, accept_valid=accept_valid)
    present = present_keys(sheet)
    if dry_run:
        _summarise(
            result,
            sheet,
            analyse(
                sheet, actor=actor, region=region, today=today, progress=progress, should_cancel=should_cancel
            ),
        )
        return result
    with transaction.atomic():
        outcomes = analyse(
            sheet, actor=actor, region=region, today=today, progress=progress, should_cancel=should_cancel
        )
        _summarise(result, sheet, outcomes)
        if result.invalid and not accept_valid:
            return result
        result.created, result.updated = _write(
            outcomes,
            actor=actor,
            present=present,
            today=today,
            progress=progress,
            should_cancel=should_cancel,
        )
        if should_cancel is not None and should_cancel():  # asked during the last chunk: still undone
            raise Cancelled()
        result.written = True
    return result


def error_workbook(result: ImportResult, data: bytes, filename: str) -> bytes:
    """The original rows (header rows as read, then every data row) plus a column of reasons.

    The file is read again: the import lets go of each row's cells once it is checked (memory)."""
    import xlsxwriter

    from shouhu.ledger.exporter import neutralise

    sheet = read_ledger(data, filename, max_rows=10**9)
    reasons: dict[int, list[str]] = defaultdict(list)
    for e in result.errors:
        reasons[e["row"]].append(f"{e['column']}：{e['message']}")
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False}
    )
    ws = wb.add_worksheet(_("错误报告")[:31])
    bad = wb.add_format({"bg_color": "#F8D7DA", "text_wrap": True})
    datefmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    width = sheet.width
    r = 0
    for cells in sheet.header_rows:
        for j, v in enumerate(cells):
            _put(ws, r, j, v, datefmt)
        r += 1
    ws.write_string(r - 1, width, _("错误原因"))
    for rownum, cells in sheet.rows:
        for j, v in enumerate(cells):
            _put(ws, r, j, v, datefmt)
        if rownum in reasons:
            ws.write_string(r, width, neutralise("；".join(reasons[rownum])), bad)
        r += 1
    ws.set_column(width, width, 60)
    ws.freeze_panes(len(sheet.header_rows), 0)
    wb.close()
    return buf.getvalue()


def _put(ws: Any, r: int, c: int, v: Any, datefmt: Any) -> None:
    from shouhu.ledger.exporter import neutralise

    if v is None or v == "":
        return
    if isinstance(v, bool):
        ws.write_boolean(r, c, v)
    elif isinstance(v, (int, float)):
        ws.write_number(r, c, v)
    elif hasattr(v, "year"):
        ws.write_datetime(r, c, v, datefmt)
    else:
        ws.write_string(r, c, neutralise(str(v)))


__all__ = ["COLUMNS", "Cancelled", "ImportResult", "UnusableFile", "error_workbook", "import_ledger"]
