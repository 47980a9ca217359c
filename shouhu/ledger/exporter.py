"""Ledger export (R1.9, R11.3): the official MCA 2016 layout (附件1, title, 填报单位 row, two-level headers,
signature line) or Shouhu's own (one header row), xlsx or csv; the township summary sheet (附件3) whose
every breakdown sums to its total (勾稽关系, `check_summary`).

Only the files the user may export are exported (`restrict(user, "ledger.export")`), identifiers masked
where the user may not see them in full; every export needs a reason and is an access record.
Text cells that start with = + - @ (or a tab / carriage return) are neutralised with a leading
apostrophe so that a spreadsheet never runs them as formulas; the import strips it again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, FilteredRelation, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from shouhu.core import codes
from shouhu.core.access import can, prefix_q, restrict
from shouhu.core.accesslog import record_read
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.models import Organisation, Region, User
from shouhu.ledger.columns import (
    COLUMNS,
    G_CARE,
    G_CHILD,
    GRANDPARENTS,
    GUARDIAN_PREFIX,
    PARENT_PREFIX,
    Column,
)
from shouhu.registry import rules
from shouhu.registry.models import CareArrangement, Child, Health, LeftBehindType, Rating, Schooling, Sex

LAYOUTS = ("official", "platform")
STATUSES = ("left_behind", "all", "key_target")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    pass


def neutralise(value: str) -> str:
    """CSV/formula injection (OWASP): a text cell never starts with a formula character."""
    return "'" + value if value.startswith(_DANGEROUS) else value


# --- selection ---------------------------------------------------------------------------------------


def children_for_export(
    user: User, *, region: Region | None = None, status: str = "left_behind"
) -> QuerySet[Child]:
    qs = restrict(Child.objects.all(), user, "ledger.export")
    if region is not None:
        qs = qs.filter(prefix_q("village__pk", (region.prefix,)))
    if status == "left_behind":
        qs = qs.filter(lb_status=True)
    elif status == "key_target":
        qs = qs.filter(key_target=True)
    elif status != "all":
        raise ExportError(_("未知的范围：%(s)s") % {"s": status})
    return qs.order_by("village_id", "name_pinyin", "id")


# --- one child as cells ----------------------------------------------------------------------------
#
# The export reads plain values (`.values()`, not model instances) in one query, the family members joined
# in (father and mother, R1.2; the four grandparents, R1.1; the carer and the entrusted guardian, R1.3: at
# most one of each by constraint), and turns each column into a precomputed getter; code and choice labels
# are looked up once per distinct code. Only the fields of the layout's columns are read, so only its
# identifiers are decrypted (~17 µs a value); a member not on file costs no decryption.


def _yn(v: Any) -> str:
    return "" if v is None else ("是" if v else "否")


_CHOICES = {
    "health": Health.choices,
    "schooling": Schooling.choices,
    "care_arrangement": CareArrangement.choices,
    "guardianship_rating": Rating.choices,
}
_CHILD_FIELDS = (
    "id",
    "village_id",
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "id_number",
    "hukou_registered",
    "hukou_rural",
    "hukou_place",
    "address",
    "health",
    "disability_type",
    "disability_grade",
    "illness",
    "schooling",
    "boarding",
    "school_id",
    "care_arrangement",
    "guardianship_rating",
    "income_sources",
    "assistance",
    "distress_categories",
    "village_contact_name",
    "village_contact_phone",
    "notes",
    "lb_type",
    "key_target",
)
_RELATIONS = ("father", "mother")  # one of each at most (constraint one_father_one_mother)
# The fields read for each member: its columns' fields, and its id (None: no such member on file).
_MEMBER_FIELDS = {
    m: ("id", *dict.fromkeys(c.field for c in COLUMNS if c.member == m))
    for m in dict.fromkeys(c.member for c in COLUMNS if c.member)
}
_YES_NO = ("away_for_work", "guardianship_capacity", "deceased")
_MEMBER_CODES = {
    "work_province": "province",
    "incapacity_reason": "incapacity_reason",
    "relationship": "relationship",
}
_MULTI = {
    "income_sources": "income_source",
    "assistance": "assistance",
    "distress_categories": "distress_category",
}

Record = dict[str, Any]
Getter = Callable[[Record, bool], Any]


class Row:
    """Cell values of one child (`cells`, in the order of COLUMNS); identifiers masked where the user may
    not see them."""

    __slots__ = ("c", "cells")

    def __init__(self, child: Record, cells: list[Any]) -> None:
        self.c = child
        self.cells = cells


class _Cells:
    """Turns a child's record (its family members' fields joined in as `father__…`, `paternal_grandfather__…`,
    `carer__…`) into cell values: one getter per column, built once; labels memoised."""

    def __init__(self, user: User, joined: set[str]) -> None:
        self.user = user
        self.sees: dict[str, bool] = {}
        self.villages = _village_names()
        self.schools = dict(Organisation.objects.values_list("id", "name"))
        self.code_labels: dict[str, dict[str, str]] = {}
        self.choice_labels = {f: {v: str(label) for v, label in ch} for f, ch in _CHOICES.items()}
        self.sex_labels = {str(v): str(label) for v, label in Sex.choices}
        # Consecutive columns of the same record (the child's, the father's, the carer's …) as one segment:
        # (member, the key of its id in the record — None for the child's own columns, "" for a member not
        # joined because no child of the export has one —, getters, blank cells for a member not on file).
        self.segments: list[tuple[str | None, str | None, list[Getter], list[Any]]] = []
        for col in COLUMNS:
            g = self._member_getter(f"{col.member}__", col.field) if col.member else self._getter(col.key)
            if self.segments and self.segments[-1][0] == col.member:
                self.segments[-1][2].append(g)
                self.segments[-1][3].append("")
            else:
                id_key = None if col.member is None else f"{col.member}__id" if col.member in joined else ""
                self.segments.append((col.member, id_key, [g], [""]))

    def label(self, list_name: str, code: str) -> str:
        known = self.code_labels.setdefault(list_name, {})
        try:
            return known[code]
        except KeyError:
            known[code] = text = codes.label(list_name, code)
            return text

    def labels(self, list_name: str, values: list[str] | None) -> str:
        return "、".join(self.label(list_name, v) for v in values or [])

    def row(self, child: Record) -> Row:
        village = child["village_id"]
        try:
            full = self.sees[village]
        except KeyError:
            full = self.sees[village] = can(self.user, "child.identifiers", village)
        cells: list[Any] = []
        for _member, id_key, getters, blank in self.segments:
            if id_key is not None and (not id_key or child[id_key] is None):  # no such member on record
                cells += blank
            else:
                cells += [g(child, full) for g in getters]
        return Row(child, cells)

    def _getter(self, f: str) -> Getter:
        if f == "sex":
            sexes = self.sex_labels
            return lambda c, full: sexes.get(c["sex"], c["sex"])
        if f == "ethnicity":
            return lambda c, full: self.label("ethnicity", c["ethnicity"])
        if f == "id_number":
            return lambda c, full: c["id_number"] if full else mask_id_number(c["id_number"])
        if f == "village":
            villages = self.villages
            return lambda c, full: villages.get(c["village_id"], c["village_id"])
        if f == "school":
            schools = self.schools
            return lambda c, full: schools.get(c["school_id"], "") if c["school_id"] is not None else ""
        if f in ("hukou_registered", "hukou_rural", "boarding"):
            return lambda c, full: _yn(c[f])
        if f in _CHOICES:
            choice = self.choice_labels[f]
            return lambda c, full: choice[c[f]] if c[f] else ""
        if f in ("disability_type", "disability_grade"):
            return lambda c, full: self.label(f, c[f]) if c[f] else ""
        if f in _MULTI:
            list_name = _MULTI[f]
            return lambda c, full: self.labels(list_name, c[f])
        if f == "village_contact_phone":

            def contact_phone(c: Record, full: bool) -> Any:
                v = c["village_contact_phone"] or ""
                return v if full else (mask_phone(v) or "")

            return contact_phone
        return lambda c, full: c[f]

    def _member_getter(self, prefix: str, f: str) -> Getter:
        """A family member's column, read from the child's record (`father__phone`, `carer__id_number`: the
        members are joined in); identifiers masked as the parents' always were (R11.3)."""
        k = prefix + f
        if f == "id_number":
            return lambda c, full: (c[k] if full else mask_id_number(c[k])) or ""
        if f == "phone":
            return lambda c, full: (c[k] if full else mask_phone(c[k] or None)) or ""
        if f in _YES_NO:
            return lambda c, full: _yn(c[k])
        if f in _MEMBER_CODES:
            list_name = _MEMBER_CODES[f]
            return lambda c, full: self.label(list_name, c[k]) if c[k] else ""
        return lambda c, full: c[k]


def _village_names() -> dict[str, str]:
    """Village names prefixed by their township (巴山镇梨山村): unique across the county, as ledgers write them."""
    return {
        r.code: f"{r.parent.name if r.parent else ''}{r.name}"
        for r in Region.objects.filter(kind__in=("village", "community")).select_related("parent")
    }


def _joined(qs: QuerySet[Child]) -> dict[str, FilteredRelation]:
    """The family members to join into the child's row, each as a relation of its own (one LEFT JOIN):
    the parents, and each other member that at least one child of the export has on file (one EXISTS
    each). A join that finds nothing still costs ~0.1 s per 100,000 children, and a county may keep no
    grandparents or guardians at all (R1.9: the export under 20 s)."""
    out = {r: FilteredRelation("parents", condition=Q(parents__relation=r)) for r in _RELATIONS}
    for member, (side, relation) in GRANDPARENTS.items():
        q = Q(grandparents__side=side, grandparents__relation=relation)
        if qs.filter(q).exists():
            out[member] = FilteredRelation("grandparents", condition=q)
    for role in GUARDIAN_PREFIX:
        q = Q(guardians__role=role)
        if qs.filter(q).exists():
            out[role] = FilteredRelation("guardians", condition=q)
    return out


def _rows(user: User, qs: QuerySet[Child]) -> Iterator[Row]:
    """The children in the order of `qs`, each with its family members joined in (one query)."""
    members = _joined(qs.order_by())
    cells = _Cells(user, set(members))
    fields = [*_CHILD_FIELDS, *(f"{m}__{f}" for m in members for f in _MEMBER_FIELDS[m])]
    for child in qs.select_related(None).annotate(**members).values(*fields).iterator(chunk_size=2000):
        yield cells.row(child)


# --- summary (附件3) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    key: str
    title: str
    parts: tuple[tuple[str, str], ...]


def breakdowns() -> list[Breakdown]:
    return [
        Breakdown("sex", _("性别"), tuple((str(v), str(label)) for v, label in Sex.choices)),
        Breakdown(
            "age",
            _("年龄段"),
            (
                ("0_5", _("0–5岁")),
                ("6_13", _("6–13岁")),
                ("14_15", _("14–15岁")),
                ("16_plus", _("16岁及以上")),
            ),
        ),
        Breakdown(
            "care_arrangement",
            _("实际照料方式"),
            tuple((str(v), str(lab)) for v, lab in CareArrangement.choices),
        ),
        Breakdown("schooling", _("就学情况"), tuple((str(v), str(lab)) for v, lab in Schooling.choices)),
        Breakdown("health", _("健康状况"), tuple((str(v), str(lab)) for v, lab in Health.choices)),
        Breakdown(
            "guardianship_rating",
            _("监护情况评估"),
            (*((str(v), str(lab)) for v, lab in Rating.choices), ("", _("未评估"))),
        ),
        Breakdown(
            "lb_type",
            _("留守类型"),
            (*((str(v), str(lab)) for v, lab in LeftBehindType.choices), ("", _("非留守"))),
        ),
    ]


def _age_q(part: str, on: date) -> Q:
    cut = {k: rules.anniversary(on, -k) for k in (6, 14, 16)}  # age >= k  ⇔  birth_date < cut[k]
    return {
        "0_5": Q(birth_date__gte=cut[6]),
        "6_13": Q(birth_date__lt=cut[6], birth_date__gte=cut[14]),
        "14_15": Q(birth_date__lt=cut[14], birth_date__gte=cut[16]),
        "16_plus": Q(birth_date__lt=cut[16]),
    }[part]


def summary_table(qs: QuerySet[Child], *, on: date) -> list[dict[str, Any]]:
    """One row per township (and a county total last) with the total and every breakdown: one query."""
    aggs: dict[str, Any] = {"total": Count("pk")}
    for b in breakdowns():
        for value, _label in b.parts:
            q = _age_q(value, on) if b.key == "age" else Q(**{b.key: value})
            aggs[f"{b.key}:{value}"] = Count("pk", filter=q)
    # The plugin types `.values()` as a TypedDict of the named fields only; the `**aggs` keys are dynamic.
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in qs.order_by()
        .annotate(township=Substr("village_id", 1, 9))
        .values("township")
        .annotate(**aggs)
        .order_by("township")
    ]
    names = {
        r.code[:9]: r.name for r in Region.objects.filter(code__in=[f"{r['township']}000" for r in rows])
    }
    total: dict[str, Any] = {"township": "", "name": _("合计")}
    for r in rows:
        r["name"] = names.get(r["township"], r["township"])
        for k, v in r.items():
            if k not in ("township", "name"):
                total[k] = total.get(k, 0) + v
    if not rows:
        total.update({k: 0 for k in aggs})
    return [*rows, total]


def check_summary(table: list[dict[str, Any]]) -> list[str]:
    """勾稽关系: every breakdown of every row sums to its total, and the townships sum to the county."""
    problems = []
    for r in table:
        for b in breakdowns():
            s = sum(r[f"{b.key}:{v}"] for v, _l in b.parts)
            if s != r["total"]:
                problems.append(f"{r['name']}: {b.title} {s} ≠ {r['total']}")
    if len(table) > 1:
        for k in table[-1]:
            if k not in ("township", "name") and sum(r[k] for r in table[:-1]) != table[-1][k]:
                problems.append(f"{k}: townships do not sum to the total")
    return problems


# --- writers -----------------------------------------------------------------------------------------


def columns_for(layout: str) -> list[Column]:
    return list(COLUMNS)


def _platform_headers() -> list[str]:
    return [_("档案编号"), *[c.label for c in COLUMNS], _("留守类型"), _("是否重点对象")]


def _platform_extra(row: Row) -> tuple[list[Any], list[Any]]:
    c = row.c
    lb_type = c["lb_type"]
    return [str(c["id"])], [str(LeftBehindType(lb_type).label) if lb_type else "", _yn(c["key_target"])]


def export_ledger(
    out: Any,
    *,
    user: User,
    reason: str,
    region: Region | None = None,
    layout: str = "official",
    status: str = "left_behind",
    fmt: str = "xlsx",
    on: date | None = None,
    ip: str | None = None,
) -> int:
    """Write the ledger to `out` (a path or a binary file object); returns the number of children."""
    reason = (reason or "").strip()
    if not can(user, "ledger.export"):
        raise ExportError(_("您的角色不能导出台账。"))
    if not reason:
        raise ExportError(_("导出台账须填写用途（事由），并将记入访问日志。"))
    if layout not in LAYOUTS:
        raise ExportError(_("未知的样式：%(l)s（official 或 platform）") % {"l": layout})
    on = on or timezone.localdate()
    qs = children_for_export(user, region=region, status=status)
    with override("zh-hans"):  # the official form is Chinese whatever the user's language
        n = (_write_csv if fmt == "csv" else _write_xlsx)(
            out, user=user, qs=qs, region=region, layout=layout, on=on
        )
    query = f"layout={layout}&format={fmt}&region={region.code if region else '*'}&status={status}"
    full = can(user, "child.identifiers")
    record_read(user=user, action="export", count=n, query=query, identifiers=full, detail=reason, ip=ip)
    return n


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, date):
        return v.isoformat()
    return neutralise(str(v))


def _write_csv(
    out: Any, *, user: User, qs: QuerySet[Child], region: Region | None, layout: str, on: date
) -> int:
    buf = io.StringIO()
    w = csv.writer(buf)
    if layout == "official":
        w.writerow([_("序号"), *[c.label for c in COLUMNS]])
    else:
        w.writerow(_platform_headers())
    n = 0
    for n, row in enumerate(_rows(user, qs), 1):
        cells = row.cells
        if layout == "official":
            w.writerow([n, *map(_cell_text, cells)])
        else:
            a, b = _platform_extra(row)
            w.writerow([*a, *map(_cell_text, cells), *b])
    data = buf.getvalue().encode("utf-8-sig")
    if isinstance(out, (str, bytes)) or hasattr(out, "__fspath__"):
        with open(out, "wb") as fh:
            fh.write(data)
    else:
        out.write(data)
    return n


def _write_xlsx(
    out: Any, *, user: User, qs: QuerySet[Child], region: Region | None, layout: str, on: date
) -> int:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        out if not hasattr(out, "__fspath__") else str(out),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    head = wb.add_format(
        {
            "bold": True,
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
            "bg_color": "#DDEBF7",
        }
    )
    cell = wb.add_format({"border": 1})
    datefmt = wb.add_format({"border": 1, "num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet(_("附件1 台账") if layout == "official" else _("儿童台账"))
    unit = region.name if region is not None else _("全部可见区域")
    if layout == "official":
        width = len(COLUMNS) + 1
        ws.merge_range(0, 0, 0, width - 1, _("农村留守儿童信息台账"), title)
        ws.write_string(
            1, 0, _("填报单位：%(unit)s（盖章）    统计截至：%(on)s") % {"unit": unit, "on": on.isoformat()}
        )
        # constant_memory writes row by row: all of row 3 (group row) before any of row 4. Headers that span
        # both rows are written in the upper row with the lower cell left blank (no vertical merge).
        ws.write_string(2, 0, _("序号"), head)
        j = 1
        groups: list[tuple[str, int, int]] = []
        for c in COLUMNS:
            if groups and groups[-1][0] == c.group and c.group:
                groups[-1] = (c.group, groups[-1][1], j)
            else:
                groups.append((c.group, j, j))
            j += 1
        for g, a, b in groups:
            if not g:
                ws.write_string(2, a, COLUMNS[a - 1].header, head)
            elif a == b:
                ws.write_string(2, a, g, head)
            else:
                ws.merge_range(2, a, 2, b, g, head)
        ws.write_blank(3, 0, None, head)
        for j, c in enumerate(COLUMNS, 1):
            if c.group:
                ws.write_string(3, j, c.header, head)
            else:
                ws.write_blank(3, j, None, head)
            ws.set_column(j, j, c.width)
        first = 4

    else:
        headers = _platform_headers()
        for j, h in enumerate(headers):
            ws.write_string(0, j, h, head)
        ws.set_column(0, 0, 36)
        for j, c in enumerate(COLUMNS, 1):
            ws.set_column(j, j, c.width)
        first = 1
    ws.freeze_panes(first, 0)
    n = 0
    r = first
    stream = _RowStream(ws, first, cell, datefmt)
    for n, row in enumerate(_rows(user, qs), 1):
        if layout == "official":
            stream.row(r, [n], row.cells, [])
        else:
            pk_cells, extra = _platform_extra(row)
            stream.row(r, pk_cells, row.cells, extra)
        r += 1
    if layout == "official":
        r += 1
        ws.write_string(
            r,
            0,
            _("单位负责人：          复核人：          填表人：          联系电话：          填表日期：%(d)s")
            % {"d": on.isoformat()},
        )
    _summary_sheet(wb, qs, on=on, unit=unit, head=head, cell=cell, title=title)
    wb.close()
    return n


_PLAIN = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")


class _RowStream:
    """Writes the ledger's data rows straight into the sheet XML of xlsxwriter's `constant_memory` mode.

    xlsxwriter costs ~15 µs a cell (a cell object, dimension checks, attribute escaping, one file write
    each); a county ledger is millions of cells. This writes the same XML as `write_number` /
    `write_string` / `write_datetime` would (inline strings, the same `r`/`s` attributes and escaping,
    blank cells omitted), one `write` per row, and keeps the worksheet's dimensions up to date. Where the
    worksheet is not in that mode (or xlsxwriter's internals differ), it writes cell by cell instead.

    Each row is: `lead` cells (numbers or strings, always written), the `cells` of COLUMNS (blank ones
    omitted, text neutralised against formulas, dates as dates) and `tail` strings (always written).
    """

    def __init__(self, ws: Any, first: int, cell: Any, datefmt: Any) -> None:
        self.ws, self.cell, self.datefmt = ws, cell, datefmt
        self.fast = bool(getattr(ws, "constant_memory", False)) and all(
            hasattr(ws, a)
            for a in ("fh", "previous_row", "_write_single_row", "_write_row", "_check_dimensions")
        )
        self.s_cell = self.s_date = ""
        self.dates: dict[date, str] = {}
        self.refs: list[str] = []
        self.known: dict[str, str] = {}  # text → the rest of its cell's XML, for the most frequent texts
        if self.fast:
            from xlsxwriter.utility import xl_col_to_name

            self.refs = [xl_col_to_name(j) for j in range(len(COLUMNS) + 3)]
            if first > ws.previous_row:
                ws._write_single_row(first)  # flush the header rows held in memory

    def row(self, r: int, lead: list[Any], cells: list[Any], tail: list[str]) -> None:
        if not self.fast:
            self._slow(r, lead, cells, tail)
            return
        ws = self.ws
        if not self.s_cell:  # format indices are assigned on first use, as xlsxwriter would
            self.s_cell = f' s="{self.cell._get_xf_index()}"'
        n = str(r + 1)
        refs = self.refs
        known = self.known
        out = []
        j = 0
        for j, v in enumerate(lead):
            out.append(self._number(refs[j] + n, v) if isinstance(v, int) else self._string(refs[j] + n, v))
        j = last = len(lead)
        for v in cells:
            if v.__class__ is str:
                if not v:
                    j += 1
                    continue
                tail_xml = known.get(v)
                if tail_xml is None:
                    tail_xml = self._tail(v)
                out.append(f'<c r="{refs[j]}{n}"{tail_xml}')
                last = j
            elif v is None or v == "":
                pass
            elif isinstance(v, str):
                out.append(self._string(refs[j] + n, neutralise(v)))
                last = j
            elif isinstance(v, date):
                out.append(self._date(refs[j] + n, v))
                last = j
            else:
                out.append(self._string(refs[j] + n, neutralise(str(v))))
                last = j
            j += 1
        for v in tail:
            out.append(self._string(refs[j] + n, v))
            last = j
            j += 1
        if ws._check_dimensions(r, last):  # column 0 (序号 / 档案编号) is always written
            raise ExportError(f"row {r} cannot be written")
        ws._write_row(r, None)
        out.append("</row>")
        ws.fh.write("".join(out))

    def _tail(self, v: str) -> str:
        """The XML of a text cell after its `r` attribute (neutralised, escaped as xlsxwriter would)."""
        text = "'" + v if v.startswith(_DANGEROUS) else v
        if _PLAIN.search(text) or len(text) > 16383:
            xml = self._string("", text)[len('<c r=""') :]
        else:
            xml = f'{self.s_cell} t="inlineStr"><is><t>{text}</t></is></c>'
        if len(self.known) < 20000:  # labels, yes/no, villages, names: a bounded memo
            self.known[v] = xml
        return xml

    def _number(self, ref: str, v: float) -> str:
        return f'<c r="{ref}"{self.s_cell}><v>{v:.16G}</v></c>'

    def _date(self, ref: str, v: date) -> str:
        if not self.s_date:
            self.s_date = f' s="{self.datefmt._get_xf_index()}"'
        serial = self.dates.get(v)
        if serial is None:
            serial = self.dates[v] = f"{self.ws._convert_date_time(v):.16G}"
        return f'<c r="{ref}"{self.s_date}><v>{serial}</v></c>'

    def _string(self, ref: str, v: str) -> str:
        """As xlsxwriter writes an inline string: truncated to 32,767 UTF-16 units, control characters
        escaped as _xHHHH_, whitespace preserved, & < > escaped."""
        from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate

        ws = self.ws
        if len(v) > 16383 and _utf16_len(v) > ws.xls_strmax:
            v = _utf16_truncate(v, ws.xls_strmax)
        v = ws._escape_control_characters(v)
        space = ' xml:space="preserve"' if _preserve_whitespace(v) else ""
        return f'<c r="{ref}"{self.s_cell} t="inlineStr"><is><t{space}>{ws._escape_data(v)}</t></is></c>'

    def _slow(self, r: int, lead: list[Any], cells: list[Any], tail: list[str]) -> None:
        ws, cell = self.ws, self.cell
        for j, v in enumerate(lead):
            if isinstance(v, int):
                ws.write_number(r, j, v, cell)
            else:
                ws.write_string(r, j, v, cell)
        for j, v in enumerate(cells, len(lead)):
            _put(ws, r, j, v, cell, self.datefmt)
        for j, v in enumerate(tail, len(lead) + len(cells)):
            ws.write_string(r, j, v, cell)


def _put(ws: Any, r: int, c: int, v: Any, cell: Any, datefmt: Any) -> None:
    # Blank cells are not written at all: xlsxwriter costs ~15 µs a cell and a ledger row is half blank.
    if v is None or v == "":
        return
    if isinstance(v, date):
        ws.write_datetime(r, c, v, datefmt)
    else:
        ws.write_string(r, c, neutralise(str(v)), cell)


def _summary_sheet(
    wb: Any, qs: QuerySet[Child], *, on: date, unit: str, head: Any, cell: Any, title: Any
) -> None:
    table = summary_table(qs, on=on)
    problems = check_summary(table)
    if problems:  # cannot happen: every breakdown is a partition; refuse to write a sheet that lies
        raise ExportError("; ".join(problems))
    ws = wb.add_worksheet(_("附件3 汇总表"))
    bs = breakdowns()
    width = 2 + sum(len(b.parts) for b in bs)
    ws.merge_range(0, 0, 0, width - 1, _("农村留守儿童情况汇总表"), title)
    ws.write_string(1, 0, _("填报单位：%(unit)s    统计截至：%(on)s") % {"unit": unit, "on": on.isoformat()})
    ws.write_string(2, 0, _("乡镇（街道）"), head)
    ws.write_string(2, 1, _("合计"), head)
    j = 2
    for b in bs:
        ws.merge_range(2, j, 2, j + len(b.parts) - 1, b.title, head)
        j += len(b.parts)
    ws.write_blank(3, 0, None, head)
    ws.write_blank(3, 1, None, head)
    j = 2
    for b in bs:
        for k, (_v, label) in enumerate(b.parts):
            ws.write_string(3, j + k, label, head)
        j += len(b.parts)
    ws.set_column(0, 0, 14)
    for i, row in enumerate(table, 4):
        ws.write_string(i, 0, str(row["name"]), cell)
        ws.write_number(i, 1, row["total"], cell)
        j = 2
        for b in bs:
            for v, _l in b.parts:
                ws.write_number(i, j, row[f"{b.key}:{v}"], cell)
                j += 1
    ws.write_string(4 + len(table) + 1, 0, _("勾稽关系：各分项之和等于合计；各乡镇之和等于合计。"))


__all__ = [
    "G_CARE",
    "G_CHILD",
    "PARENT_PREFIX",
    "ExportError",
    "check_summary",
    "children_for_export",
    "export_ledger",
    "neutralise",
    "summary_table",
]
