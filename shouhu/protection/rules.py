"""Pure rules of the protection chain: facts and a moment in, a decision and its reason out.

- deadlines of each step (R6.6; time limits are policy data, passed in as hours);
- the risk level of a joint assessment (R6.4);
- late mandated reports (R5.3);
- the three revocation grounds of clause 二(二)4 with their evidence (R7.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils.translation import gettext as _

from shouhu.protection.workflow import TIMED

# --- deadlines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    step: str  # the state the step reaches
    label: str
    due: datetime | None  # None: the clock has not started (an earlier step is not done yet)
    done_at: datetime | None
    met: bool | None  # True met, False missed (done late or overdue now), None still running / n/a

    @property
    def overdue(self) -> bool:
        return self.met is False and self.done_at is None


def deadlines(
    *,
    cycle_start: datetime,
    start_state: str,
    entries: Sequence[tuple[str, datetime]],
    limits_hours: dict[str, float],
    now: datetime,
    ended_at: datetime | None = None,
) -> list[Deadline]:
    """Each timed step of the current cycle. `entries` are (state, time entered) of the cycle in order;
    the cycle starts in `start_state` (reported, or reopened) at `cycle_start`. A step's clock starts
    when the case entered one of its source states (R6.6, workflow.TABLE). A case that ended (closed,
    unfounded) at `ended_at` misses no step that was still running then."""
    clock = min(now, ended_at) if ended_at is not None else now
    entered: dict[str, datetime] = {start_state: cycle_start}
    for state, at in entries:
        entered.setdefault(state, at)
    out: list[Deadline] = []
    for s in TIMED:
        anchor = next((entered[src] for src in s.src if src in entered), None)
        done = entered.get(s.dst)
        if anchor is None:
            out.append(Deadline(s.dst, str(s.label), None, done, None))
            continue
        due = anchor + timedelta(hours=float(limits_hours[s.limit_key or ""]))
        if done is not None:
            met: bool | None = done <= due
        else:
            met = False if clock > due else None
        out.append(Deadline(s.dst, str(s.label), due, done, met))
    return out


# --- assessment ------------------------------------------------------------------------------------

DIMENSIONS = ("safety", "guardianship", "physical_health", "mental_health")
_DIM_LABEL = {
    "safety": "安全处境",
    "guardianship": "监护情况",
    "physical_health": "身体健康",
    "mental_health": "心理健康",
}


def risk_level(ratings: dict[str, str]) -> tuple[str, list[str]]:
    """R6.4: any dimension rated serious → high; unsafe guardianship plus another concern, or two
    concerns → medium …; all ok → low. Returns the level and the reasons."""
    serious = [d for d in DIMENSIONS if ratings.get(d) == "serious"]
    concern = [d for d in DIMENSIONS if ratings.get(d) == "concern"]
    if serious:
        return "high", [_("%(d)s：严重") % {"d": _(_DIM_LABEL[d])} for d in serious]
    if concern:
        return "medium", [_("%(d)s：存在隐患") % {"d": _(_DIM_LABEL[d])} for d in concern]
    return "low", [_("安全、监护、身心健康均未发现风险隐患")]


# --- reports ---------------------------------------------------------------------------------------


def late_report(
    *, mandated: bool, discovered_at: datetime, reported_at: datetime, limit_hours: float
) -> str | None:
    """R5.3: a mandated reporter who reported beyond the limit after discovering; None if on time."""
    if not mandated:
        return None
    delay = reported_at - discovered_at
    if delay <= timedelta(hours=limit_hours):
        return None
    hours = delay.total_seconds() / 3600
    return _("发现后 %(h).1f 小时才报告，超过 %(limit)s 小时时限（二(二)1“第一时间”）") % {
        "h": hours,
        "limit": limit_hours,
    }


def allowed_measures(situations: Iterable[str], checklists: dict[str, list[str]]) -> list[str]:
    """The union of the checklists of the case's situations, in first-seen order (二(二)2)."""
    seen: list[str] = []
    for s in situations:
        for m in checklists.get(s, []):
            if m not in seen:
                seen.append(m)
    return seen


# --- revocation grounds (二(二)4, R7.2) ---------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    on: date
    text: str


@dataclass(frozen=True)
class GuardianConduct:
    """One guardian measure as a fact."""

    on: date
    kind: str  # education | penalty | criminal_case
    conduct: str  # unattended | refusing | violence | abuse | abandonment
    corrected: bool | None
    serious_harm: bool
    text: str


@dataclass(frozen=True)
class ReportFact:
    on: date
    situations: frozenset[str]
    text: str


@dataclass(frozen=True)
class GroundsFacts:
    child_birth: date
    reports: tuple[ReportFact, ...]  # every report about the child, any case
    conduct: tuple[GuardianConduct, ...]
    assessment_guardianship_serious: bool
    assessment_health_serious: bool
    assessment_on: date | None


@dataclass(frozen=True)
class Ground:
    code: str  # a | b | c
    title: str
    met: bool
    reason: str
    evidence: list[Evidence] = field(default_factory=list)


UNATTENDED_SITUATIONS = frozenset({"living_alone", "missing", "abandoned_unattended"})
NON_PERFORMANCE_SITUATIONS = frozenset({"guardian_neglect", "living_alone", "abandoned_unattended"})
HARM_SITUATIONS = frozenset(
    {"domestic_violence", "multiple_injuries_abuse", "abandoned_unattended", "injury_or_harm"}
)


# Issue 16 part 5: situations that make a case stand out on every list and on the home page — sexual
# assault and injury (2020 强制报告意见 第四条; plan 二(二)1 "injury_or_harm").
URGENT_SITUATIONS = frozenset(
    {
        "sexual_assault_under_14",
        "sexual_assault_pregnancy_14_plus",
        "private_parts_injury",
        "injury_or_harm",
        "multiple_injuries_abuse",
        "abnormal_disability_death",
    }
)


def is_urgent(situations: Iterable[str] | None) -> bool:
    """A case whose situations include sexual assault or injury (URGENT_SITUATIONS)."""
    return bool(URGENT_SITUATIONS & set(situations or ()))


def _age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _months_between(a: date, b: date) -> int:
    months = (b.year - a.year) * 12 + (b.month - a.month)
    return months - (1 if b.day < a.day else 0)


def revocation_grounds(
    facts: GroundsFacts, *, today: date, months_limit: int, age_limit: int = 16
) -> list[Ground]:
    """Which of the three grounds of clause 二(二)4 the records meet, with the records that show it.

    (a) a child under 16 left unattended and in danger, not corrected after education;
    (b) refusing guardianship six months or more (configurable) leaving the child without livelihood;
    (c) violence, abuse or abandonment seriously harming the child's body or mind.
    """
    out: list[Ground] = []

    # (a)
    unattended = [r for r in facts.reports if r.situations & UNATTENDED_SITUATIONS]
    educated = [c for c in facts.conduct if c.kind == "education" and c.conduct in ("unattended", "refusing")]
    under = [r for r in unattended if _age_on(facts.child_birth, r.on) < age_limit]
    not_corrected = [c for c in educated if c.corrected is False or any(r.on > c.on for r in under)]
    met_a = bool(under and not_corrected)
    evidence_a = [Evidence(r.on, r.text) for r in under] + [Evidence(c.on, c.text) for c in educated]
    if met_a:
        reason_a = _("不满十六周岁被置于无人监管和照看状态，经批评教育后仍未改正")
    elif under and not educated:
        reason_a = _("有无人监管的记录，但尚无批评教育记录")
    elif under:
        reason_a = _("经批评教育后尚无再次无人监管的记录")
    else:
        reason_a = _("没有不满十六周岁无人监管的记录")
    out.append(
        Ground(
            "a",
            _("置于无人监管状态面临危险且经教育不改"),
            met_a,
            reason_a,
            sorted(evidence_a, key=lambda e: e.on),
        )
    )

    # (b)
    nonperf = sorted(
        [Evidence(r.on, r.text) for r in facts.reports if r.situations & NON_PERFORMANCE_SITUATIONS]
        + [
            Evidence(c.on, c.text)
            for c in facts.conduct
            if c.conduct in ("refusing", "unattended", "abandonment")
        ],
        key=lambda e: e.on,
    )
    months = _months_between(nonperf[0].on, today) if nonperf else 0
    still = bool(nonperf) and not any(
        c.corrected for c in facts.conduct if c.conduct in ("refusing", "unattended")
    )
    no_livelihood = facts.assessment_guardianship_serious
    met_b = bool(nonperf) and still and months >= months_limit and no_livelihood
    if met_b:
        reason_b = _("自 %(d)s 起拒不履行监护职责已 %(m)d 个月，评估认定监护严重缺失、生活无着") % {
            "d": nonperf[0].on.isoformat(),
            "m": months,
        }
    elif nonperf:
        reason_b = _(
            "不履行监护职责的记录始于 %(d)s，已 %(m)d 个月（满 %(limit)d 个月且评估认定生活无着方可申请）"
        ) % {
            "d": nonperf[0].on.isoformat(),
            "m": months,
            "limit": months_limit,
        }
    else:
        reason_b = _("没有不履行监护职责的记录")
    out.append(Ground("b", _("拒不履行监护职责六个月以上导致生活无着"), met_b, reason_b, nonperf))

    # (c)
    harm_reports = [r for r in facts.reports if r.situations & HARM_SITUATIONS]
    harm_conduct = [c for c in facts.conduct if c.conduct in ("violence", "abuse", "abandonment")]
    serious = any(c.serious_harm for c in harm_conduct) or (
        bool(harm_reports or harm_conduct) and facts.assessment_health_serious
    )
    met_c = bool(harm_reports or harm_conduct) and serious
    evidence_c = sorted(
        [Evidence(r.on, r.text) for r in harm_reports] + [Evidence(c.on, c.text) for c in harm_conduct],
        key=lambda e: e.on,
    )
    if met_c:
        reason_c = _("实施家庭暴力、虐待或遗弃，导致儿童身心健康严重受损")
    elif harm_reports or harm_conduct:
        reason_c = _("有家庭暴力、虐待或遗弃的记录，尚无身心健康严重受损的认定")
    else:
        reason_c = _("没有家庭暴力、虐待或遗弃的记录")
    out.append(Ground("c", _("家庭暴力、虐待或遗弃导致身心健康严重受损"), met_c, reason_c, evidence_c))
    return out
