"""Citizen ID numbers (GB 11643-1999) and phone numbers: normalise, validate, mask.

Why this module exists: village staff type ID numbers and phones from paper forms, WeChat messages
and Excel ledgers. The same number arrives with full-width digits, a lower-case x, stray spaces or
mangled by Excel into ``5.00229E+17``. Every entry path (forms, API, import) goes through these
functions so one number is stored one way, duplicates can be found by ID (R1.7), and every error
tells the person at the keyboard what is wrong *and* what to do about it.

Deliberately **not** checked: the 6-digit address code against today's county list (R1.7). A
child born before a county was merged or renamed still carries the old code, and stdnum's
built-in list would reject real people.

Masking (R11.3): screens show IDs and phones masked; the unmasked value is only for the few views
that need it and are logged.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.utils import timezone
from django.utils.translation import gettext
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

__all__ = [
    "IdentityError",
    "id_birth_date",
    "id_sex",
    "mask_id_number",
    "mask_phone",
    "normalize_id_number",
    "normalize_phone",
    "validate_id_number",
    "validate_phone",
]

SEX_MALE = "1"  # GB/T 2261.1-2003
SEX_FEMALE = "2"

# Characters that look like nothing but break equality: zero-width space/joiners, BOM, word joiner.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
# Leading apostrophe: Excel's "store as text" prefix, sometimes pasted along with the number.
_TEXT_PREFIXES = "'‘’`"
_EXCEL_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E[+-]?\d+$")
_EXCEL_FLOAT = re.compile(r"^\d{16,18}\.0*$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes 010 and 020–029 have three characters and 8-digit local numbers; all others have four
# characters and 7 or 8 digits. Local numbers never start with 0 or 1.
_LANDLINE = re.compile(r"^(?:0(?:10|2\d)[2-9]\d{7}|0[3-9]\d{2}[2-9]\d{6,7})$")
_PHONE_SEPARATORS = dict.fromkeys(map(ord, "-‐‑–—()（）.·"), None)


class IdentityError(ValueError):
    """A number that cannot be stored, with a machine code and a message for the user.

    ``code`` lets callers (import error reports, API responses) group errors; ``message`` is shown
    as it is, so it must say what is wrong and how to fix it.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[IdentityError], tuple[str, str]]:
        # Task queues pickle exceptions; the default would call cls(message) and fail.
        return (type(self), (self.code, self.message))


# ---------------------------------------------------------------------------------------------
# ID numbers
# ---------------------------------------------------------------------------------------------


def normalize_id_number(raw: str) -> str:
    """Return ``raw`` without whitespace, with full-width characters made ASCII and X upper-case.

    NFKC maps full-width digits and letters (０-９, ｘ, Ｘ) and the ideographic space to ASCII.
    Nothing else is changed, so a genuinely wrong number still fails validation visibly.
    """
    text = unicodedata.normalize("NFKC", str(raw)).translate(_INVISIBLE)
    text = "".join(text.split())
    text = text.lstrip(_TEXT_PREFIXES)
    return text.upper()


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() would also accept e.g. Arabic-Indic or superscript digits."""
    return text.isascii() and text.isdigit()


def _error(code: str, message: str, **params: object) -> IdentityError:
    return IdentityError(code, message % params if params else message)


def _looks_like_excel(number: str) -> bool:
    """True when the text is what Excel shows after storing an 18-digit ID as a number."""
    if "E+" in number or _EXCEL_SCIENTIFIC.match(number) or _EXCEL_FLOAT.match(number):
        return True
    # Excel keeps 15 significant digits: the last three come back as zeros. A real number may
    # end in 000 too, so only call it Excel damage when the check character is also wrong.
    return (
        len(number) == 18
        and _digits(number)
        and number.endswith("000")
        and ric.calc_check_digit(number) != number[-1]
    )


def _excel_error() -> IdentityError:
    return _error(
        "excel_number",
        gettext(
            "身份证号码被 Excel 当作数字保存，末尾几位已经丢失（例如显示为 5.00229E+17 或末三位变成 000），"
            "无法还原。请把该列的单元格格式设为“文本”，或在号码前加英文单引号（'），再按原件重新录入。"
        ),
    )


def _format_date(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _legacy_birth_date(number: str) -> dt.date:
    """Birth date of a 15-digit number: YYMMDD at positions 7–12, always 19YY."""
    try:
        return dt.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        raise _error(
            "birth_date",
            gettext(
                "15 位身份证号码第 7–12 位“%(digits)s”不是有效的出生日期，请对照证件原件核对后重新录入。"
            ),
            digits=number[6:12],
        ) from None


def _check_birth_date_plausible(birth: dt.date) -> None:
    today = timezone.localdate()
    if birth > today or birth.year < 1900:
        raise _error(
            "birth_date",
            gettext(
                "身份证号码中的出生日期 %(date)s 不可能成立（早于 1900 年或晚于今天），"
                "请对照证件原件核对第 7–14 位后重新录入。"
            ),
            date=_format_date(birth),
        )


def _cross_check(birth: dt.date, sex_digit: str, *, birth_date: dt.date | None, sex: str | None) -> None:
    """Compare the number with the birth date and sex entered separately on the same form."""
    if birth_date is not None:
        if isinstance(birth_date, dt.datetime):
            birth_date = birth_date.date()
        if birth_date != birth:
            raise _error(
                "birth_mismatch",
                gettext(
                    "身份证号码中的出生日期是 %(id_date)s，与填写的出生日期 %(given)s 不一致。"
                    "请对照证件原件，改正身份证号码或出生日期中错误的一项。"
                ),
                id_date=_format_date(birth),
                given=_format_date(birth_date),
            )
    if sex is not None and str(sex) in (SEX_MALE, SEX_FEMALE):
        id_sex_code = SEX_MALE if int(sex_digit) % 2 == 1 else SEX_FEMALE
        if str(sex) != id_sex_code:
            raise _error(
                "sex_mismatch",
                gettext(
                    "身份证号码显示性别为%(id_sex)s（顺序码末位%(digit)s为%(parity)s），与填写的性别%(given)s不一致。"
                    "请对照证件原件，改正身份证号码或性别中错误的一项。"
                ),
                id_sex=_sex_label(id_sex_code),
                digit=sex_digit,
                parity=gettext("奇数") if id_sex_code == SEX_MALE else gettext("偶数"),
                given=_sex_label(str(sex)),
            )


def _sex_label(code: str) -> str:
    return gettext("男") if code == SEX_MALE else gettext("女")


def _validate_legacy(number: str, *, allow_legacy: bool) -> tuple[dt.date, str]:
    if not _digits(number):
        raise _non_digit_error(number, 15)
    if not allow_legacy:
        raise _error(
            "legacy_not_allowed",
            gettext(
                "这是 15 位的旧身份证号码。儿童必须填写 18 位身份证号码（可查看户口簿本人页）；"
                "如果儿童尚未落户，请不填身份证号码，并在“是否已登记户口”中选择“否”。"
            ),
        )
    birth = _legacy_birth_date(number)
    _check_birth_date_plausible(birth)
    return birth, number[14]


def _non_digit_error(number: str, length: int) -> IdentityError:
    allowed_last = "X" if length == 18 else ""
    bad = [
        (i + 1, ch)
        for i, ch in enumerate(number)
        if not _digits(ch) and not (i == length - 1 and ch == allowed_last)
    ]
    pos, ch = bad[0] if bad else (0, "")
    if length == 18:
        return _error(
            "format",
            gettext(
                "身份证号码第 %(pos)d 位是“%(char)s”。前 17 位只能是数字，最后一位是数字或字母 X，"
                "请核对后重新录入。"
            ),
            pos=pos,
            char=ch,
        )
    return _error(
        "format",
        gettext("15 位身份证号码第 %(pos)d 位是“%(char)s”，15 位号码只能由数字组成，请核对后重新录入。"),
        pos=pos,
        char=ch,
    )


def validate_id_number(
    raw: str,
    *,
    birth_date: dt.date | None = None,
    sex: str | None = None,
    allow_legacy: bool = False,
) -> str:
    """Return the normalised number, or raise :class:`IdentityError` saying what to fix.

    ``birth_date`` and ``sex`` ("1" male, "2" female, GB/T 2261.1) are the values entered in the
    same form; a contradiction usually means one of them was mistyped. ``allow_legacy`` accepts
    15-digit numbers, which only adults who never renewed their card still hold.
    """
    if isinstance(raw, float):
        # A float can only come from a spreadsheet cell typed as number.
        raise _excel_error()
    number = normalize_id_number(raw) if raw is not None else ""
    if not number:
        raise _error("format", gettext("没有填写身份证号码。请按证件填写 18 位身份证号码。"))
    if _looks_like_excel(number):
        raise _excel_error()

    if len(number) == 15:
        birth, sex_digit = _validate_legacy(number, allow_legacy=allow_legacy)
        _cross_check(birth, sex_digit, birth_date=birth_date, sex=sex)
        return number

    if len(number) != 18:
        raise _length_error(number)

    # The same steps as stdnum's ric.validate() in the same order (format, check character, birth
    # date), minus its last step, get_birth_place(): R1.7 keeps the address code as printed on the
    # card even for counties since renamed, and stdnum 2.2 raises a bare KeyError there for
    # province- or prefecture-level codes (e.g. 110001).
    if not _digits(number[:17]) or not (_digits(number[17]) or number[17] == "X"):
        raise _non_digit_error(number, 18)
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise _error(
            "checksum",
            gettext(
                "身份证号码校验位不对：按前 17 位计算，第 18 位应为“%(expected)s”，实际录入的是“%(actual)s”。"
                "通常是前 17 位中有数字录错，请对照证件原件逐位核对。"
            ),
            expected=expected,
            actual=number[17],
        )
    birth = id_birth_date(number)
    _check_birth_date_plausible(birth)
    _cross_check(birth, number[16], birth_date=birth_date, sex=sex)
    return number


def _length_error(number: str) -> IdentityError:
    return _error(
        "length",
        gettext("身份证号码应为 18 位，现在是 %(count)d 位。请对照证件原件检查是否多输或漏输了数字。"),
        count=len(number),
    )


def _require_known_length(number: str) -> str:
    number = normalize_id_number(number)
    if len(number) not in (15, 18):
        raise _length_error(number)
    return number


def id_birth_date(number: str) -> dt.date:
    """Birth date encoded in a valid 18- or 15-digit number (15-digit numbers mean 19YY)."""
    number = _require_known_length(number)
    if len(number) == 15:
        return _legacy_birth_date(number)
    try:
        return ric.get_birth_date(number)
    except InvalidComponent:
        raise _error(
            "birth_date",
            gettext(
                "身份证号码第 7–14 位“%(digits)s”不是有效的出生日期（年月日不存在），"
                "请对照证件原件核对后重新录入。"
            ),
            digits=number[6:14],
        ) from None


def id_sex(number: str) -> str:
    """Sex code per GB/T 2261.1 ("1" male, "2" female): odd sequence digit means male."""
    number = _require_known_length(number)
    digit = number[16] if len(number) == 18 else number[14]
    return SEX_MALE if int(digit) % 2 == 1 else SEX_FEMALE


def mask_id_number(number: str | None) -> str | None:
    """Mask for display (R11.3, issue 9 part 4): the 6-digit address code only, everything after it
    hidden — the birth date, all three sequence digits and the check character.

    Why not more: a reader who sees the mask usually sees the birth date and the sex on the same page.
    Those fix 8 digits and the parity of the last sequence digit; the check character is computed from
    the rest. With the address code shown, 500 numbers remain possible (1000 sequences, half of them of
    the right sex), each with its own valid check character; showing the last four characters, as this
    mask once did, left about 1 in 11 of them — 45 or so, few enough to try one by one
    (`tests/test_masks.py` enumerates them). The address code stays because staff use it to tell
    places apart and it is no more than the village on the same page says. A masked value can be
    masked again (old events stored the former mask): the result is the same.
    """
    if number is None:
        return None
    n = len(number)
    if n in (15, 18):
        return f"{number[:6]}{'*' * (n - 6)}"
    # Bad legacy data: show less rather than more.
    if n >= 8:
        return f"{number[:3]}{'*' * (n - 3)}"
    return "*" * n


# ---------------------------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------------------------


def normalize_phone(raw: str) -> str:
    """Digits only, without the country prefix: ``+86 138-1234-5678`` → ``13812345678``.

    ``023-59221234`` and ``(023)59221234`` both become ``02359221234``. International landline
    forms (``+86 23 5922 1234``) get their trunk 0 back.
    """
    text = unicodedata.normalize("NFKC", str(raw)).translate(_INVISIBLE)
    text = "".join(text.split()).translate(_PHONE_SEPARATORS)
    international = False
    if text.startswith("+86"):
        text, international = text[3:], True
    elif text.startswith("0086"):
        text, international = text[4:], True
    elif len(text) == 13 and text.startswith("861") and _digits(text):
        text, international = text[2:], True
    if international and text and text[0] not in "01":
        text = "0" + text
    return text


def validate_phone(raw: str) -> str:
    """Return the normalised mobile or landline number, or raise ``IdentityError("phone_format")``."""
    phone = normalize_phone(raw) if raw is not None else ""
    if _MOBILE.match(phone) or _LANDLINE.match(phone):
        return phone
    if _digits(phone) and len(phone) in (7, 8):
        message = gettext(
            "固定电话“%(value)s”缺少区号。请加上区号，例如 023-59221234；手机号码为 11 位，以 1 开头。"
        )
    else:
        message = gettext(
            "电话号码“%(value)s”格式不对。手机号码为 11 位数字、以 13–19 开头，例如 13812345678；"
            "固定电话要带区号，例如 023-59221234。"
        )
    raise _error("phone_format", message, value=str(raw) if raw is not None else "")


def mask_phone(phone: str | None) -> str | None:
    """Mask for display (R11.3): mobile ``138****5678``; landline keeps area code and last 2."""
    if phone is None:
        return None
    if len(phone) == 11 and phone.startswith("1"):
        return f"{phone[:3]}****{phone[-4:]}"
    if phone.startswith("0") and len(phone) >= 10:
        area = 3 if phone[1] in "12" else 4
        return f"{phone[:area]}{'*' * (len(phone) - area - 2)}{phone[-2:]}"
    if len(phone) > 4:
        return f"{'*' * (len(phone) - 2)}{phone[-2:]}"
    return "*" * len(phone)


def compose_id_number(address: str, birth: dt.date, sequence: int) -> str:
    """Build a valid 18-digit number (demo data and tests): `sequence` 0–999, odd for male."""
    body = f"{address}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check character
