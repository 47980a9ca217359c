"""Writing the rows as CSV or as xlsx (constant memory, row by row), with the summary sheet."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shouhu.core.models import Region, User
from shouhu.ledger.columns import COLUMNS
from shouhu.ledger.exporter.base import FORMULA_STARTS, ExportError, neutralise
from shouhu.ledger.exporter.rows import export_rows, platform_extra, platform_headers
from shouhu.ledger.exporter.summary import breakdowns, check_summary, summary_table
from shouhu.registry.models import Child


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
        w.writerow(platform_headers())
    n = 0
    for n, row in enumerate(export_rows(user, qs), 1):
        cells = row.cells
        if layout == "official":
            w.writerow([n, *map(_cell_text, cells)])
        else:
            a, b = platform_extra(row)
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
        headers = platform_headers()
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
    for n, row in enumerate(export_rows(user, qs), 1):
        if layout == "official":
            stream.row(r, [n], row.cells, [])
        else:
            pk_cells, extra = platform_extra(row)
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
        text = "'" + v if v.startswith(FORMULA_STARTS) else v
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
