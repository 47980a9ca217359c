"""Pure rules of schooling (DESIGN principle 3): each returns a decision and the reason, citing R4.2 /
R1.10. Policy numbers come in as arguments (`core.policy.param` in the callers)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class DropoutDecision:
    due: bool
    reason: str


def is_school_day(d: date) -> bool:
    """Monday to Friday. (Holidays inside a term are rare in village schools and not yet data.)"""
    return d.weekday() < 5


def previous_school_day(d: date) -> date:
    d -= timedelta(days=1)
    while not is_school_day(d):
        d -= timedelta(days=1)
    return d


def dropout_due(
    unexcused: Iterable[tuple[date, Decimal | float]],
    *,
    on: date,
    consecutive: int,
    month_days: float,
) -> DropoutDecision:
    """Has a pupil's unexcused absence, as of `on`, reached the threshold (R4.2, 控辍保学)?

    `unexcused` are (date, days) of unexcused absences. Due when the school days ending at `on` are
    `consecutive` in a row each with a whole day of unexcused absence (half days count only towards the
    month), or when the unexcused days of `on`'s month
    up to `on` add up to `month_days`. Only absences up to `on` count: the answer for a past day is what
    the school knew that day."""
    days = {d: float(n) for d, n in unexcused if d <= on and float(n) > 0}
    run, d = 0, on
    while days.get(d, 0) >= 1 and is_school_day(d):
        run += 1
        if run >= consecutive:
            return DropoutDecision(
                True,
                _("连续%(n)d个上学日无故缺课（截至%(on)s），达到控辍保学登记条件（R4.2）。")
                % {"n": run, "on": on.isoformat()},
            )
        d = previous_school_day(d)
    total = sum(n for d, n in days.items() if d.year == on.year and d.month == on.month)
    if total >= month_days:
        return DropoutDecision(
            True,
            _("%(month)s累计无故缺课%(total)s天，达到控辍保学登记条件（R4.2）。")
            % {"month": on.strftime("%Y-%m"), "total": f"{total:g}"},
        )
    return DropoutDecision(False, "")


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def school_age(birth: date, on: date, age_range: tuple[int, int]) -> bool:
    """Of compulsory-school age on `on` (the policy's range of full years, both ends included)."""
    low, high = age_range
    return low <= age_on(birth, on) <= high


def left_behind_mark(lb_status: bool | None) -> str:
    """The 学籍 marking from the ledger's derived status (R4.1): what the school pastes back."""
    if lb_status is None:
        return ""
    return "是" if lb_status else "否"
