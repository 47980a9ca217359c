"""Validation of the family members kept beside the child's file: the carer and the entrusted guardian
(R1.3) and the grandparents (R1.1).

Pure functions, no queries: the one implementation that `services.guardian_set`, the set-based
`bulk_family` and the ledger import (R1.9) all call, so a guardian refused on the form is refused in a
workbook with the same reason, and a workbook row is checked without a query.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from shouhu.core import codes
from shouhu.core.identity import IdentityError, validate_id_number, validate_phone
from shouhu.registry.models import Guardian
from shouhu.registry.validation import _raw_id, clean_name

Errors = dict[str, list[str]]
NAME_MAX = 50  # Guardian.name, Grandparent.name
ADDRESS_MAX = 200  # Guardian.address


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def validate_guardian(data: dict[str, Any], *, role: str) -> tuple[dict[str, Any], Errors]:
    """The carer's or entrusted guardian's data normalised, and the errors by field (empty when valid).

    A name and a GB/T 4761 relationship are required; the ID number is checked as an adult's (15-digit
    legacy numbers allowed) against the birth date if one is given; the phone as a mobile or a landline
    with its area code. A blank ID number is stored as None, a blank phone as "" (R1.3, R1.7).
    """
    errors: Errors = {}
    clean = dict(data)
    if role not in Guardian.Role.values:
        _add(errors, "role", _("身份须为实际照料人或受委托监护人。"))
    clean["name"] = clean_name(data.get("name") or "")
    if not clean["name"]:
        _add(errors, "name", _("请填写姓名。"))
    elif len(clean["name"]) > NAME_MAX:
        _add(errors, "name", _("姓名过长（最多50个字）。"))
    if not codes.is_valid("relationship", data.get("relationship") or ""):
        _add(errors, "relationship", _("请选择与儿童的关系（GB/T 4761）。"))
    if "address" in data:
        clean["address"] = (data.get("address") or "").strip()
        if len(clean["address"]) > ADDRESS_MAX:
            _add(errors, "address", _("住址过长（最多200个字）。"))
    raw_id = _raw_id(data.get("id_number"))
    clean["id_number"] = None
    if raw_id:
        try:
            clean["id_number"] = validate_id_number(
                raw_id, birth_date=data.get("birth_date"), allow_legacy=True
            )
        except IdentityError as exc:
            _add(errors, "id_number", exc.message)
    phone = (data.get("phone") or "").strip()
    clean["phone"] = ""
    if phone:
        try:
            clean["phone"] = validate_phone(phone)
        except IdentityError as exc:
            _add(errors, "phone", exc.message)
    return clean, errors


def grandparent_recorded(row: dict[str, Any]) -> bool:
    """A grandparent is on file with a name, or marked deceased without one (R1.1: "name, birth date,
    or deceased"); a row with neither says nothing and is not kept."""
    return bool(clean_name(row.get("name") or "") or row.get("deceased"))


def validate_grandparent(row: dict[str, Any], *, today: date) -> tuple[dict[str, Any], Errors]:
    """One grandparent normalised, and the errors by field (empty when valid): a row that gives a birth
    date must give the name too, since a birth date alone is not a record that `grandparent_recorded`
    keeps."""
    errors: Errors = {}
    clean = dict(row)
    clean["name"] = clean_name(row.get("name") or "")
    clean["deceased"] = bool(row.get("deceased"))
    birth = row.get("birth_date")
    if len(clean["name"]) > NAME_MAX:
        _add(errors, "name", _("姓名过长（最多50个字）。"))
    if birth is not None and birth > today:
        _add(errors, "birth_date", _("出生日期不能晚于今天。"))
    if birth is not None and not grandparent_recorded(clean):
        _add(
            errors, "name", _("已填写出生日期，请同时填写姓名（已去世且不知姓名的，只填“是否去世”为“是”）。")
        )
    return clean, errors
