"""Bad files are refused with a clear message and nothing written (issue 3 part 9)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from shouhu.core.models import PolicyParameter
from shouhu.ledger.importer import import_ledger
from shouhu.ledger.reader import UnusableFile
from shouhu.ledger.tests.helpers import base_row, official
from shouhu.registry.models import Child

pytestmark = pytest.mark.django_db


def refuse(users: dict[str, Any], data: bytes, name: str = "台账.xlsx") -> UnusableFile:
    before = Child.objects.count()
    with pytest.raises(UnusableFile) as exc:
        import_ledger(data, name, actor=users["sup"])
    assert Child.objects.count() == before
    return exc.value


def test_empty_file(users: dict[str, Any]) -> None:
    assert refuse(users, b"").code == "empty"
    assert refuse(users, b"\n\n", "a.csv").code == "empty"


def test_workbook_without_data_rows(users: dict[str, Any]) -> None:
    data, _ = official([], footer=True)
    e = refuse(users, data)
    assert e.code == "empty" and "没有儿童数据行" in e.message


def test_no_header_found(users: dict[str, Any]) -> None:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    for r in range(5):
        ws.write_row(r, 0, ["甲", "乙", "丙", r])
    wb.close()
    e = refuse(users, buf.getvalue())
    assert e.code == "no_header" and "表头" in e.message


def test_password_protected(users: dict[str, Any]) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain, _ = official([base_row()])
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt("secret", out)
    e = refuse(users, out.getvalue())
    assert e.code == "password" and "密码" in e.message


def test_corrupt_or_truncated(users: dict[str, Any]) -> None:
    data, _ = official([base_row()])
    e = refuse(users, data[: len(data) // 2])
    assert e.code == "corrupt" and "损坏" in e.message
    # A zip whose workbook part is garbage.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<x")
        z.writestr("xl/workbook.xml", "not xml")
    assert refuse(users, buf.getvalue()).code == "corrupt"


def test_more_rows_than_the_policy_limit(users: dict[str, Any]) -> None:
    PolicyParameter.objects.update_or_create(
        key="ledger_import_max_rows", defaults={"value": 3, "description": "t"}
    )
    data, _ = official([base_row(name=f"王{i}") for i in range(4)])
    e = refuse(users, data)
    assert e.code == "too_many_rows" and "3" in e.message


@pytest.mark.parametrize(
    ("content", "word"),
    [
        (b"%PDF-1.7 ...", "PDF"),
        (b"\x89PNG\r\n\x1a\n....", "图片"),
        ("姓名,性别\n张三,男\n".encode(), "扩展名"),
    ],
)
def test_wrong_type_behind_an_xlsx_name(users: dict[str, Any], content: bytes, word: str) -> None:
    e = refuse(users, content)
    assert e.code == "wrong_type" and word in e.message


def test_word_document_named_xlsx(users: dict[str, Any]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    e = refuse(users, buf.getvalue())
    assert e.code == "wrong_type" and "Word" in e.message


def test_header_without_birth_date(users: dict[str, Any]) -> None:
    e = refuse(users, "姓名,性别,民族\n张三,男,汉族\n".encode(), "a.csv")
    assert e.code == "no_header" and "出生日期" in e.message
