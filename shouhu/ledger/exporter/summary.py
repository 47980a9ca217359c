"""The township summary sheet (附件3): breakdowns that each sum to the total (勾稽关系)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from shouhu.core.models import Region
from shouhu.registry import rules
from shouhu.registry.models import CareArrangement, Child, Health, LeftBehindType, Rating, Schooling, Sex


@dataclass(frozen=True)
class Breakdown:
    key: str
    title: str
    parts: tuple[tuple[str, str], ...]


def breakdowns() -> list[Breakdown]:
    return [
        Breakdown("sex", _("性别"), tuple((str(v), str(label)) for v, label in Sex.choices)),
        Breakdown(
            "age",
            _("年龄段"),
            (
                ("0_5", _("0–5岁")),
                ("6_13", _("6–13岁")),
                ("14_15", _("14–15岁")),
                ("16_plus", _("16岁及以上")),
            ),
        ),
        Breakdown(
            "care_arrangement",
            _("实际照料方式"),
            tuple((str(v), str(lab)) for v, lab in CareArrangement.choices),
        ),
        Breakdown("schooling", _("就学情况"), tuple((str(v), str(lab)) for v, lab in Schooling.choices)),
        Breakdown("health", _("健康状况"), tuple((str(v), str(lab)) for v, lab in Health.choices)),
        Breakdown(
            "guardianship_rating",
            _("监护情况评估"),
            (*((str(v), str(lab)) for v, lab in Rating.choices), ("", _("未评估"))),
        ),
        Breakdown(
            "lb_type",
            _("留守类型"),
            (*((str(v), str(lab)) for v, lab in LeftBehindType.choices), ("", _("非留守"))),
        ),
    ]


def _age_q(part: str, on: date) -> Q:
    cut = {k: rules.anniversary(on, -k) for k in (6, 14, 16)}  # age >= k  ⇔  birth_date < cut[k]
    return {
        "0_5": Q(birth_date__gte=cut[6]),
        "6_13": Q(birth_date__lt=cut[6], birth_date__gte=cut[14]),
        "14_15": Q(birth_date__lt=cut[14], birth_date__gte=cut[16]),
        "16_plus": Q(birth_date__lt=cut[16]),
    }[part]


def summary_table(qs: QuerySet[Child], *, on: date) -> list[dict[str, Any]]:
    """One row per township (and a county total last) with the total and every breakdown: one query."""
    aggs: dict[str, Any] = {"total": Count("pk")}
    for b in breakdowns():
        for value, _label in b.parts:
            q = _age_q(value, on) if b.key == "age" else Q(**{b.key: value})
            aggs[f"{b.key}:{value}"] = Count("pk", filter=q)
    # The plugin types `.values()` as a TypedDict of the named fields only; the `**aggs` keys are dynamic.
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in qs.order_by()
        .annotate(township=Substr("village_id", 1, 9))
        .values("township")
        .annotate(**aggs)
        .order_by("township")
    ]
    names = {
        r.code[:9]: r.name for r in Region.objects.filter(code__in=[f"{r['township']}000" for r in rows])
    }
    total: dict[str, Any] = {"township": "", "name": _("合计")}
    for r in rows:
        r["name"] = names.get(r["township"], r["township"])
        for k, v in r.items():
            if k not in ("township", "name"):
                total[k] = total.get(k, 0) + v
    if not rows:
        total.update({k: 0 for k in aggs})
    return [*rows, total]


def check_summary(table: list[dict[str, Any]]) -> list[str]:
    """勾稽关系: every breakdown of every row sums to its total, and the townships sum to the county."""
    problems = []
    for r in table:
        for b in breakdowns():
            s = sum(r[f"{b.key}:{v}"] for v, _l in b.parts)
            if s != r["total"]:
                problems.append(f"{r['name']}: {b.title} {s} ≠ {r['total']}")
    if len(table) > 1:
        for k in table[-1]:
            if k not in ("township", "name") and sum(r[k] for r in table[:-1]) != table[-1][k]:
                problems.append(f"{k}: townships do not sum to the total")
    return problems


# --- writers -----------------------------------------------------------------------------------------
