"""Ledger export (R1.9, R11.3): the official MCA 2016 layout (附件1, title, 填报单位 row, two-level headers,
signature line) or Shouhu's own (one header row), xlsx or csv; the township summary sheet (附件3) whose
every breakdown sums to its total (勾稽关系, `check_summary`).

Only what the user may see is exported (`Child.objects.visible_to`); identifiers are masked for roles
that may not see them; every export needs a reason and is logged (`log_access(action="export")`).
Text cells that start with = + - @ (or a tab / carriage return) are neutralised with a leading
apostrophe so that a spreadsheet never runs them as formulas; the import strips it again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from shouhu.core import codes
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.jurisdiction import prefix_q, scope_of
from shouhu.core.models import Region, User
from shouhu.ledger.columns import COLUMNS, G_CARE, G_CHILD, PARENT_PREFIX, Column
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
    qs = Child.objects.visible_to(user)
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


def _yn(v: Any) -> str:
    return "" if v is None else ("是" if v else "否")


def _labels(list_name: str, values: list[str]) -> str:
    return "、".join(codes.label(list_name, v) for v in values or [])


class Row:
    """Cell values of one child, by column key; identifiers masked where the user may not see them."""

    def __init__(self, child: Child, *, full_ids: bool, villages: dict[str, str]) -> None:
        self.c = child
        self.full = full_ids
        self.villages = villages
        self.parents = {p.relation: p for p in child.parents.all()}

    def value(self, col: Column) -> Any:
        if col.parent:
            p = self.parents.get(col.parent)
            return "" if p is None else self._parent(p, col.field)
        c = self.c
        f = col.key
        if f == "sex":
            return str(Sex(c.sex).label) if c.sex in Sex.values else c.sex
        if f == "ethnicity":
            return codes.label("ethnicity", c.ethnicity)
        if f == "id_number":
            return c.id_number if self.full else mask_id_number(c.id_number)
        if f == "village":
            return self.villages.get(c.village_id, c.village_id)
        if f in ("hukou_registered", "hukou_rural", "boarding"):
            return _yn(getattr(c, f))
        if f in ("health", "schooling", "care_arrangement", "guardianship_rating"):
            v = getattr(c, f)
            return str(dict(_CHOICES[f])[v]) if v else ""
        if f in ("disability_type", "disability_grade"):
            return codes.label(f, getattr(c, f)) if getattr(c, f) else ""
        if f == "income_sources":
            return _labels("income_source", c.income_sources)
        if f == "assistance":
            return _labels("assistance", c.assistance)
        if f == "distress_categories":
            return _labels("distress_category", c.distress_categories)
        if f == "village_contact_phone":
            v = c.village_contact_phone or ""
            return v if self.full else (mask_phone(v) or "")
        return getattr(c, f)

    def _parent(self, p: Any, f: str) -> Any:
        if f == "id_number":
            return (p.id_number if self.full else mask_id_number(p.id_number)) or ""
        if f == "phone":
            return (p.phone if self.full else mask_phone(p.phone or None)) or ""
        if f in ("away_for_work", "guardianship_capacity", "deceased"):
            return _yn(getattr(p, f))
        if f == "work_province":
            return codes.label("province", p.work_province) if p.work_province else ""
        if f == "incapacity_reason":
            return codes.label("incapacity_reason", p.incapacity_reason) if p.incapacity_reason else ""
        return getattr(p, f)


_CHOICES = {
    "health": Health.choices,
    "schooling": Schooling.choices,
    "care_arrangement": CareArrangement.choices,
    "guardianship_rating": Rating.choices,
}


def _village_names() -> dict[str, str]:
    """Village names prefixed by their township (巴山镇梨山村): unique across the county, as ledgers write them."""
    return {
        r.code: f"{r.parent.name if r.parent else ''}{r.name}"
        for r in Region.objects.filter(kind__in=("village", "community")).select_related("parent")
    }


def _rows(user: User, qs: QuerySet[Child]) -> Iterator[Row]:
    scope = scope_of(user)
    villages = _village_names()
    for child in qs.select_related(None).prefetch_related("parents").iterator(chunk_size=2000):
        yield Row(child, full_ids=scope.sees_identifiers_in(child.village_id), villages=villages)


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
    return [str(c.pk)], [str(LeftBehindType(c.lb_type).label) if c.lb_type else "", _yn(c.key_target)]


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
    from shouhu.registry.services import log_access

    reason = (reason or "").strip()
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
    log_access(
        user=user,
        action="export",
        detail=f"ledger layout={layout} format={fmt} region={region.code if region else '*'} status={status} "
        f"rows={n} reason={reason}",
        ip=ip,
    )
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
        cells = [row.value(c) for c in COLUMNS]
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
        offset = 1
    else:
        headers = _platform_headers()
        for j, h in enumerate(headers):
            ws.write_string(0, j, h, head)
        ws.set_column(0, 0, 36)
        for j, c in enumerate(COLUMNS, 1):
            ws.set_column(j, j, c.width)
        first, offset = 1, 1
    ws.freeze_panes(first, 0)
    n = 0
    r = first
    for n, row in enumerate(_rows(user, qs), 1):
        if layout == "official":
            ws.write_number(r, 0, n, cell)
        else:
            pk_cells, extra = _platform_extra(row)
            ws.write_string(r, 0, pk_cells[0], cell)
        for j, c in enumerate(COLUMNS, offset):
            _put(ws, r, j, row.value(c), cell, datefmt)
        if layout == "platform":
            for k, v in enumerate(extra, len(COLUMNS) + 1):
                ws.write_string(r, k, v, cell)
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
