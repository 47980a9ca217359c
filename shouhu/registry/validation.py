"""Validation of a child's file: the one implementation that the web form, the API and the ledger
import all call (R1.1–R1.3, R1.7). Input is type-converted; output is normalised data or field errors
in the active language that say what to fix.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.core import codes
from shouhu.core.identity import IdentityError, validate_id_number, validate_phone
from shouhu.core.models import Organisation, OrganisationKind, Region
from shouhu.registry.models import CareArrangement, Health, Rating, Schooling, Sex
from shouhu.registry.rules import full_years

Errors = dict[str, list[str]]
# The choices as sets, once: an enum's `.values` is rebuilt on every access (a ledger checks 100,000 rows).
_SEX = frozenset(Sex.values)
_HEALTH = frozenset(Health.values)
_SCHOOLING = frozenset(Schooling.values)
_CARE = frozenset(CareArrangement.values)
_RATING = frozenset(["", *Rating.values])
_SPACES = re.compile(r"\s+")


def clean_name(raw: str) -> str:
    """Stray spaces and line breaks inside a Chinese name are dropped; latin names keep single spaces."""
    raw = (raw or "").replace("\u3000", " ").strip()
    if re.search(r"[A-Za-z]", raw):
        return _SPACES.sub(" ", raw)
    return _SPACES.sub("", raw)


def _raw_id(value: Any) -> Any:
    """Text stripped; a number (a spreadsheet cell typed as number) is passed on as it is so that
    validate_id_number can say that Excel lost its last digits and how to fix it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return (value or "").strip()


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def validate_child(data: dict[str, Any], *, today: date) -> dict[str, Any]:
    """Return the normalised child data (parents nested) or raise ValidationError({field: [msg]})."""
    errors: Errors = {}
    out = dict(data)

    out["name"] = clean_name(data.get("name", ""))
    if not out["name"]:
        _add(errors, "name", _("请填写儿童姓名。"))
    elif len(out["name"]) > 50:
        _add(errors, "name", _("姓名过长（最多50个字）。"))

    birth: date | None = data.get("birth_date")
    if birth is None:
        _add(errors, "birth_date", _("请填写出生日期。"))
    elif birth > today:
        _add(errors, "birth_date", _("出生日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()})
    elif full_years(birth, today) >= 18:
        _add(errors, "birth_date", _("已满18周岁，不是未成年人，不能建立儿童档案。"))

    sex = data.get("sex")
    if sex not in _SEX:
        _add(errors, "sex", _("性别须为“1”（男）或“2”（女）。"))

    ethnicity = data.get("ethnicity") or "01"
    out["ethnicity"] = ethnicity
    if not codes.is_valid("ethnicity", ethnicity):
        _add(
            errors,
            "ethnicity",
            _("民族代码“%(code)s”不在 GB/T 3304 代码表中（如汉族为01）。") % {"code": ethnicity},
        )

    registered = bool(data.get("hukou_registered", True))
    raw_id = _raw_id(data.get("id_number"))
    if raw_id:
        try:
            out["id_number"] = validate_id_number(
                raw_id,
                birth_date=birth if "birth_date" not in errors else None,
                sex=sex if "sex" not in errors else None,
            )
        except IdentityError as exc:
            _add(errors, "id_number", exc.message)
        if not registered:
            _add(errors, "hukou_registered", _("已填写公民身份号码，“是否已登记户口”应为“是”。"))
    else:
        out["id_number"] = None
        if registered:
            _add(
                errors,
                "id_number",
                _("已登记户口的儿童须填写公民身份号码；尚未登记户口的，请将“是否已登记户口”选为“否”。"),
            )

    village = data.get("village")
    if isinstance(village, Region):  # already resolved (the ledger import resolves a file's villages at once)
        region: Region | None = village
    else:
        region = Region.objects.filter(code=village).first() if village else None
    if region is None:
        _add(errors, "village", _("请选择儿童所在的村（居）委会（12位区划代码）。"))
    elif not region.is_village_level:
        _add(errors, "village", _("“%(name)s”不是村（居）委会，请选择到村一级。") % {"name": region.name})
    else:
        out["village"] = region

    if "school" in data:
        school = data.get("school")
        if school in (None, ""):
            out["school"] = None
        else:
            org = (
                school
                if isinstance(school, Organisation)
                else (Organisation.objects.filter(pk=school).first() if str(school).isdigit() else None)
            )
            if org is None or org.kind not in (OrganisationKind.SCHOOL, OrganisationKind.KINDERGARTEN):
                _add(errors, "school", _("请选择儿童就读的学校或幼儿园。"))
            else:
                out["school"] = org

    health = data.get("health") or Health.HEALTHY
    out["health"] = health
    if health not in _HEALTH:
        _add(errors, "health", _("健康状况须为健康、残疾或患病。"))
    if health == Health.DISABLED:
        if not codes.is_valid("disability_type", data.get("disability_type") or ""):
            _add(errors, "disability_type", _("残疾儿童须填写残疾类别（GB/T 26158：1视力…7多重）。"))
        if not codes.is_valid("disability_grade", data.get("disability_grade") or ""):
            _add(errors, "disability_grade", _("残疾儿童须填写残疾等级（一级至四级）。"))
    else:
        out["disability_type"] = out["disability_grade"] = ""
    if health == Health.ILL:
        if not (data.get("illness") or "").strip():
            _add(errors, "illness", _("患病儿童须填写疾病名称。"))
    else:
        out["illness"] = ""

    for field, allowed, message in [
        ("schooling", _SCHOOLING, gettext_lazy("请选择就学情况。")),
        ("care_arrangement", _CARE, gettext_lazy("请选择实际照料方式。")),
    ]:
        if data.get(field) not in allowed:
            _add(errors, field, str(message))
    if (data.get("guardianship_rating") or "") not in _RATING:
        _add(errors, "guardianship_rating", _("监护情况评估须为较好、一般或差。"))

    for field, list_name, label in [
        ("income_sources", "income_source", gettext_lazy("家庭经济来源")),
        ("assistance", "assistance", gettext_lazy("救助帮扶情况")),
        ("distress_categories", "distress_category", gettext_lazy("困境儿童类别")),
    ]:
        values = list(dict.fromkeys(data.get(field) or []))
        bad = [v for v in values if not codes.is_valid(list_name, v)]
        if bad:
            _add(
                errors,
                field,
                _("%(label)s中的代码无效：%(codes)s。") % {"label": label, "codes": "、".join(bad)},
            )
        out[field] = values

    phone = (data.get("village_contact_phone") or "").strip()
    if phone:
        try:
            out["village_contact_phone"] = validate_phone(phone)
        except IdentityError as exc:
            _add(errors, "village_contact_phone", exc.message)

    parents = data.get("parents")
    if parents is not None:
        out["parents"] = _validate_parents(parents, errors, today=today)
        away = [p for p in out["parents"] if p.get("away_for_work")]
        if data.get("care_arrangement") == CareArrangement.PARENT and len(away) == 2:
            _add(
                errors, "care_arrangement", _("父母均登记为外出务工，实际照料方式不能是“父母一方在家照料”。")
            )

    if errors:
        raise ValidationError(errors)
    return out


def _validate_parents(parents: list[dict[str, Any]], errors: Errors, *, today: date) -> list[dict[str, Any]]:
    seen: set[str] = set()
    cleaned: list[dict[str, Any]] = []
    for p in parents:
        relation = p.get("relation")
        key = f"parents.{relation}"
        if relation not in ("father", "mother"):
            _add(errors, "parents", _("父母信息的关系须为“father”（父亲）或“mother”（母亲）。"))
            continue
        if relation in seen:
            _add(errors, "parents", _("父亲、母亲各只能填写一条。"))
            continue
        seen.add(relation)
        q = dict(p)
        q["name"] = clean_name(p.get("name", ""))
        birth = p.get("birth_date")
        if birth and birth > today:
            _add(errors, f"{key}.birth_date", _("出生日期不能晚于今天。"))
        raw_id = _raw_id(p.get("id_number"))
        q["id_number"] = None
        if raw_id:
            try:
                q["id_number"] = validate_id_number(
                    raw_id, birth_date=birth, allow_legacy=True, sex="1" if relation == "father" else "2"
                )
            except IdentityError as exc:
                _add(errors, f"{key}.id_number", exc.message)
        phone = (p.get("phone") or "").strip()
        q["phone"] = ""
        if phone:
            try:
                q["phone"] = validate_phone(phone)
            except IdentityError as exc:
                _add(errors, f"{key}.phone", exc.message)
        since = p.get("away_since")
        returned = p.get("returned_on")
        if returned and returned > today:
            _add(errors, f"{key}.returned_on", _("返乡时间不能晚于今天。"))
        elif returned and p.get("away_for_work") and (since is None or since <= returned):
            q["away_for_work"] = False  # came home for good on `returned` (API.md `returned_on`)
        if returned and since and since > returned and not p.get("away_for_work"):
            _add(errors, f"{key}.returned_on", _("返乡时间不能早于外出时间。"))
        if q.get("away_for_work"):
            if since and since > today:
                _add(errors, f"{key}.away_since", _("外出时间不能晚于今天。"))
            province = p.get("work_province") or ""
            if province and not codes.is_valid("province", province):
                _add(
                    errors,
                    f"{key}.work_province",
                    _("务工省份代码“%(code)s”无效（GB/T 2260 两位代码，如44广东）。") % {"code": province},
                )
        elif returned:  # home since `returned`: the stint it ended stays on file
            q.update(work_province="", work_city="", abroad=False, work_country="")
        else:
            q.update(away_since=None, work_province="", work_city="", abroad=False, work_country="")
        if p.get("deceased"):
            q["guardianship_capacity"] = False
            q["incapacity_reason"] = "deceased"
            q["away_for_work"] = False
        elif p.get("guardianship_capacity", True):
            q["incapacity_reason"] = ""
        elif not (p.get("incapacity_reason") or "").strip():
            _add(errors, f"{key}.incapacity_reason", _("无监护能力的，请填写原因（如重病、重残）。"))
        elif not codes.is_valid("incapacity_reason", p["incapacity_reason"]):
            _add(errors, f"{key}.incapacity_reason", _("无监护能力原因代码无效。"))
        cleaned.append(q)
    return cleaned
