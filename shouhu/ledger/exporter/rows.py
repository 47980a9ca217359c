"""Which files an export holds, its columns, and the cells of each row (R1.9, R11.3): scoped, masked,
neutralised."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import FilteredRelation, Q, QuerySet
from django.utils.translation import gettext as _

from shouhu.core import codes
from shouhu.core.access import can, prefix_q, restrict
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.models import Organisation, Region, User
from shouhu.ledger.columns import (
    COLUMNS,
    GRANDPARENTS,
    GUARDIAN_PREFIX,
    Column,
)
from shouhu.ledger.exporter.base import ExportError
from shouhu.registry.models import CareArrangement, Child, Health, LeftBehindType, Rating, Schooling, Sex

# --- selection ---------------------------------------------------------------------------------------


def children_for_export(
    user: User, *, region: Region | None = None, status: str = "left_behind"
) -> QuerySet[Child]:
    qs = restrict(Child.objects.all(), user, "ledger.export")
    if region is not None:
        qs = qs.filter(prefix_q("village__pk", (region.prefix,)))
    if status == "left_behind":
        qs = qs.filter(lb_status=True)
    elif status == "key_target":
        qs = qs.filter(key_target=True)
    elif status != "all":
        raise ExportError(_("未知的范围：%(s)s") % {"s": status})
    return qs.order_by("village_id", "name_pinyin", "id")


# --- one child as cells ----------------------------------------------------------------------------
#
# The export reads plain values (`.values()`, not model instances) in one query, the family members joined
# in (father and mother, R1.2; the four grandparents, R1.1; the carer and the entrusted guardian, R1.3: at
# most one of each by constraint), and turns each column into a precomputed getter; code and choice labels
# are looked up once per distinct code. Only the fields of the layout's columns are read, so only its
# identifiers are decrypted (~17 µs a value); a member not on file costs no decryption.


def _yn(v: Any) -> str:
    return "" if v is None else ("是" if v else "否")


_CHOICES = {
    "health": Health.choices,
    "schooling": Schooling.choices,
    "care_arrangement": CareArrangement.choices,
    "guardianship_rating": Rating.choices,
}
_CHILD_FIELDS = (
    "id",
    "village_id",
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "id_number",
    "hukou_registered",
    "hukou_rural",
    "hukou_place",
    "address",
    "health",
    "disability_type",
    "disability_grade",
    "illness",
    "schooling",
    "boarding",
    "school_id",
    "care_arrangement",
    "guardianship_rating",
    "income_sources",
    "assistance",
    "distress_categories",
    "village_contact_name",
    "village_contact_phone",
    "notes",
    "lb_type",
    "key_target",
)
_RELATIONS = ("father", "mother")  # one of each at most (constraint one_father_one_mother)
# The fields read for each member: its columns' fields, and its id (None: no such member on file).
_MEMBER_FIELDS = {
    m: ("id", *dict.fromkeys(c.field for c in COLUMNS if c.member == m))
    for m in dict.fromkeys(c.member for c in COLUMNS if c.member)
}
_YES_NO = ("away_for_work", "guardianship_capacity", "deceased")
_MEMBER_CODES = {
    "work_province": "province",
    "incapacity_reason": "incapacity_reason",
    "relationship": "relationship",
}
_MULTI = {
    "income_sources": "income_source",
    "assistance": "assistance",
    "distress_categories": "distress_category",
}

Record = dict[str, Any]
Getter = Callable[[Record, bool], Any]


class Row:
    """Cell values of one child (`cells`, in the order of COLUMNS); identifiers masked where the user may
    not see them."""

    __slots__ = ("c", "cells")

    def __init__(self, child: Record, cells: list[Any]) -> None:
        self.c = child
        self.cells = cells


class _Cells:
    """Turns a child's record (its family members' fields joined in as `father__…`, `paternal_grandfather__…`,
    `carer__…`) into cell values: one getter per column, built once; labels memoised."""

    def __init__(self, user: User, joined: set[str]) -> None:
        self.user = user
        self.sees: dict[str, bool] = {}
        self.villages = _village_names()
        self.schools = dict(Organisation.objects.values_list("id", "name"))
        self.code_labels: dict[str, dict[str, str]] = {}
        self.choice_labels = {f: {v: str(label) for v, label in ch} for f, ch in _CHOICES.items()}
        self.sex_labels = {str(v): str(label) for v, label in Sex.choices}
        # Consecutive columns of the same record (the child's, the father's, the carer's …) as one segment:
        # (member, the key of its id in the record — None for the child's own columns, "" for a member not
        # joined because no child of the export has one —, getters, blank cells for a member not on file).
        self.segments: list[tuple[str | None, str | None, list[Getter], list[Any]]] = []
        for col in COLUMNS:
            g = self._member_getter(f"{col.member}__", col.field) if col.member else self._getter(col.key)
            if self.segments and self.segments[-1][0] == col.member:
                self.segments[-1][2].append(g)
                self.segments[-1][3].append("")
            else:
                id_key = None if col.member is None else f"{col.member}__id" if col.member in joined else ""
                self.segments.append((col.member, id_key, [g], [""]))

    def label(self, list_name: str, code: str) -> str:
        known = self.code_labels.setdefault(list_name, {})
        try:
            return known[code]
        except KeyError:
            known[code] = text = codes.label(list_name, code)
            return text

    def labels(self, list_name: str, values: list[str] | None) -> str:
        return "、".join(self.label(list_name, v) for v in values or [])

    def row(self, child: Record) -> Row:
        village = child["village_id"]
        try:
            full = self.sees[village]
        except KeyError:
            full = self.sees[village] = can(self.user, "child.identifiers", village)
        cells: list[Any] = []
        for _member, id_key, getters, blank in self.segments:
            if id_key is not None and (not id_key or child[id_key] is None):  # no such member on record
                cells += blank
            else:
                cells += [g(child, full) for g in getters]
        return Row(child, cells)

    def _getter(self, f: str) -> Getter:
        if f == "sex":
            sexes = self.sex_labels
            return lambda c, full: sexes.get(c["sex"], c["sex"])
        if f == "ethnicity":
            return lambda c, full: self.label("ethnicity", c["ethnicity"])
        if f == "id_number":
            return lambda c, full: c["id_number"] if full else mask_id_number(c["id_number"])
        if f == "village":
            villages = self.villages
            return lambda c, full: villages.get(c["village_id"], c["village_id"])
        if f == "school":
            schools = self.schools
            return lambda c, full: schools.get(c["school_id"], "") if c["school_id"] is not None else ""
        if f in ("hukou_registered", "hukou_rural", "boarding"):
            return lambda c, full: _yn(c[f])
        if f in _CHOICES:
            choice = self.choice_labels[f]
            return lambda c, full: choice[c[f]] if c[f] else ""
        if f in ("disability_type", "disability_grade"):
            return lambda c, full: self.label(f, c[f]) if c[f] else ""
        if f in _MULTI:
            list_name = _MULTI[f]
            return lambda c, full: self.labels(list_name, c[f])
        if f == "village_contact_phone":

            def contact_phone(c: Record, full: bool) -> Any:
                v = c["village_contact_phone"] or ""
                return v if full else (mask_phone(v) or "")

            return contact_phone
        return lambda c, full: c[f]

    def _member_getter(self, prefix: str, f: str) -> Getter:
        """A family member's column, read from the child's record (`father__phone`, `carer__id_number`: the
        members are joined in); identifiers masked as the parents' always were (R11.3)."""
        k = prefix + f
        if f == "id_number":
            return lambda c, full: (c[k] if full else mask_id_number(c[k])) or ""
        if f == "phone":
            return lambda c, full: (c[k] if full else mask_phone(c[k] or None)) or ""
        if f in _YES_NO:
            return lambda c, full: _yn(c[k])
        if f in _MEMBER_CODES:
            list_name = _MEMBER_CODES[f]
            return lambda c, full: self.label(list_name, c[k]) if c[k] else ""
        return lambda c, full: c[k]


def _village_names() -> dict[str, str]:
    """Village names prefixed by their township (巴山镇梨山村): unique across the county, as ledgers write them."""
    return {
        r.code: f"{r.parent.name if r.parent else ''}{r.name}"
        for r in Region.objects.filter(kind__in=("village", "community")).select_related("parent")
    }


def _joined(qs: QuerySet[Child]) -> dict[str, FilteredRelation]:
    """The family members to join into the child's row, each as a relation of its own (one LEFT JOIN):
    the parents, and each other member that at least one child of the export has on file (one EXISTS
    each). A join that finds nothing still costs ~0.1 s per 100,000 children, and a county may keep no
    grandparents or guardians at all (R1.9: the export under 20 s)."""
    out = {r: FilteredRelation("parents", condition=Q(parents__relation=r)) for r in _RELATIONS}
    for member, (side, relation) in GRANDPARENTS.items():
        q = Q(grandparents__side=side, grandparents__relation=relation)
        if qs.filter(q).exists():
            out[member] = FilteredRelation("grandparents", condition=q)
    for role in GUARDIAN_PREFIX:
        q = Q(guardians__role=role)
        if qs.filter(q).exists():
            out[role] = FilteredRelation("guardians", condition=q)
    return out


def export_rows(user: User, qs: QuerySet[Child]) -> Iterator[Row]:
    """The children in the order of `qs`, each with its family members joined in (one query)."""
    members = _joined(qs.order_by())
    cells = _Cells(user, set(members))
    fields = [*_CHILD_FIELDS, *(f"{m}__{f}" for m in members for f in _MEMBER_FIELDS[m])]
    for child in qs.select_related(None).annotate(**members).values(*fields).iterator(chunk_size=2000):
        yield cells.row(child)


# --- summary (附件3) -----------------------------------------------------------------------------------


def columns_for(layout: str) -> list[Column]:
    return list(COLUMNS)


def platform_headers() -> list[str]:
    return [_("档案编号"), *[c.label for c in COLUMNS], _("留守类型"), _("是否重点对象")]


def platform_extra(row: Row) -> tuple[list[Any], list[Any]]:
    c = row.c
    lb_type = c["lb_type"]
    return [str(c["id"])], [str(LeftBehindType(lb_type).label) if lb_type else "", _yn(c["key_target"])]
