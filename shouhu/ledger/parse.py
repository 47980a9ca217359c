"""Cell values as Chinese spreadsheets really hold them (R1.9, issue 3 part 2): pure functions that turn
a cell into the value the child's file expects, or raise `ParseError` with a reason in Chinese.

Dates: Excel serials, real date cells, 2010.5.3, 2010-5-3, 2010/5/3, 2010年5月3日, 20100503 (and a
month alone, 2020.3 or 2020年3月, for dates such as 外出时间 that ledgers keep to the month).
Full-width digits, letters and spaces (NFKC). Yes/no as 是/否, √/×, 有/无, Y/N, 1/0. Sex as 男/女 or
the GB/T 2261.1 codes. Ethnicity by name (汉族, 汉) or GB/T 3304 code (1, 01). Choices by their Chinese
label or code. Several codes in one cell separated by 、，,;；/ or spaces.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import override

from shouhu.core import codes
from shouhu.registry.models import CareArrangement, Health, Rating, Schooling

EXCEL_EPOCH = dt.date(1899, 12, 30)  # the 1900 date system, including Lotus' phantom 29 Feb 1900
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_DATE_SEP = re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*(?:[.\-/月]\s*(\d{1,2})\s*日?)?\s*月?$")
_SPLIT = re.compile(r"[、，,;；/|\s]+")
_FORMULA_PREFIX = re.compile(r"^'(?=[=+\-@])")


class ParseError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def text(value: Any) -> str:
    """A cell as clean text: NFKC (full-width → ASCII), invisible characters and outer space removed;
    an integral number as its digits (Excel turns 3 into 3.0); a neutralised formula prefix (') undone."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    s = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE).strip()
    return _FORMULA_PREFIX.sub("", s)


def is_blank(value: Any) -> bool:
    return text(value) == ""


def _date(y: int, m: int, d: int, raw: Any) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise ParseError(_("“%(v)s”不是存在的日期，请核对年、月、日。") % {"v": raw}) from None


def parse_date(value: Any, *, month_ok: bool = False) -> dt.date | None:
    """A date cell in any of the forms county ledgers use; None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        n = float(value)
        if n.is_integer() and 19000101 <= n <= 21001231:  # 20100503 typed as a number
            return parse_date(str(int(n)))
        if 1 <= n < 80000:  # an Excel serial (up to year 2118)
            return EXCEL_EPOCH + dt.timedelta(days=int(n))
        raise ParseError(_("“%(v)s”不是日期。请填写如 2010-05-03 的日期。") % {"v": value})
    s = text(value).replace(" ", "")
    if re.fullmatch(r"\d{8}", s):
        return _date(int(s[:4]), int(s[4:6]), int(s[6:]), value)
    if re.fullmatch(r"\d{4,5}(\.0+)?", s):  # a serial that came through as text (csv)
        return parse_date(float(s))
    m = _DATE_SEP.match(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), m.group(3)
        if d is None:
            if not month_ok:
                raise ParseError(_("“%(v)s”缺少日，请填写完整的出生日期，如 2010-05-03。") % {"v": value})
            return _date(y, mo, 1, value)
        return _date(y, mo, int(d), value)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T.*", s)
    if m:
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)), value)
    raise ParseError(
        _("“%(v)s”不是可识别的日期。请填写如 2010-05-03、2010.5.3 或 2010年5月3日。") % {"v": value}
    )


_TRUE = {"是", "√", "✓", "✔", "有", "y", "yes", "true", "1", "对", "已", "是的"}
_FALSE = {"否", "×", "✗", "✘", "x", "无", "n", "no", "false", "0", "没有", "未", "不"}


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    s = text(value).lower()
    if s == "":
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ParseError(_("“%(v)s”应填“是”或“否”（也可用 √、有/无）。") % {"v": value})


def parse_sex(value: Any) -> str | None:
    s = text(value).upper()
    if s == "":
        return None
    if s in ("男", "1", "男性", "M", "MALE"):
        return "1"
    if s in ("女", "2", "女性", "F", "FEMALE"):
        return "2"
    raise ParseError(_("性别“%(v)s”无法识别，请填“男”或“女”。") % {"v": value})


# Everyday words that ledgers write for a code (R1.3: 与儿童关系 of the carer and the entrusted guardian,
# GB/T 4761). A couple (祖父母, 外祖父母) has no code of its own: GB/T 4761 files it under 69.
_EXTRA_CODES: dict[str, dict[str, str]] = {
    "relationship": {
        "爸爸": "51",
        "妈妈": "52",
        "爷爷": "61",
        "奶奶": "62",
        "外公": "63",
        "姥爷": "63",
        "外婆": "64",
        "姥姥": "64",
        "祖父母": "69",
        "外祖父母": "69",
        "哥哥": "71",
        "姐": "75",
        "弟弟": "73",
        "妹": "77",
        "伯伯": "81",
        "叔叔": "83",
        "婶婶": "84",
        "舅舅": "85",
        "舅妈": "86",
        "姨妈": "88",
        "姑妈": "90",
        "姑姑": "90",
        "亲戚": "97",
    },
}


@lru_cache(maxsize=64)
def _names(list_name: str) -> dict[str, str]:
    """Chinese names (and the names without their suffix) → code, for a code list."""
    out: dict[str, str] = {}
    with override("zh-hans"):
        entries = codes.choices(list_name)
    for code, name in entries:
        n = unicodedata.normalize("NFKC", name)
        out[n] = code
        for suffix in ("族", "省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区"):
            if n.endswith(suffix) and len(n) > len(suffix):
                out.setdefault(n[: -len(suffix)], code)
    for word, code in _EXTRA_CODES.get(list_name, {}).items():
        out.setdefault(word, code)
    return out


def clear_caches() -> None:
    _names.cache_clear()


def parse_code(list_name: str, value: Any) -> str:
    """A code of `list_name` given by its code or its Chinese name; "" when blank."""
    s = text(value)
    if s == "":
        return ""
    names = _names(list_name)
    if s in names:
        return names[s]
    if codes.is_valid(list_name, s):
        return s
    if s.isdigit() and codes.is_valid(list_name, s.zfill(2)):
        return s.zfill(2)
    if list_name == "ethnicity":
        raise ParseError(
            _("民族“%(v)s”无法识别，请填写民族名称（如汉族、土家族）或两位代码（如01）。") % {"v": value}
        )
    if list_name == "province":
        raise ParseError(
            _("务工省份“%(v)s”无法识别，请填写省份名称（如广东省）或两位代码（如44）。") % {"v": value}
        )
    if list_name == "relationship":
        raise ParseError(
            _(
                "与儿童关系“%(v)s”无法识别，请填写关系名称（如祖父、外祖母、伯父）或 GB/T 4761 两位代码（如61）。"
            )
            % {"v": value}
        )
    raise ParseError(
        _("“%(v)s”不在代码表中，可填写：%(names)s。") % {"v": value, "names": "、".join(list(names)[:12])}
    )


def parse_multi(list_name: str, value: Any) -> list[str]:
    s = text(value)
    if s in ("", "无", "没有", "/"):
        return []
    return list(dict.fromkeys(parse_code(list_name, part) for part in _SPLIT.split(s) if part))


_CHOICES: dict[str, Any] = {
    "health": Health,
    "schooling": Schooling,
    "care_arrangement": CareArrangement,
    "guardianship_rating": Rating,
}
_EXTRA_LABELS: dict[str, dict[str, str]] = {
    "health": {
        "良好": "healthy",
        "正常": "healthy",
        "健康": "healthy",
        "残疾": "disabled",
        "患病": "ill",
        "疾病": "ill",
        "有病": "ill",
        "重病": "ill",
    },
    "schooling": {
        "学前": "kindergarten",
        "学龄前": "not_in_kindergarten",
        "在读小学": "primary",
        "在读初中": "junior",
        "普通高中": "senior",
        "中专": "vocational",
        "职高": "vocational",
        "中职（中专、职高）": "vocational",
        "失学": "dropped_out",
        "辍学": "dropped_out",
        "未上学": "not_in_school",
    },
    "care_arrangement": {
        "祖辈": "grandparents",
        "祖父母": "grandparents",
        "（外）祖父母": "grandparents",
        "祖父母照料": "grandparents",
        "隔代照料": "grandparents",
        "亲友": "relatives_friends",
        "亲戚": "relatives_friends",
        "亲戚朋友": "relatives_friends",
        "父或母无监护能力": "incapable_parent",
        "无人照料": "unattended",
        "无人监护": "unattended",
        "单独居住": "unattended",
        "父母一方": "parent",
        "父亲": "parent",
        "母亲": "parent",
    },
    "guardianship_rating": {
        "好": "good",
        "较好": "good",
        "良好": "good",
        "一般": "adequate",
        "中": "adequate",
        "差": "poor",
        "较差": "poor",
    },
}


@lru_cache(maxsize=16)
def _choice_map(field: str) -> dict[str, str]:
    """Code and Chinese label → code (enum .values/.choices are recomputed on every access: cache)."""
    enum = _CHOICES[field]
    with override("zh-hans"):
        out = {str(label): str(v) for v, label in enum.choices}
    out.update(_EXTRA_LABELS.get(field, {}))
    out.update({str(v): str(v) for v in enum.values})
    return out


def parse_choice(field: str, value: Any) -> str:
    s = text(value)
    if s == "":
        return ""
    hit = _choice_map(field).get(s)
    if hit:
        return hit
    enum = _CHOICES[field]
    allowed = "、".join(str(label) for _v, label in enum.choices)
    raise ParseError(_("“%(v)s”无法识别，请填写以下之一：%(allowed)s。") % {"v": value, "allowed": allowed})


def parse_id(value: Any) -> Any:
    """ID numbers go to validate_id_number as they are: a number cell stays a float so that the
    validator says Excel lost its last digits and how to fix it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return text(value)


def parse_phone(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return text(value)


def parse_name(value: Any) -> str:
    """Names keep their inner characters; stray spaces and line breaks go in validation.clean_name."""
    return text(value)
