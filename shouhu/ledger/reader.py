"""Read a ledger workbook (xlsx, xls, csv) into rows keyed by column, whatever the layout (R1.9).

What it copes with: title rows, a 填报单位 row, two-level merged headers (儿童基本情况 / 父亲 / 母亲 /
祖父 … / 监护情况 …; calamine gives a merged cell's value in its first cell only, so the upper row is carried
to the right), blank lines, the signature line at the foot (单位负责人 / 复核人 / 填表人), any column
order, extra columns (ignored and reported). CSV in UTF-8 (with or without BOM), GBK or GB18030.

What it refuses, with a message that says what to do (`UnusableFile`, exit status 2 of import_ledger):
an empty file, no header found, a password-protected workbook, a corrupt or truncated one, more rows
than the policy limit, a file whose content is not a spreadsheet whatever its name says, and a file
built to exhaust the server (a zip bomb, a sheet declared or found far larger than a ledger: issue 10
part 5), which is checked before parsing and parsed in a child process with limits (sandbox.py).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils.translation import gettext as _

from shouhu.core.policy import param
from shouhu.ledger import sandbox
from shouhu.ledger.columns import (
    BY_KEY,
    G_CARE,
    GUARDIAN_PREFIX,
    LOOKUP,
    MEMBER_ALIASES,
    MEMBER_PREFIX,
    SKIPPED,
    member_of_group,
    names_family,
    norm_header,
)

logger = logging.getLogger(__name__)
HEADER_SCAN_ROWS = 30
FOOTER_MARKERS = ("单位负责人", "复核人", "填表人", "审核人", "填报人", "制表人")
GROUP_WORDS = (
    "儿童基本情况",
    "基本情况",
    "父亲",
    "母亲",
    "父母",
    "祖父",
    "祖母",
    "监护情况",
    "监护人",
    "照料人",
    "家庭经济来源",
    "救助帮扶",
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class UnusableFile(Exception):
    """The file cannot be used at all; `message` is shown to the user as it is."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Sheet:
    """A ledger read from a file: where each known column is, the data rows and what was ignored."""

    columns: dict[str, int]  # key → 0-based column index
    headers: dict[int, str]  # column index → header text as shown (group/leaf)
    rows: list[tuple[int, list[Any]]]  # (row number Excel shows, cells)
    header_rows: list[list[Any]] = field(default_factory=list)  # the rows above the data, as read
    ignored: list[str] = field(default_factory=list)  # unknown headers, reported
    width: int = 0
    kind: str = "xlsx"

    @cached_property
    def member_columns(self) -> dict[str | None, list[str]]:
        """The sheet's column keys by family member (None: the child's own columns), worked out once:
        the import groups each of 100,000 rows by them."""
        out: dict[str | None, list[str]] = {}
        for key in self.columns:
            out.setdefault(BY_KEY[key].member, []).append(key)
        return out

    def header_of(self, key: str) -> str:
        """The column's name in reports: its label (父亲公民身份号码), whatever the file's header text."""
        return str(BY_KEY[key].label) if key in BY_KEY else key


def sniff(data: bytes, filename: str) -> str:
    """The real type of the file by its content: xlsx, xls or csv; refuse anything else."""
    name = filename.lower()
    if not data or not data.strip():
        raise UnusableFile("empty", _("文件是空的，没有任何内容。请确认上传的是填好的台账。"))
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptionInfo" in data:
            raise _password()
        return "xls"
    if data.startswith(ZIP_MAGIC):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError, EOFError):
            raise _corrupt() from None
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("word/") for n in names):
            raise UnusableFile(
                "wrong_type", _("这是一个 Word 文档，不是 Excel 台账。请上传 .xlsx、.xls 或 .csv 文件。")
            )
        raise UnusableFile(
            "wrong_type",
            _("该文件不是 Excel 工作簿（扩展名与内容不符）。请用 Excel 或 WPS 另存为 .xlsx 后再上传。"),
        )
    if data[:5] == b"%PDF-":
        raise UnusableFile(
            "wrong_type", _("这是一个 PDF 文件，不是 Excel 台账。请上传 .xlsx、.xls 或 .csv 文件。")
        )
    if data[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"GIF8"):
        raise UnusableFile(
            "wrong_type", _("这是一张图片，不是 Excel 台账。请上传 .xlsx、.xls 或 .csv 文件。")
        )
    if name.endswith((".csv", ".txt")) and b"\x00" not in data[:4096]:
        return "csv"
    raise UnusableFile(
        "wrong_type",
        _(
            "文件“%(name)s”的内容不是 Excel 工作簿（扩展名与内容不符），可能已损坏或被改了扩展名。请用 Excel 或 WPS 另存为 .xlsx 后再上传。"
        )
        % {"name": filename},
    )


def _password() -> UnusableFile:
    return UnusableFile(
        "password",
        _(
            "工作簿设置了打开密码，无法读取。请在 Excel 或 WPS 中取消密码（文件→信息→保护工作簿）后另存再上传。"
        ),
    )


def _corrupt() -> UnusableFile:
    return UnusableFile(
        "corrupt", _("文件已损坏或不完整（可能下载或拷贝未完成），无法读取。请重新从原电脑另存一份后再上传。")
    )


def decode_csv(data: bytes) -> str:
    """UTF-8 (BOM or not) first; then GB18030, a superset of GBK that Chinese Excel writes."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise UnusableFile(
            "encoding", _("无法识别 CSV 文件的文字编码。请用 Excel 另存为“CSV UTF-8”或 .xlsx 后再上传。")
        ) from None


# --- hostile files (issue 10 part 5) -----------------------------------------------------------------
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?\""
)
MAX_ZIP_ENTRIES = 2000


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _too_large(detail: str) -> UnusableFile:
    return UnusableFile(
        "too_large",
        _(
            "文件无法使用：%(detail)s。这样的文件可能是损坏或被恶意构造的。请在 Excel 或 WPS 中删除多余的空白行列，另存为新的 .xlsx，或按乡镇、村拆分后再上传。"
        )
        % {"detail": detail},
    )


def inspect_zip(data: bytes, *, max_rows: int) -> None:
    """Refuse an xlsx whose zip directory or sheet dimensions promise more than a ledger can hold, before
    any parser sees it: the declared unpacked size, each member's compression ratio, the number of
    members, and each sheet's `<dimension ref>` (rows and columns; read from its first 64 KB). Sizes
    and dimensions can lie: the child process's limits (sandbox.py) catch what gets past."""
    max_bytes = int(param("ledger_unzipped_max_mb")) * 1024 * 1024
    max_ratio = int(param("ledger_zip_max_ratio"))
    max_cols = int(param("ledger_max_columns"))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise _corrupt() from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _too_large(_("压缩包内有 %(n)d 个部件") % {"n": len(infos)})
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise _too_large(
            _("解压后有 %(mb)d MB，超过上限 %(max)d MB") % {"mb": total >> 20, "max": max_bytes >> 20}
        )
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise _too_large(
                _("部件 %(name)s 的压缩比为 %(ratio)d 倍，超过上限 %(max)d 倍")
                % {
                    "name": info.filename,
                    "ratio": info.file_size // max(info.compress_size, 1),
                    "max": max_ratio,
                }
            )
    for info in infos:
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        try:
            with zf.open(info) as f:
                head = f.read(65536)
        except Exception:  # a damaged member: the parser will say so (or its limits will)
            continue
        m = _DIMENSION.search(head)
        if m is None:
            continue
        last_col, last_row = (m.group(3), m.group(4)) if m.group(3) else (m.group(1), m.group(2))
        rows, cols = int(last_row), _column_number(last_col)
        if rows > max_rows + HEADER_SCAN_ROWS + 1000 or cols > max_cols:
            raise _too_large(
                _(
                    "工作表的范围到 %(ref)s（%(rows)d 行 × %(cols)d 列），超过台账上限（%(max_rows)d 行、%(max_cols)d 列）"
                )
                % {
                    "ref": f"{last_col.decode()}{rows}",
                    "rows": rows,
                    "cols": cols,
                    "max_rows": max_rows,
                    "max_cols": max_cols,
                }
            )


def _unreadable() -> UnusableFile:
    return UnusableFile(
        "unreadable",
        _(
            "文件无法使用：读取时超出了内存或时间限制（文件可能含有大量空白行列，或已损坏）。请在 Excel 或 WPS 中另存为新的 .xlsx，或按乡镇、村拆分后再上传。"
        ),
    )


def read_cells(data: bytes, filename: str, *, max_rows: int | None = None) -> tuple[str, list[list[Any]]]:
    """All cells of the first non-empty sheet, as Python values (str, float, int, bool, date, datetime).

    Workbooks are checked (xlsx: `inspect_zip`) and then parsed in a limited child process (sandbox.py):
    a bomb is refused as unusable and never takes the server, a worker or the command down."""
    kind = sniff(data, filename)
    if kind == "csv":
        text = decode_csv(data)
        return kind, [list(r) for r in csv.reader(io.StringIO(text))]
    limit = int(max_rows if max_rows is not None else param("ledger_import_max_rows"))
    if kind == "xlsx":
        inspect_zip(data, max_rows=limit)
    outcome = sandbox.parse(
        data, memory_mb=int(param("ledger_parse_memory_mb")), seconds=int(param("ledger_parse_seconds"))
    )
    if outcome.status == "ok":
        return kind, outcome.rows
    if outcome.status == "password":
        raise _password()
    if outcome.status == "corrupt":
        raise _corrupt()
    logger.warning(
        "ledger file %r refused by the parser sandbox: %s %s", filename, outcome.status, outcome.detail
    )
    raise _unreadable()


def _blank(row: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def _match(leaf: str, group: str) -> str | None:
    """The column key for a header (leaf under its group), or None. Under a family member's group (父亲,
    外祖母, 受委托监护人 …) a leaf that does not name the member itself is that member's column."""
    leaf_n, group_n = norm_header(leaf), norm_header(group)
    if not leaf_n:
        return None
    member = member_of_group(group_n) if group_n else None
    if member is not None and not leaf_n.startswith(MEMBER_ALIASES[member]):
        return LOOKUP.get(norm_header(MEMBER_PREFIX[member]) + leaf_n)
    return LOOKUP.get(leaf_n) or (LOOKUP.get(group_n + leaf_n) if group_n else None)


def _header_candidate(rows: list[list[Any]], i: int) -> tuple[dict[str, int], dict[int, str], list[str]]:
    """Columns found if row i is the (lower) header row and row i-1 may be its upper row."""
    leaf = rows[i]
    upper = rows[i - 1] if i > 0 else []
    # The row above is a group row only if it names a group (儿童基本情况, 父亲 …) or a column itself;
    # a title or a 填报单位 line above a one-level header is not.
    if not any(
        isinstance(c, str) and (any(g in norm_header(c) for g in GROUP_WORDS) or norm_header(c) in LOOKUP)
        for c in upper
    ):
        upper = []
    cols: dict[str, int] = {}
    shown: dict[int, str] = {}
    ignored: list[str] = []
    carried = ""
    for j in range(max(len(leaf), len(upper))):
        up = upper[j] if j < len(upper) else None
        up_text = str(up).strip() if up not in (None, "") else ""
        lf = leaf[j] if j < len(leaf) else None
        lf_text = str(lf).strip() if lf not in (None, "") else ""
        if up_text:
            carried = up_text
        if not lf_text:
            # A header merged down over both rows (序号, 家庭经济来源): the upper row holds it.
            if up_text:
                lf_text, group = up_text, ""
            else:
                continue
        else:
            group = carried if up_text or carried else ""
            if up_text == lf_text:
                group = ""
        key = _match(lf_text, group)
        if key is None and group:
            key = _match(lf_text, "")
        # 父亲/姓名, 祖父母/姓名 must never land in the child's name; a guardian's group (监护人) may still
        # hold the child's own 监护情况 columns (实际照料方式, 监护情况评估).
        if (
            key is not None
            and group
            and BY_KEY[key].member is None
            and names_family(group)
            and not (member_of_group(group) in GUARDIAN_PREFIX and BY_KEY[key].group == G_CARE)
        ):
            key = None
        if key is not None and key not in cols:
            cols[key] = j
            shown[j] = (
                f"{group}/{lf_text}" if group and norm_header(group) != norm_header(lf_text) else lf_text
            )
        elif key is None and norm_header(lf_text) not in SKIPPED:
            ignored.append(f"{group}/{lf_text}" if group else lf_text)
    return cols, shown, ignored


def find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int], dict[int, str], list[str]]:
    """The header row: the one (in the first rows) under which the most known columns are found."""
    best: tuple[int, int, dict[str, int], dict[int, str], list[str]] | None = None
    for i in range(min(len(rows), HEADER_SCAN_ROWS)):
        if _blank(rows[i]):
            continue
        cols, shown, ignored = _header_candidate(rows, i)
        if "name" in cols and len(cols) >= 3 and (best is None or len(cols) > best[1]):
            best = (i, len(cols), cols, shown, ignored)
    if best is None:
        raise UnusableFile(
            "no_header",
            _(
                "没有找到台账的表头。前 %(n)d 行中应有一行含“姓名”“性别”“出生日期”等列名。请检查是否选错了工作表或删掉了表头。"
            )
            % {"n": HEADER_SCAN_ROWS},
        )
    i, _n, cols, shown, ignored = best
    return i, cols, shown, ignored


def _is_footer(row: list[Any]) -> bool:
    text = "".join(str(c) for c in row if isinstance(c, str))
    return any(m in text for m in FOOTER_MARKERS)


def read_ledger(data: bytes, filename: str, *, max_rows: int | None = None) -> Sheet:
    kind, rows = read_cells(data, filename, max_rows=max_rows)
    if not rows or all(_blank(r) for r in rows):
        raise UnusableFile("empty", _("文件中没有任何数据。请确认上传的是填好的台账。"))
    h, cols, shown, ignored = find_header(rows)
    for required in ("sex", "birth_date"):
        if required not in cols:
            raise UnusableFile(
                "no_header",
                _("表头中找不到“%(col)s”列。请使用官方台账样式或本平台导出的样式，并保留表头。")
                % {"col": BY_KEY[required].label},
            )
    limit = int(max_rows if max_rows is not None else param("ledger_import_max_rows"))
    name_col = cols["name"]
    data_rows: list[tuple[int, list[Any]]] = []
    for i in range(h + 1, len(rows)):
        row = rows[i]
        if _blank(row):
            continue
        if _is_footer(row):
            break
        # Rows that only carry a serial number or a note, not a child, are not data.
        if all(
            c in (None, "") or (isinstance(c, str) and not c.strip())
            for j, c in enumerate(row)
            if j in cols.values()
        ):
            continue
        if len(row) <= name_col:
            row = row + [""] * (name_col + 1 - len(row))
        data_rows.append((i + 1, row))
        if len(data_rows) > limit:
            raise UnusableFile(
                "too_many_rows",
                _("台账超过 %(limit)d 行，超出一次导入的上限。请按乡镇或村拆分成几个文件分别导入。")
                % {"limit": limit},
            )
    if not data_rows:
        raise UnusableFile("empty", _("找到了表头，但表头下面没有儿童数据行。"))
    width = max(len(r) for r in rows[: h + 1] + [r for _n, r in data_rows[:50]])
    return Sheet(
        columns=cols,
        headers=shown,
        rows=data_rows,
        header_rows=[list(r) for r in rows[: h + 1]],
        ignored=ignored,
        width=width,
        kind=kind,
    )
