"""Ledger import (R1.9, issue 3 parts 3–5): every row validated by the one implementation of the file
form (`registry.validation.validate_child`), duplicates found within the file and against the database,
then all or nothing in one transaction.

- A row for a child already on file (same ID number; or, without one, a similar name with the same
  birth date and village — R1.7) updates the file through `services.child_update`, so the status history
  and the timeline follow; a row that changes nothing is "unchanged" and writes nothing, so the same
  workbook imported twice changes nothing the second time.
- New children are written set-based by `registry.bulk.bulk_register` (same derived status and events as
  `child_create`) with their grandparents, carer and entrusted guardian, which its `child.created`
  event records.
- The school (R4.1), the grandparents (R1.1), the carer and the entrusted guardian (R1.3) are columns
  like any other: checked by the registry's own rules (`registry.family_validation`), compared with the
  file on record, and for a child on file written through `guardian_set` / `grandparents_set` when they
  differ. A workbook without those columns, or with blank cells for a member, leaves what is on file.
- By default nothing is written when any row is invalid; `accept_valid` writes the valid rows only.
  A dry run writes nothing. A crash or a cancel inside the write rolls the whole transaction back.
- Rows for villages outside the user's edit scope are invalid rows (R11.1); a duplicate of a file out of
  scope says so without revealing it, and counts against the user's daily duplicate answers
  (`registry/duplicates.py`): once they are used up, every further row with an ID number is refused
  with the same message, so an import cannot be used to test numbers against the county.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core import codes
from shouhu.core.access import can
from shouhu.core.accesslog import lookups_left
from shouhu.core.crypto import blind_index
from shouhu.core.models import Organisation, OrganisationKind, Region, User
from shouhu.ledger import parse
from shouhu.ledger.columns import BY_KEY, COLUMNS, GRANDPARENTS, GUARDIAN_PREFIX, PARENT_PREFIX
from shouhu.ledger.reader import Sheet, UnusableFile, read_ledger
from shouhu.registry.duplicates import BUDGET_KIND, DuplicateChild, budget_message, similar_names
from shouhu.registry.family_validation import validate_grandparent, validate_guardian
from shouhu.registry.models import Child, Guardian, Parent
from shouhu.registry.services import PARENT_FIELDS, _gp
from shouhu.registry.validation import validate_child

CHUNK = 900  # IN-list size below SQLite's variable limit on old builds
PROGRESS_EVERY = 1000
HEALTH_COMPANIONS = ("disability_type", "disability_grade", "illness")
# The row's family data (R1.1, R1.3): not child fields, written beside the child (bulk_register, services).
FAMILY_KEYS = ("grandparents", *GUARDIAN_PREFIX)
GRANDPARENT_FIELDS = ("name", "birth_date", "deceased")
GUARDIAN_FIELDS = ("name", "relationship", "phone", "id_number", "address")
_GRANDPARENT_MEMBER = {sr: member for member, sr in GRANDPARENTS.items()}


class Cancelled(Exception):
    """The user cancelled; the transaction is rolled back."""


@dataclass
class RowOutcome:
    row: int
    action: str = "invalid"  # new | changed | unchanged | invalid
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column key, message)
    clean: dict[str, Any] | None = None
    existing: Child | None = None
    child_changed: bool = False  # a changed row: the child's own fields differ (child_update)
    family: dict[str, Any] = field(default_factory=dict)  # a changed row: family members to write


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
        self._schools: Schools | None = None
        self.converted: dict[tuple[str, Any], Any] = {}  # _convert_cached
        parse.clear_caches()
        codes.clear_cache()

    def school(self, raw: Any, village: Region | None) -> Organisation | None:
        """The school or kindergarten a cell names (R4.1); all schools are read once, on the first."""
        if self._schools is None:
            self._schools = Schools()
        return self._schools.resolve(raw, village)

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


def _school_key(value: Any) -> str:
    return "".join(parse.text(value).split())


def _township(region: Region | None) -> Region | None:
    """The township-level region a school or a village is in (None for the county itself)."""
    if region is None:
        return None
    if region.level == 2:
        return region
    return region.parent if region.level == 3 else None


def _town_prefixes(town: Region) -> list[str]:
    """How a school's name may start with its township: 巴山镇中心小学 or 巴山中心小学."""
    names = [_school_key(town.name)]
    for suffix in ("街道", "镇", "乡"):
        if names[0].endswith(suffix) and len(names[0]) > len(suffix) + 1:
            names.append(names[0][: -len(suffix)])
    return names


class Schools:
    """Every school and kindergarten of the county from one query, found by name (R4.1, R1.9): the full
    name; the name with the township written in full or short (巴山镇中心小学 for 巴山中心小学); or the
    name without the township (中心小学), taken from the child's own township first, then county-wide
    when it is unique there."""

    def __init__(self) -> None:
        self.by_name: dict[str, Organisation] = {}
        self.by_rest: dict[str, list[Organisation]] = defaultdict(list)
        self.town_of: dict[int, str] = {}
        self.orgs = list(
            Organisation.objects.filter(
                kind__in=(OrganisationKind.SCHOOL, OrganisationKind.KINDERGARTEN)
            ).select_related("region__parent")
        )
        for org in self.orgs:
            key = _school_key(org.name)
            self.by_name[key] = org
            town = _township(org.region)
            if town is None:
                continue
            self.town_of[org.pk] = town.code
            prefixes = _town_prefixes(town)
            rest = next((key[len(p) :] for p in prefixes if key.startswith(p) and len(key) > len(p)), None)
            if rest:
                self.by_rest[rest].append(org)
                for p in prefixes:
                    self.by_name.setdefault(p + rest, org)

    def resolve(self, raw: Any, village: Region | None) -> Organisation | None:
        s = _school_key(raw)
        if not s:
            return None
        hit = self.by_name.get(s)
        if hit is not None:
            return hit
        candidates = self.by_rest.get(s, [])
        town = _township(village)
        local = [o for o in candidates if town is not None and self.town_of.get(o.pk) == town.code]
        if len(local) == 1:
            return local[0]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise parse.ParseError(
                _("“%(v)s”有多所同名学校（%(names)s），请填写学校的全称。")
                % {"v": s, "names": "、".join(o.name for o in candidates[:5])}
            )
        example = next(
            (o for o in self.orgs if town is not None and self.town_of.get(o.pk) == town.code),
            self.orgs[0] if self.orgs else None,
        )
        if example is None:
            raise parse.ParseError(_("找不到学校“%(v)s”，请填写本县学校或幼儿园的全称。") % {"v": s})
        raise parse.ParseError(
            _("找不到学校“%(v)s”，请填写本县学校或幼儿园的全称（如“%(ex)s”），不在学的请留空。")
            % {"v": s, "ex": example.name}
        )


# --- one row ----------------------------------------------------------------------------------------


def _cell(row: list[Any], idx: int) -> Any:
    return row[idx] if idx < len(row) else None


# Kinds whose reading depends on the cell's text alone: a ledger repeats the same few values (是, 汉族,
# 小学, 广东省 …) in every row, so each distinct (kind, text) is parsed once per import.
_REPEATING = ("bool", "sex", "ethnicity", "choice:", "multi:", "code:")


def _repeats(kind: str) -> bool:
    return kind.startswith(_REPEATING)


def _convert_cached(cache: dict[tuple[str, Any], Any], kind: str, raw: Any) -> Any:
    """`_convert` memoised for blanks and the texts of repeating kinds (a ParseError's message is remembered and raised again);
    lists are copied so that no two rows share one."""
    if not (raw is None or raw == "" or (type(raw) is str and _repeats(kind))):
        return _convert(kind, raw)
    try:
        value = cache[(kind, raw)]
    except KeyError:
        try:
            value = _convert(kind, raw)
        except parse.ParseError as exc:
            value = exc
        cache[(kind, raw)] = value
    if isinstance(value, parse.ParseError):
        raise parse.ParseError(value.message)  # a fresh one: a re-raised instance keeps growing its traceback
    return list(value) if isinstance(value, list) else value


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
        if col.kind == "school":
            continue  # needs the row's village: below
        raw = _cell(cells, idx)
        try:
            if col.kind == "village":
                values[key] = ctx.village(raw)
            elif col.kind == "date" and col.field == "away_since":
                values[key] = parse.parse_date(raw, month_ok=True)
            else:
                values[key] = _convert_cached(ctx.converted, col.kind, raw)
        except parse.ParseError as exc:
            errors[key] = exc.message
            values[key] = None
    data: dict[str, Any] = {}
    for key, v in values.items():
        if BY_KEY[key].member is None:
            data[key] = v
    if "village" not in sheet.columns and ctx.region is not None and ctx.region.is_village_level:
        data["village"] = ctx.region
    if "school" in sheet.columns:
        try:
            data["school"] = ctx.school(_cell(cells, sheet.columns["school"]), data.get("village"))
        except parse.ParseError as exc:
            errors["school"] = exc.message
            data["school"] = None
    for flag in ("hukou_registered", "hukou_rural", "boarding"):
        if data.get(flag) is None:
            data.pop(flag, None)
    if data.get("ethnicity") is None:
        data.pop("ethnicity", None)
    by_member = sheet.member_columns
    parents = []
    for rel in PARENT_PREFIX:
        keys = by_member.get(rel, [])
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
    if any(rel in by_member for rel in PARENT_PREFIX):
        data["parents"] = parents
    data.update(_family_input(by_member, values))
    return data, errors


def _family_input(by_member: dict[str | None, list[str]], values: dict[str, Any]) -> dict[str, Any]:
    """The grandparents (R1.1), carer and entrusted guardian (R1.3) a row gives, with only the fields the
    workbook has columns for; a key only when the workbook has columns for it. A member whose cells are
    blank (or only say 否 to 是否去世) gives nothing, so what is on file for it stays."""
    out: dict[str, Any] = {}
    grandparents: list[dict[str, Any]] = []
    for member, (side, relation) in GRANDPARENTS.items():
        keys = by_member.get(member)
        if not keys:
            continue
        out["grandparents"] = grandparents
        g = {BY_KEY[k].field: values.get(k) for k in keys}
        if g.get("name") or g.get("birth_date") or g.get("deceased"):
            grandparents.append({"side": side, "relation": relation, **g})
    for role in GUARDIAN_PREFIX:
        keys = by_member.get(role)
        if keys:
            given = {BY_KEY[k].field: values.get(k) for k in keys}
            out[role] = given if any(v not in (None, "") for v in given.values()) else None
    return out


def clean_family(data: dict[str, Any], *, today: date) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The row's family data checked by the registry's rules (`family_validation`, as `guardian_set`
    checks the form), and the errors by column key. Guardians keep only the fields the workbook gave."""
    out: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    if "grandparents" in data:
        rows = []
        for g in data["grandparents"]:
            clean, errs = validate_grandparent(g, today=today)
            member = _GRANDPARENT_MEMBER[(g["side"], g["relation"])]
            errors += [(f"{member}_{f}", m) for f, msgs in errs.items() for m in msgs]
            rows.append({k: clean[k] for k in ("side", "relation", *GRANDPARENT_FIELDS) if k in g})
        out["grandparents"] = rows
    for role in GUARDIAN_PREFIX:
        if role not in data:
            continue
        given = data[role]
        if given is None:
            out[role] = None
            continue
        clean, errs = validate_guardian(given, role=role)
        errors += [(f"{role}_{f}", m) for f, msgs in errs.items() for m in msgs]
        out[role] = {k: clean[k] for k in given}
    return out, errors


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
    """The child's fields and the family parts (parents, grandparents, carer, entrusted) the workbook has
    columns for: only those are compared and written (R1.9: the rest of a file stays as it is)."""
    by_member = sheet.member_columns
    keys = set(by_member.get(None, []))
    keys.add("village")
    if "health" in keys:
        keys.update(HEALTH_COMPANIONS)
    if "id_number" in keys:
        keys.add("hukou_registered")
    if any(rel in by_member for rel in PARENT_PREFIX):
        keys.add("parents")
    if any(member in by_member for member in GRANDPARENTS):
        keys.add("grandparents")
    keys.update(role for role in GUARDIAN_PREFIX if role in by_member)
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


def child_changes(existing: Child, clean: dict[str, Any], present: set[str]) -> bool:
    """True when writing the row would change the child's own fields or parents on record."""
    for key in present:
        if key == "parents" or key in FAMILY_KEYS:
            continue
        if key == "village":
            if existing.village_id != clean["village"].code:
                return True
            continue
        if key == "school":
            school = clean.get("school")
            if existing.school_id != (school.pk if school is not None else None):
                return True
            continue
        if key in clean and not _same(getattr(existing, key), clean[key]):
            return True
    if "parents" in present:
        on_file = {p.relation: p for p in _on_file(existing, "parents")}
        for p in clean.get("parents") or []:
            ex = on_file.get(p["relation"])
            if ex is None:
                return True
            for f in (*PARENT_FIELDS, "id_number", "phone"):
                if f in p and not _same(getattr(ex, f), p[f]):
                    return True
    return False


def _on_file(existing: Child, relation: str) -> list[Any]:
    """A family relation of a child on file: the list `_match_database` prefetched into `on_file_<relation>`
    (a plain list: Django builds a queryset per child and relation otherwise, a third of a re-import's
    time), or a query when the child was loaded another way."""
    prefetched = getattr(existing, f"on_file_{relation}", None)
    return list(getattr(existing, relation).all()) if prefetched is None else prefetched


def _guardian_dict(g: Guardian) -> dict[str, Any]:
    return {f: getattr(g, f) for f in (*GUARDIAN_FIELDS, "birth_date")}


def family_updates(existing: Child, clean: dict[str, Any], present: set[str]) -> dict[str, Any]:
    """What the row changes in the family of a child on file, ready for the services: "grandparents"
    (the whole list, for `grandparents_set`), "carer" / "entrusted" (the data for `guardian_set`). A
    member the row leaves blank, and a field the workbook has no column for, keep what is on file; an
    empty dict when nothing differs (so a second import of the same workbook writes nothing)."""
    out: dict[str, Any] = {}
    if "grandparents" in present:
        on_file = {(g.side, g.relation): _gp(g) for g in _on_file(existing, "grandparents")}
        merged = {k: dict(v) for k, v in on_file.items()}
        for g in clean.get("grandparents") or []:
            key = (g["side"], g["relation"])
            base = merged.get(key) or {"side": key[0], "relation": key[1], "name": "", "birth_date": None}
            base.update({f: g[f] for f in GRANDPARENT_FIELDS if f in g})
            base["deceased"] = bool(base.get("deceased"))
            merged[key] = base
        if merged != on_file:
            out["grandparents"] = list(merged.values())
    guardians = (
        {g.role: g for g in _on_file(existing, "guardians")}
        if any(r in present for r in GUARDIAN_PREFIX)
        else {}
    )
    for role in GUARDIAN_PREFIX:
        given = clean.get(role) if role in present else None
        if not given:
            continue
        current = _guardian_dict(guardians[role]) if role in guardians else {}
        data = {**current, **given}
        if not current or any(not _same(current.get(f), data.get(f)) for f in GUARDIAN_FIELDS):
            out[role] = data
    return out


def update_data(existing: Child, clean: dict[str, Any], present: set[str]) -> dict[str, Any]:
    data = {k: clean[k] for k in present if k in clean and k != "parents" and k not in FAMILY_KEYS}
    data["village"] = clean["village"].code
    if "parents" in present:
        given = {p["relation"]: p for p in clean.get("parents") or []}
        kept = [_parent_dict(p) for p in _on_file(existing, "parents") if p.relation not in given]
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
        broken = set(parse_errors)
        try:
            clean = validate_child(data, today=today)
        except ValidationError as exc:
            clean = None
            for key, msgs in exc.message_dict.items():
                col = _column_of(key, sheet)
                if col in broken or (col == "village" and "village" in broken):
                    continue
                out.errors.extend((col, m) for m in msgs)
        family, family_errors = clean_family(data, today=today)
        family_errors = [(col, m) for col, m in family_errors if col not in broken]
        out.errors += family_errors
        if clean is not None:
            clean.update(family)
        if clean is not None and not parse_errors and not family_errors:
            if not can(ctx.actor, "child.create", clean["village"].code):
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
    valid = [o for o in outcomes if o.clean is not None and not o.errors]
    budget = [lookups_left(actor, BUDGET_KIND)]  # duplicate answers left today (R11.1, part 8)
    relations = ["parents"]
    if "grandparents" in present:
        relations.append("grandparents")
    if any(role in present for role in GUARDIAN_PREFIX):
        relations.append("guardians")
    related = [Prefetch(r, to_attr=f"on_file_{r}") for r in relations]  # read by _on_file

    def decide(o: RowOutcome) -> None:
        assert o.clean is not None
        if o.clean.get("id_number") and budget[0] <= 0:  # whatever the database holds: no oracle
            o.errors.append(("id_number", budget_message()))
            o.existing = None
            return
        if o.existing is None:
            o.action = "new"
            return
        if not can(actor, "child.edit", o.existing):
            message, _visible = DuplicateChild(o.existing).explain(actor)
            if _visible is None:
                budget[0] -= 1
            o.errors.append(("id_number" if o.clean.get("id_number") else "name", message))
            o.existing = None
            return
        o.child_changed = child_changes(o.existing, o.clean, present)
        o.family = family_updates(o.existing, o.clean, present)
        for role in GUARDIAN_PREFIX:
            if role in o.family:  # merged with the file: its birth date checks the ID number (R1.7)
                _clean, errs = validate_guardian(o.family[role], role=role)
                o.errors += [(f"{role}_{f}", m) for f, msgs in errs.items() for m in msgs]
        if o.child_changed or o.family:
            o.action = "changed"
        else:
            o.action, o.clean, o.existing = "unchanged", None, None

    with_id = [o for o in valid if o.clean and o.clean.get("id_number")]
    for i in range(0, len(with_id), CHUNK):
        part = {blind_index("id", o.clean["id_number"]): o for o in with_id[i : i + CHUNK] if o.clean}
        for child in (
            Child.objects.select_related("village")
            .prefetch_related(*related)
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
                .prefetch_related(*related)
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
    from shouhu.registry.services import child_update, grandparents_set, guardian_set

    new = [o for o in outcomes if o.action == "new"]
    changed = [o for o in outcomes if o.action == "changed"]
    total = len(new) + len(changed)
    done = 0
    created = 0
    step = 5000
    for i in range(0, len(new), step):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        chunk = new[i : i + step]
        rows = [o.clean for o in chunk if o.clean]  # with their family (R1.1, R1.3): bulk_register writes it
        saved = bulk_register(actor=actor, rows=rows, today=today)
        created += len(saved)  # bulk_register raised the unattended alerts of R2.2 already
        for o in chunk:
            o.clean = None  # memory: written
        done += len(chunk)
        if progress is not None:
            progress("write", done, total)
    for n, o in enumerate(changed, 1):
        assert o.existing is not None and o.clean is not None
        child = o.existing
        if o.child_changed:
            child = child_update(
                actor=actor,
                child_id=o.existing.pk,
                data=update_data(o.existing, o.clean, present),
                version=o.existing.version,
                today=today,
            )
        else:  # only the family changed: the child's file is not rewritten (no new version)
            child.refresh_from_db()  # drops the prefetched family: grandparents_set reads it afresh
        if "grandparents" in o.family:
            grandparents_set(actor=actor, child=child, rows=o.family["grandparents"])
        for role in GUARDIAN_PREFIX:
            if role in o.family:
                guardian_set(actor=actor, child=child, role=role, data=o.family[role])
        if n % 200 == 0:
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            if progress is not None:
                progress("write", done + n, total)
    return created, len(changed)


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


from shouhu.ledger.error_report import error_workbook  # noqa: E402 (re-exported; it reads this module's result)

__all__ = ["COLUMNS", "Cancelled", "ImportResult", "UnusableFile", "error_workbook", "import_ledger"]
