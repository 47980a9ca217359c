"""The ledger's columns: one catalogue for reading (header text and its synonyms) and for writing (the
official MCA 2016 layout, 附件1, and Shouhu's own layout), so an export always imports again.

A column has a key (the input field it fills), the official header under its group (儿童基本情况,
父亲, 母亲, 祖父 …, 监护情况, …) and synonyms seen in county workbooks. Columns of a family member
(R1.1 grandparents, R1.2 parents, R1.3 the carer and the entrusted guardian) have the member's key as a
key prefix (`father_phone`, `maternal_grandmother_name`, `carer_relationship`). Where the member is the
group (父亲, 祖父 …) the flattened header carries it as a prefix ("父亲" + "姓名" → "父亲姓名"), which is
also the header of Shouhu's own layout; under 监护情况 the leaf header names the member itself
(实际照料人姓名, 受委托监护人联系电话).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the official leaf header (姓名 under 父亲; 实际照料人姓名 under 监护情况)
    group: str  # the official upper header ("" = spans both header rows)
    synonyms: tuple[str, ...] = ()
    kind: str = "text"  # text | date | bool | sex | ethnicity | choice:<field> | multi:<list> | code:<list> | id | phone | village | school
    width: int = 10
    required: bool = False

    member: str | None = field(init=False, default=None)  # the family member, None for the child's own
    parent: str | None = field(init=False, default=None)  # "father" / "mother" for parent columns
    field: str = field(init=False, default="")  # the key without the member prefix

    def __post_init__(self) -> None:
        member = next((m for m in MEMBER_PREFIX if self.key.startswith(m + "_")), None)
        object.__setattr__(self, "member", member)
        object.__setattr__(self, "parent", member if member in PARENT_PREFIX else None)
        object.__setattr__(self, "field", self.key[len(member) + 1 :] if member else self.key)

    @property
    def label(self) -> str:
        """The header as one string (Shouhu's own layout, error reports): 父亲姓名, 祖父姓名, 公民身份号码,
        实际照料人姓名 (the member's name is added only where the official layout says it in the group)."""
        if self.member and self.group == MEMBER_PREFIX[self.member]:
            return MEMBER_PREFIX[self.member] + self.header
        return self.header

    @property
    def base_header(self) -> str:
        """The header without the member's name (姓名 for 实际照料人姓名): what synonyms are prefixed to."""
        return self.header.removeprefix(MEMBER_PREFIX[self.member]) if self.member else self.header


PARENT_PREFIX = {"father": "父亲", "mother": "母亲"}
# R1.1: the four grandparents, as Grandparent (side, relation) and as the 2016 form names them.
GRANDPARENTS = {
    "paternal_grandfather": ("paternal", "grandfather"),
    "paternal_grandmother": ("paternal", "grandmother"),
    "maternal_grandfather": ("maternal", "grandfather"),
    "maternal_grandmother": ("maternal", "grandmother"),
}
GRANDPARENT_PREFIX = {
    "paternal_grandfather": "祖父",
    "paternal_grandmother": "祖母",
    "maternal_grandfather": "外祖父",
    "maternal_grandmother": "外祖母",
}
# R1.3: the carer (实际照料人) and the entrusted guardian (受委托监护人), Guardian.role.
GUARDIAN_PREFIX = {"carer": "实际照料人", "entrusted": "受委托监护人"}
MEMBER_PREFIX = {**PARENT_PREFIX, **GRANDPARENT_PREFIX, **GUARDIAN_PREFIX}
# How county ledgers name each member in a header, official name first. Single characters (父亲 → 父)
# are prefixes of flattened headers only (父姓名), never read as a group: 祖父 and 父母 contain them.
MEMBER_ALIASES: dict[str, tuple[str, ...]] = {
    "father": ("父亲", "父"),
    "mother": ("母亲", "母"),
    "paternal_grandfather": ("祖父", "爷爷"),
    "paternal_grandmother": ("祖母", "奶奶"),
    "maternal_grandfather": ("外祖父", "外公", "姥爷"),
    "maternal_grandmother": ("外祖母", "外婆", "姥姥"),
    "carer": ("实际照料人", "照料人", "实际监护人"),
    "entrusted": ("受委托监护人", "委托监护人", "被委托监护人", "监护人"),
}

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
    Column(
        "school",
        "就读学校",
        G_CHILD,
        (
            "学校名称",
            "就读学校名称",
            "所在学校",
            "就读学校（幼儿园）",
            "就读学校或幼儿园",
            "在读学校",
            "学校",
        ),
        "school",
        16,
    ),
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


def _grandparent(member: str) -> list[Column]:
    """R1.1: name, birth date or deceased, grouped under the grandparent as the 2016 form has them."""
    g = GRANDPARENT_PREFIX[member]
    return [
        Column(f"{member}_name", "姓名", g, (), width=8),
        Column(f"{member}_birth_date", "出生日期", g, ("出生年月日",), "date", 11),
        Column(f"{member}_deceased", "是否去世", g, ("是否死亡", "已故", "是否已故"), "bool", 6),
    ]


def _guardian(role: str) -> list[Column]:
    """R1.3: the carer or the entrusted guardian under 监护情况; the leaf header names the person."""
    p = GUARDIAN_PREFIX[role]
    return [
        Column(f"{role}_name", p + "姓名", G_CARE, (), width=8),
        Column(
            f"{role}_relationship", p + "与儿童关系", G_CARE, ("关系", "与儿童的关系"), "code:relationship", 8
        ),
        Column(
            f"{role}_phone", p + "联系电话", G_CARE, ("电话", "手机号码", "手机", "联系方式"), "phone", 13
        ),
        Column(
            f"{role}_id_number", p + "公民身份号码", G_CARE, ("身份证号码", "身份证号", "身份证"), "id", 20
        ),
        Column(f"{role}_address", p + "住址", G_CARE, ("现住址", "家庭住址", "居住地址", "地址"), width=16),
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
    *_guardian("carer"),
    *_guardian("entrusted"),
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

COLUMNS: list[Column] = [
    *_CHILD,
    *_parent("father"),
    *_parent("mother"),
    *(c for member in GRANDPARENT_PREFIX for c in _grandparent(member)),
    *_CARE,
    *_TAIL,
]
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
        names = (c.base_header, *c.synonyms)
        if c.member:
            for n in names:
                for p in MEMBER_ALIASES[c.member]:
                    out.setdefault(norm_header(p + n), c.key)
        else:
            for n in names:
                out.setdefault(norm_header(n), c.key)
    return out


# Member names as a group header may say them (祖父, 受委托监护人 …), longest first: 外祖父 contains 祖父.
_GROUP_ALIASES = sorted(
    ((norm_header(a), m) for m, aliases in MEMBER_ALIASES.items() for a in aliases if len(a) > 1),
    key=lambda am: -len(am[0]),
)


_COUPLES = ("父母", "祖辈")  # 父母, 祖父母, 外祖父母, 祖辈


def names_family(group: str) -> bool:
    """True when an upper header names family members (父亲, 祖父母, 受委托监护人 …): a leaf under it
    (姓名, 联系电话) is theirs, never the child's."""
    g = norm_header(group)
    return any(c in g for c in _COUPLES) or any(alias in g for alias, _m in _GROUP_ALIASES)


def member_of_group(group: str) -> str | None:
    """The family member an upper header names (父亲, 外祖母, 受委托监护人情况 …), or None when it names
    none or a couple (父母, 祖父母, 外祖父母, 祖辈: a leaf 姓名 under it could be either)."""
    g = norm_header(group)
    if any(c in g for c in _COUPLES):
        return None
    found: set[str] = set()
    length = 0
    for alias, member in _GROUP_ALIASES:
        if len(alias) < length:
            break
        if alias in g:
            found.add(member)
            length = len(alias)
    return found.pop() if len(found) == 1 else None


LOOKUP = _build_lookup()
SKIPPED = {norm_header(h) for h in KNOWN_SKIPPED}

TITLE = _("农村留守儿童信息台账")
