"""Test workbooks in the official MCA layout (title, 填报单位, two-level merged headers, footer) and flat."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import xlsxwriter

from shouhu.core.identity import compose_id_number
from shouhu.ledger.columns import COLUMNS, Column

VILLAGE_NAME_COL = "village"


def id_for(birth: date, male: bool = True, *, x: bool = False, start: int = 0) -> str:
    for seq in range(start, 1000):
        if (seq % 2 == 1) != male:
            continue
        n = compose_id_number("500229", birth, seq)
        if not x or n.endswith("X"):
            return n
    raise AssertionError("no such number")


def base_row(**over: Any) -> dict[str, Any]:
    birth = over.pop("birth", date(2015, 6, 1))
    row: dict[str, Any] = {
        "name": "王小明",
        "sex": "男",
        "ethnicity": "汉族",
        "birth_date": birth,
        "id_number": id_for(birth),
        "hukou_registered": "是",
        "hukou_rural": "是",
        "address": "巴山镇一组",
        "village": "500229102201",
        "health": "健康",
        "schooling": "小学",
        "boarding": "否",
        "father_name": "王大山",
        "father_phone": "13800138000",
        "father_away_for_work": "是",
        "father_away_since": "2020.3",
        "father_work_province": "广东省",
        "father_work_city": "东莞",
        "father_guardianship_capacity": "有",
        "mother_name": "李小红",
        "mother_away_for_work": "是",
        "mother_away_since": date(2021, 2, 1),
        "mother_work_province": "44",
        "mother_guardianship_capacity": "有",
        "care_arrangement": "祖辈照料",
        "guardianship_rating": "一般",
        "income_sources": "务工收入",
        "village_contact_name": "赵主任",
    }
    row.update(over)
    return row


def _put(ws: Any, r: int, c: int, v: Any, fmt: Any) -> None:
    if v is None:
        return
    if isinstance(v, bool):
        ws.write_boolean(r, c, v)
    elif isinstance(v, (int, float)):
        ws.write_number(r, c, v)
    elif isinstance(v, date):
        ws.write_datetime(r, c, v, fmt)
    else:
        ws.write_string(r, c, v)


def official(
    rows: list[dict[str, Any]],
    *,
    columns: list[Column] | None = None,
    extra: bool = True,
    blank_every: int = 3,
    footer: bool = True,
) -> tuple[bytes, int]:
    """The workbook and the Excel row number of the first data row."""
    cols = columns or COLUMNS
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("台账")
    datefmt = wb.add_format({"num_format": "yyyy/m/d"})
    ws.merge_range(0, 0, 0, len(cols) + 1, "附件1  农村留守儿童基本情况登记表")
    ws.write_string(1, 0, "填报单位（盖章）：城口县巴山镇人民政府          填报时间：2026年11月")
    ws.merge_range(2, 0, 3, 0, "序号")
    j = 1
    groups: list[tuple[str, int, int]] = []
    for c in cols:
        if groups and c.group and groups[-1][0] == c.group:
            groups[-1] = (c.group, groups[-1][1], j)
        else:
            groups.append((c.group, j, j))
        j += 1
    for g, a, b in groups:
        if not g:
            ws.merge_range(2, a, 3, a, cols[a - 1].header)
        elif a == b:
            ws.write_string(2, a, g)
        else:
            ws.merge_range(2, a, 2, b, g)
    for j, c in enumerate(cols, 1):
        if c.group:
            # Header cells with line breaks and a required mark, as county forms have them.
            ws.write_string(3, j, ("*" if c.required else "") + c.header.replace("日期", "\n日期"))
    if extra:
        ws.merge_range(2, len(cols) + 1, 3, len(cols) + 1, "包村干部")
    r = 4
    first = r + 1
    for n, row in enumerate(rows, 1):
        ws.write_number(r, 0, n)
        for j, c in enumerate(cols, 1):
            _put(ws, r, j, row.get(c.key), datefmt)
        if extra:
            ws.write_string(r, len(cols) + 1, "刘干部")
        r += 1
        if blank_every and n % blank_every == 0:
            r += 1  # a blank line
    if footer:
        ws.write_string(r + 1, 0, "单位负责人：张三        复核人：李四        填表人：王五")
    wb.close()
    return buf.getvalue(), first
