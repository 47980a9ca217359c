"""The ledger's columns: one catalogue for reading (header text and its synonyms) and for writing (the
official MCA 2016 layout, 附件1, and Shouhu's own layout), so an export always imports again.

A column has a key (the input field it fills), the official header under its group (儿童基本情况,
父亲, 母亲, 监护情况, …) and synonyms seen in county workbooks. Parent columns carry the parent as a
prefix once flattened ("父亲" + "姓名" → "父亲姓名"), which is also the header of Shouhu's own layout.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the official leaf header (without the parent prefix)
    group: str  # the official upper header ("" = spans both header rows)
    synonyms: tuple[str, ...] = ()
    kind: str = "text"  # text | date | bool | sex | ethnicity | choice:<field> | multi:<list> | code:<list> | id | phone | village
    width: int = 10
    required: bool = False

    parent: str | None = field(init=False, default=None)  # "father" / "mother" for parent columns
    field: str = field(init=False, default="")  # the key without the parent prefix

    def __post_init__(self) -> None:
        parent = self.key.split("_", 1)[0] if self.key.startswith(("father_", "mother_")) else None
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "field", self.key.split("_", 1)[1] if parent else self.key)

    @property
    def label(self) -> str:
        """The header as one string (Shouhu's own layout, error reports): 父亲姓名, 公民身份号码."""
        return (PARENT_PREFIX[self.parent] + self.header) if self.parent else self.header


PARENT_PREFIX = {"father": "父亲", "mother": "母亲"}

G_CHILD = "儿童基本情况"
G_CARE = "监护情况"
_CHILD = [
    Column("name", "姓名", G_CHILD, ("儿童姓名", "学生姓名", "留守儿童姓名"), width=10, required=True),
    Column("sex", "性别", G_CHILD, ("儿童性别",), "sex", 5, True),
    Column("ethnicity", "民族", G_CHILD, ("儿童民族",), "ethnicity", 7),
    Column(
        "birth_date", "出生日期", G_CHILD, ("出生年月日", "出生年月", "生日", "出生时间"), "date", 11, True
    ),
    Column(
        "id_number",
        "公民身份号码",
        G_CHILD,
        ("身份证号码", "身份证号", "身份证", "儿童身份证号码", "公民身份证号码", "证件号码"),
        "id",
        20,
    ),
    Column(
        "hukou_registered", "是否登记户口", G_CHILD, ("是否已登记户口", "是否落户", "户口登记"), "bool", 7
    ),
    Column("hukou_rural", "是否农村户籍", G_CHILD, ("农村户籍", "农业户口", "是否农业户口"), "bool", 7),
    Column("hukou_place", "户籍地", G_CHILD, ("户籍所在地", "户口所在地"), width=16),
    Column(
        "address", "现居住地址", G_CHILD, ("现住址", "家庭住址", "居住地址", "现居住地", "住址"), width=20
    ),
    Column(
        "village",
        "所在村（居）",
        G_CHILD,
        (
            "所在村",
            "村（居）委会",
            "村居委会",
            "所属村",
            "村（社区）",
            "村社区",
            "村名",
            "村（居）",
            "区划代码",
        ),
        "village",
        16,
    ),
    Column("health", "健康状况", G_CHILD, ("健康情况", "身体状况"), "choice:health", 7),
    Column("disability_type", "残疾类别", G_CHILD, ("残疾类型",), "code:disability_type", 8),
    Column("disability_grade", "残疾等级", G_CHILD, ("残疾级别",), "code:disability_grade", 7),
    Column("illness", "疾病名称", G_CHILD, ("患病名称", "所患疾病", "病种"), width=10),
    Column(
        "schooling", "就学情况", G_CHILD, ("就学状况", "在校情况", "就读情况", "学段"), "choice:schooling", 8
    ),
    Column("boarding", "是否寄宿", G_CHILD, ("寄宿", "是否住校", "住校"), "bool", 6),
]


def _parent(rel: str) -> list[Column]:
    g = PARENT_PREFIX[rel]
    return [
        Column(f"{rel}_name", "姓名", g, (), width=8),
        Column(f"{rel}_birth_date", "出生日期", g, ("出生年月",), "date", 11),
        Column(f"{rel}_id_number", "公民身份号码", g, ("身份证号码", "身份证号", "身份证"), "id", 20),
        Column(
            f"{rel}_phone", "联系电话", g, ("电话", "手机号码", "手机", "联系方式", "电话号码"), "phone", 13
        ),
        Column(f"{rel}_away_for_work", "是否外出务工", g, ("外出务工", "是否外出"), "bool", 6),
        Column(f"{rel}_away_since", "外出时间", g, ("外出务工时间", "外出年月"), "date", 11),
        Column(
            f"{rel}_work_province",
            "务工省份",
            g,
            ("务工地省份", "务工省", "外出务工省份"),
            "code:province",
            8,
        ),
        Column(
            f"{rel}_work_city", "务工市（县）", g, ("务工地市", "务工城市", "务工地点", "务工地"), width=10
        ),
        Column(f"{rel}_guardianship_capacity", "有无监护能力", g, ("是否有监护能力", "监护能力"), "bool", 6),
        Column(
            f"{rel}_incapacity_reason",
            "无监护能力原因",
            g,
            ("丧失监护能力原因",),
            "code:incapacity_reason",
            10,
        ),
        Column(f"{rel}_deceased", "是否去世", g, ("是否死亡", "已故", "是否健在（否为去世）"), "bool", 6),
    ]


_CARE = [
    Column(
        "care_arrangement",
        "实际照料方式",
        G_CARE,
        ("照料方式", "监护方式", "实际监护方式", "照料情况"),
        "choice:care_arrangement",
        12,
    ),
    Column(
        "guardianship_rating",
        "监护情况评估",
        G_CARE,
        ("监护评估", "监护状况", "监护情况"),
        "choice:guardianship_rating",
        8,
    ),
]
_TAIL = [
    Column(
        "income_sources",
        "家庭经济来源",
        "",
        ("经济来源", "家庭收入来源", "收入来源"),
        "multi:income_source",
        12,
    ),
    Column(
        "assistance",
        "救助帮扶情况",
        "",
        ("享受救助帮扶情况", "救助情况", "享受救助情况", "帮扶情况"),
        "multi:assistance",
        12,
    ),
    Column("distress_categories", "困境儿童类别", "", ("困境类别",), "multi:distress_category", 10),
    Column(
        "village_contact_name",
        "村（居）委会联系人",
        "",
        ("村委会联系人", "村联系人", "联系人"),
        width=10,
    ),
    Column(
        "village_contact_phone",
        "村（居）委会联系电话",
        "",
        ("村委会联系电话", "村联系电话", "联系人电话"),
        "phone",
        13,
    ),
    Column("notes", "备注", "", ("说明",), width=12),
]

COLUMNS: list[Column] = [*_CHILD, *_parent("father"), *_parent("mother"), *_CARE, *_TAIL]
BY_KEY = {c.key: c for c in COLUMNS}

# Headers that Shouhu writes or that ledgers carry but that are not imported: derived or positional.
# They are recognised (not reported as unknown) and skipped.
KNOWN_SKIPPED = (
    "序号",
    "编号",
    "档案编号",
    "所属乡镇",
    "乡镇（街道）",
    "乡镇",
    "留守类型",
    "是否重点对象",
    "重点对象",
    "留守状态",
    "错误原因",
)

_PUNCT = str.maketrans({"(": "（", ")": "）", "*": None, "＊": None, ":": None, "：": None})
_WS = re.compile(r"\s+")


def norm_header(text: object) -> str:
    """Header text compared loosely: NFKC (full-width), no spaces or line breaks, Chinese brackets,
    without required marks (*) or a trailing colon."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = _WS.sub("", s).replace("(", "（").replace(")", "）")
    return s.translate(_PUNCT)


def _build_lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for c in COLUMNS:
        names = (c.header, *c.synonyms)
        if c.parent:
            prefixes = (PARENT_PREFIX[c.parent], "父" if c.parent == "father" else "母")
            for n in names:
                for p in prefixes:
                    out.setdefault(norm_header(p + n), c.key)
        else:
            for n in names:
                out.setdefault(norm_header(n), c.key)
    return out


LOOKUP = _build_lookup()
SKIPPED = {norm_header(h) for h in KNOWN_SKIPPED}

TITLE = _("农村留守儿童信息台账")
