"""Pure rules of family duty and village work (R2, R3): facts and a date in, a decision and its reason out.

Numbers come from policy data (`shouhu.core.policy`), passed in by the callers; nothing here queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shouhu.registry.rules import under_age

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


# --- semester meetings with school breaks (R2.1; issue 12 part 3) -----------------------------------

BREAK_POLICIES = ("previous", "next", "both", "none")


@dataclass(frozen=True)
class MeetingWindow:
    """The days whose meetings count for `term`: the term itself, widened over the break after it
    (`previous`: Spring Festival counts for the autumn term, summer for the spring term), the break
    before it (`next`), both, or neither (`none`)."""

    term: Term
    start: date
    end: date

    @property
    def ends_with_term(self) -> bool:
        return self.end == self.term.end


def meeting_windows(terms: list[Term], counts_for: str) -> list[MeetingWindow]:
    """One window per term of a sorted calendar; the first and last terms keep their own edges where
    the neighbouring term is not in the calendar."""
    out: list[MeetingWindow] = []
    for i, t in enumerate(terms):
        start, end = t.start, t.end
        if counts_for in ("next", "both") and i > 0:
            start = terms[i - 1].end + timedelta(days=1)
        if counts_for in ("previous", "both") and i + 1 < len(terms):
            end = terms[i + 1].start - timedelta(days=1)
        out.append(MeetingWindow(t, start, end))
    return out


def last_closed_window(windows: list[MeetingWindow], on: date) -> MeetingWindow | None:
    """The window that ended most recently before `on`: its duty can no longer be met."""
    closed = [w for w in windows if w.end < on]
    return max(closed, key=lambda w: w.end) if closed else None


def warning_window(windows: list[MeetingWindow], on: date, warning_days: int) -> MeetingWindow | None:
    """The open window to warn about: one that closes with its term within `warning_days`. A window
    that runs on over the following break gets no warning: a meeting in the break still counts."""
    for w in windows:
        if w.start <= on <= w.end and w.ends_with_term and on >= w.end - timedelta(days=warning_days):
            return w
    return None


# --- which files the duties apply to (API.md /alerts/; issue 12 part 3) ----------------------------


def visits_apply(
    *, left_behind: bool, distress: bool, unattended: bool, birth: date, on: date, age_limit: int = 16
) -> bool:
    """Visits are due for a left-behind child, a 困境儿童 (under 18) and a child under 16 without a
    guardian; not for a child of 16 or over, or whose parents are home (API.md)."""
    if left_behind:
        return True
    if distress and under_age(birth, on, 18):
        return True
    return unattended and under_age(birth, on, age_limit)


def agreement_missing(*, entrusted: bool, has_agreement: bool, on_since: date, on: date, days: int) -> bool:
    """R1.4: a left-behind child in entrusted care with no agreement `days` after care began on file."""
    return entrusted and not has_agreement and on_since + timedelta(days=days) <= on


def agreement_expiring(valid_to: date | None, on: date, days: int) -> bool:
    """R1.4: the latest agreement ends within `days` (still valid today)."""
    return valid_to is not None and on <= valid_to <= on + timedelta(days=days)
