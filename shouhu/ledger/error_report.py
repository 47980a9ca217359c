"""The import's error report (R1.9): the original rows as read, with a column of reasons per row."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from shouhu.ledger.reader import read_ledger

if TYPE_CHECKING:
    from shouhu.ledger.importer import ImportResult


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
