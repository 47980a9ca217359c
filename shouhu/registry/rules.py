"""Pure rules of the ledger (R1.6): left-behind status, key targets, age bands, 困境儿童 categories.

Every function here is a pure function of facts and a date and returns its reasons, citing the rule.
Nothing reads the database except the callers, which pass policy values in.

How the 16th birthday is counted (docs/architecture.md, "Counting 不满十六周岁"):
- 周岁 is counted by the Gregorian calendar from the day after the birthday (最高人民法院《关于审理未成年人
  刑事案件具体应用法律若干问题的解释》第二条; 民法典第二百零一条: a period counted in years starts the next
  day). A child therefore reaches 16 full years on the day AFTER the 16th birthday, and is still
  不满十六周岁 — and still a left-behind child — on the birthday itself.
- A child born on 29 February has the anniversary on 28 February in common years (民法典第二百零三条:
  a period whose last month has no such day ends on the last day of that month).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.translation import gettext as _

BOTH_AWAY = "both_away"
ONE_AWAY_OTHER_INCAPABLE = "one_away_other_incapable"
RULE = "国发〔2016〕13号、民发〔2016〕42号"


@dataclass(frozen=True)
class ParentFacts:
    relation: str  # "father" | "mother"
    away_for_work: bool = False
    away_since: date | None = None
    guardianship_capacity: bool = True
    incapacity_reason: str = ""
    deceased: bool = False


@dataclass(frozen=True)
class ChildFacts:
    birth_date: date
    sex: str = "1"
    hukou_rural: bool = True
    moved_with_parents: bool = False
    care_arrangement: str = "grandparents"
    health: str = "healthy"
    assistance: frozenset[str] = frozenset()
    parents: tuple[ParentFacts, ...] = ()


@dataclass(frozen=True)
class Reason:
    code: str
    text: str


@dataclass(frozen=True)
class LeftBehindDecision:
    left_behind: bool
    type: str | None
    reasons: tuple[Reason, ...]
    # The date from which the facts make the child left-behind (latest departure, or birth); None if not.
    since: date | None = None

    @property
    def status(self) -> str:
        return "left_behind" if self.left_behind else "not_left_behind"


@dataclass(frozen=True)
class KeyTargetDecision:
    is_key_target: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)


# --- age ------------------------------------------------------------------------------------------


def anniversary(birth: date, years: int) -> date:
    """The `years`-th birthday; 29 February falls on 28 February in common years (民法典 art. 203)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 2, 28)


def full_years(birth: date, on: date) -> int:
    """周岁 on `on`: N full years are reached on the day after the N-th birthday."""
    if on <= birth:
        return 0
    years = on.year - birth.year
    while years > 0 and not anniversary(birth, years) < on:
        years -= 1
    return years


def under_age(birth: date, on: date, limit: int = 16) -> bool:
    """不满 `limit` 周岁 on `on` (still true on the `limit`-th birthday itself)."""
    return on <= anniversary(birth, limit)


def age_out_date(birth: date, limit: int = 16) -> date:
    """The first day on which the child is no longer under `limit`: the day after the birthday."""
    return anniversary(birth, limit) + timedelta(days=1)


AGE_BANDS = (("0-5", 0, 5), ("6-13", 6, 13), ("14-15", 14, 15))


def age_band(birth: date, on: date) -> str | None:
    """Statistics band 0–5 / 6–13 / 14–15 (REQUIREMENTS), None at 16 or over."""
    age = full_years(birth, on)
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return None


# --- left-behind status ---------------------------------------------------------------------------


def _is_away(p: ParentFacts, on: date) -> bool:
    return p.away_for_work and not p.deceased and (p.away_since is None or p.away_since <= on)


def _incapable(p: ParentFacts) -> bool:
    return p.deceased or not p.guardianship_capacity


def _parent_name(relation: str) -> str:
    return _("父亲") if relation == "father" else _("母亲")


def evaluate_left_behind(facts: ChildFacts, on: date, *, age_limit: int = 16) -> LeftBehindDecision:
    """农村留守儿童 or not on `on`, with the type and the reasons (R1.6; definition in REQUIREMENTS).

    Left-behind: under `age_limit` full years, rural hukou, and both parents away for work, or one away
    and the other without guardianship capacity. One away and the other at home and capable is not.
    """
    no = LeftBehindDecision
    if on < facts.birth_date:
        return no(False, None, (Reason("not_born", _("该日期早于出生日期。")),))
    if not under_age(facts.birth_date, on, age_limit):
        turned = anniversary(facts.birth_date, age_limit)
        return no(
            False,
            None,
            (
                Reason(
                    "age_out",
                    _(
                        "已满%(limit)d周岁：%(date)s为%(limit)d周岁生日，自次日起不再属于农村留守儿童（%(rule)s；周岁自生日次日起算）。"
                    )
                    % {"limit": age_limit, "date": turned.isoformat(), "rule": RULE},
                ),
            ),
        )
    if not facts.hukou_rural:
        return no(
            False,
            None,
            (Reason("not_rural", _("非农村户籍，不属于农村留守儿童（%(rule)s）。") % {"rule": RULE}),),
        )
    if facts.moved_with_parents:
        return no(
            False,
            None,
            (Reason("moved_with_parents", _("随父母外出共同生活（流动儿童），不属于农村留守儿童。")),),
        )

    by_relation = {p.relation: p for p in facts.parents}
    missing = [r for r in ("father", "mother") if r not in by_relation]
    if missing:
        return no(
            False,
            None,
            tuple(
                Reason(
                    "parent_unknown",
                    _("%(parent)s情况未登记，无法认定；请补充%(parent)s信息。") % {"parent": _parent_name(r)},
                )
                for r in missing
            ),
        )
    father, mother = by_relation["father"], by_relation["mother"]
    away = [p for p in (father, mother) if _is_away(p, on)]
    if len(away) == 2:
        since = max([facts.birth_date, *(p.away_since for p in away if p.away_since)])
        return LeftBehindDecision(
            True,
            BOTH_AWAY,
            (
                Reason(
                    BOTH_AWAY,
                    _("未满%(limit)d周岁、农村户籍，父母双方均外出务工，属于农村留守儿童（%(rule)s）。")
                    % {"limit": age_limit, "rule": RULE},
                ),
            ),
            since,
        )
    if len(away) == 1:
        gone = away[0]
        other = mother if gone is father else father
        if _incapable(other):
            why = _("已去世") if other.deceased else (other.incapacity_reason or _("无监护能力"))
            since = max([facts.birth_date, *([gone.away_since] if gone.away_since else [])])
            return LeftBehindDecision(
                True,
                ONE_AWAY_OTHER_INCAPABLE,
                (
                    Reason(
                        ONE_AWAY_OTHER_INCAPABLE,
                        _(
                            "未满%(limit)d周岁、农村户籍，%(away)s外出务工，%(other)s无监护能力（%(why)s），属于农村留守儿童（%(rule)s）。"
                        )
                        % {
                            "limit": age_limit,
                            "away": _parent_name(gone.relation),
                            "other": _parent_name(other.relation),
                            "why": why,
                            "rule": RULE,
                        },
                    ),
                ),
                since,
            )
        return no(
            False,
            None,
            (
                Reason(
                    "one_away_other_home",
                    _("%(away)s外出务工，%(other)s在家且有监护能力，不属于农村留守儿童（可列为关注对象）。")
                    % {"away": _parent_name(gone.relation), "other": _parent_name(other.relation)},
                ),
            ),
        )
    return no(False, None, (Reason("none_away", _("父母均未外出务工，不属于农村留守儿童。")),))


# --- key targets and 困境儿童 ----------------------------------------------------------------------


def evaluate_key_target(
    facts: ChildFacts,
    decision: LeftBehindDecision,
    on: date,
    *,
    hardship_codes: Iterable[str] = ("dibao", "tekun", "orphan_allowance"),
    age_limit: int = 16,
) -> KeyTargetDecision:
    """重点对象 (clause 二(二)3): left-behind children in hardship, disabled, girls; any child under 16
    with no guardian. Reasons are codes: hardship, disabled, girl, unattended."""
    reasons: list[str] = []
    if decision.left_behind:
        if facts.assistance & frozenset(hardship_codes):
            reasons.append("hardship")
        if facts.health == "disabled":
            reasons.append("disabled")
        if facts.sex == "2":
            reasons.append("girl")
    if facts.care_arrangement == "unattended" and under_age(facts.birth_date, on, age_limit):
        reasons.append("unattended")
    return KeyTargetDecision(bool(reasons), tuple(reasons))


def suggest_distress_categories(facts: ChildFacts, on: date) -> tuple[str, ...]:
    """困境儿童 categories (国发〔2016〕36号, under 18) that the facts suggest; a worker confirms them."""
    if not under_age(facts.birth_date, on, 18):
        return ()
    found: list[str] = []
    if facts.assistance & {"dibao", "tekun"}:
        found.append("poverty")
    if facts.health == "disabled":
        found.append("disability")
    parents = {p.relation: p for p in facts.parents}
    if (
        len(parents) == 2
        and all(_incapable(p) for p in parents.values())
        and any(p.deceased or p.incapacity_reason in {"missing", "imprisoned"} for p in parents.values())
    ):
        found.append("de_facto_unsupported")
    if facts.care_arrangement == "unattended":
        found.append("guardianship_missing")
    return tuple(found)


# --- entrusted guardian (Minors Protection Law art. 22) -------------------------------------------


@dataclass(frozen=True)
class GuardianFacts:
    birth_date: date | None
    full_civil_capacity: bool | None
    no_violence_history: bool | None
    no_addiction: bool | None
    no_prior_neglect: bool | None


def guardian_eligibility(g: GuardianFacts, on: date) -> tuple[bool, tuple[str, ...]]:
    """Whether an entrusted guardian meets art. 22 of the Minors Protection Law; problems in Chinese.

    Unknown (None) answers are problems too: the village committee must check them (R1.3).
    """
    problems: list[str] = []
    if g.birth_date is not None and full_years(g.birth_date, on) < 18:
        problems.append(_("受委托人未满18周岁，不具有完全民事行为能力（未成年人保护法第二十二条）。"))
    checks = [
        (g.full_civil_capacity, _("具有完全民事行为能力")),
        (g.no_violence_history, _("无性侵害、虐待、遗弃、拐卖、暴力伤害等违法犯罪记录")),
        (g.no_addiction, _("无吸毒、酗酒、赌博等恶习")),
        (g.no_prior_neglect, _("未曾拒不履行或长期怠于履行监护、照护职责")),
    ]
    for answer, text in checks:
        if answer is None:
            problems.append(_("尚未核实：%(item)s。") % {"item": text})
        elif not answer:
            problems.append(_("不符合：%(item)s（未成年人保护法第二十二条）。") % {"item": text})
    return (not problems, tuple(problems))
