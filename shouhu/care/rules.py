"""Pure rules of family duty and village work (R2, R3): facts and a date in, a decision and its reason out.

Numbers come from policy data (`shouhu.core.policy`), passed in by the callers; nothing here queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK_RULE = "城府办发〔2016〕153号 二(一)1：每周至少电话联系1次"
SEMESTER_RULE = "城府办发〔2016〕153号 二(一)1：每学期至少见面交流1次"
VISIT_RULE = "城府办发〔2016〕153号 二(一)2：定期走访、全面排查"


def week_start(d: date) -> date:
    """Monday of d's ISO week."""
    return d - timedelta(days=d.weekday())


def week_label(d: date) -> str:
    iso = d.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def local_midnight(d: date, tz: ZoneInfo | None) -> datetime:
    return datetime.combine(d, time.min, tzinfo=tz)


@dataclass(frozen=True)
class Term:
    year: int
    term: str  # "spring" | "autumn"
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.year} {self.term}"


def _md(year: int, text: str) -> date:
    month, day = (int(x) for x in text.split("-"))
    return date(year, month, day)


def default_terms(year: int, spring: list[str], autumn: list[str]) -> list[Term]:
    """Spring of `year` and autumn of `year` (which may end in the next January)."""
    s_start, s_end = _md(year, spring[0]), _md(year, spring[1])
    a_start = _md(year, autumn[0])
    a_end = _md(year, autumn[1])
    if a_end <= a_start:
        a_end = _md(year + 1, autumn[1])
    return [Term(year, "spring", s_start, s_end), Term(year, "autumn", a_start, a_end)]


def calendar(
    years: range, spring: list[str], autumn: list[str], overrides: dict[tuple[int, str], tuple[date, date]]
) -> list[Term]:
    """The semesters of those years: defaults, replaced by the rows an administrator entered."""
    terms = []
    for y in years:
        for t in default_terms(y, spring, autumn):
            if (t.year, t.term) in overrides:
                start, end = overrides[(t.year, t.term)]
                t = Term(t.year, t.term, start, end)
            terms.append(t)
    return sorted(terms, key=lambda t: t.start)


def reference_term(terms: list[Term], on: date) -> tuple[Term | None, bool]:
    """(the semester `on` falls in, True), or (the last semester ended before `on`, False)."""
    current = next((t for t in terms if t.start <= on <= t.end), None)
    if current is not None:
        return current, True
    ended = [t for t in terms if t.end < on]
    return (ended[-1] if ended else None), False


def meeting_overdue(term: Term | None, in_term: bool, on: date, met: bool, warning_days: int) -> bool:
    """R2.1 semester duty: overdue when the semester is in its last `warning_days` (or over) with no
    meeting in person. During the break after a semester, the missed semester stays overdue."""
    if term is None or met:
        return False
    if in_term:
        return on >= term.end - timedelta(days=warning_days)
    return True


def visit_interval(rating: str, key_target: bool, intervals: dict[str, int], key_target_days: int) -> int:
    """Days between visits (R3.1): by guardianship rating; key targets at least every `key_target_days`."""
    days = int(intervals.get(rating or "unrated", intervals.get("unrated", 30)))
    return min(days, int(key_target_days)) if key_target else days


def next_visit_due(last_visit: date | None, on_file_since: date, interval: int) -> date:
    """The next visit is due `interval` days after the last one (or after the file was opened)."""
    return (last_visit or on_file_since) + timedelta(days=interval)


def contact_overdue(prev_week_contacts: int, this_week_contacts: int, on_file_before_prev_week: bool) -> bool:
    """R2.1 weekly duty: overdue when the whole previous ISO week passed without a contact and none has
    happened yet this week (a call this week clears it)."""
    return on_file_before_prev_week and prev_week_contacts == 0 and this_week_contacts == 0


def admonitions_escalate(count_in_window: int, any_serious: bool, threshold: int) -> bool:
    """R2.3: repeated (≥ threshold within the window) or serious admonitions escalate to intervention (R7)."""
    return any_serious or count_in_window >= threshold
