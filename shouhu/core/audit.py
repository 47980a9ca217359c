"""The auditor's reads (R11.2; API.md Audit): the sealed change events, the access log, activity per user
and the anomalies the policy numbers flag. For `audit.view` holders (auditor, county administrator).

What an auditor sees of an event is its metadata — who, when, which record, which fields changed — not
the file's content (the auditor reads no child file). The actor of a report event is the reporter:
shown only to a reader who may see reporters (R5.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from shouhu.core.access import access_of, prefix_q
from shouhu.core.models import AccessLog, Event, User
from shouhu.core.policy import param
from shouhu.core.visibility import ADMIN, LEDGER, REPORT, visibility_of

FILE_ACTIONS = (
    "view",
    "list",
    "search",
    "form",
    "care",
    "case",
    "referral",
    "export",
    "api_read",
    "api_list",
)


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class AuditFilters:
    user: str = ""  # username
    child: str = ""
    since: datetime | None = None
    until: datetime | None = None
    action: str = ""  # access rows: the action; events: the verb (prefix)


def parse_moment(raw: str, field_name: str, *, end: bool = False) -> datetime | None:
    """`YYYY-MM-DD` (the start of that day in county time, or with `end` the start of the next) or an
    ISO 8601 date-time; a clear message otherwise."""
    raw = (raw or "").strip()
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None:
        try:
            day = parse_date(raw)
        except ValueError:
            day = None
        if day is None:
            raise FilterError(field_name, _("日期格式应为 YYYY-MM-DD，例如 2026-01-31。"))
        moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def filters_from(params: Any) -> AuditFilters:
    return AuditFilters(
        user=(params.get("user") or "").strip(),
        child=(params.get("child") or "").strip(),
        since=parse_moment(params.get("since", ""), "since"),
        until=parse_moment(params.get("until", ""), "until", end=True),
        action=(params.get("action") or params.get("verb") or "").strip(),
    )


def _region_q(user: Any, path: str) -> Q:
    """Rows of the reader's audit region; rows about no region (accounts, lists) for county level."""
    holding = access_of(user).holding("audit.view")
    if holding.empty:
        return Q(pk__in=[])
    if holding.anywhere:
        return Q()
    q = prefix_q(path, holding.prefixes)
    if any(len(p) <= 6 for p in holding.prefixes):
        q |= Q(**{path: ""})
    return q


def events_for(user: Any, f: AuditFilters) -> QuerySet[Event]:
    qs = Event.objects.filter(_region_q(user, "region_code")).select_related("actor")
    if f.user:
        qs = qs.filter(actor__username=f.user)
    if f.child:
        qs = qs.filter(child_id=f.child)
    if f.since:
        qs = qs.filter(occurred_at__gte=f.since)
    if f.until:
        qs = qs.filter(occurred_at__lt=f.until)
    if f.action:
        qs = qs.filter(verb__startswith=f.action)
    return qs.order_by("-seq")


def access_for(user: Any, f: AuditFilters) -> QuerySet[AccessLog]:
    qs = AccessLog.objects.filter(_region_q(user, "region_code")).select_related("user")
    if f.user:
        qs = qs.filter(user__username=f.user)
    if f.child:
        qs = qs.filter(child_id=f.child)
    if f.since:
        qs = qs.filter(at__gte=f.since)
    if f.until:
        qs = qs.filter(at__lt=f.until)
    if f.action:
        qs = qs.filter(action=f.action)
    return qs.order_by("-seq")


def event_row(e: Event, reader_sees_reporters: bool) -> dict[str, Any]:
    """An event as the auditor sees it: metadata and the names of the changed fields, no values."""
    cls = visibility_of(e)
    keys: set[str] = set()
    for part in (e.before, e.after):
        if isinstance(part, dict):
            keys |= set(part)
    hide_actor = cls == REPORT and not reader_sees_reporters
    return {
        "seq": e.seq,
        "at": e.occurred_at,
        "user": None if hide_actor or e.actor is None else e.actor.username,
        "actor_hidden": hide_actor,
        "verb": e.verb,
        "subject_type": e.subject_type,
        "subject_id": e.subject_id,
        "child": e.child_id or None,
        "region": e.region_code or None,
        "visibility": cls,
        "fields": sorted(keys),
        "summary": e.summary if cls in (ADMIN, LEDGER) else None,
    }


# --- activity and anomalies --------------------------------------------------------------------------


@dataclass(frozen=True)
class DayActivity:
    """One user's reads on one day (county time)."""

    files: int  # files read: the count of every read of child data
    reveals: int  # identifiers revealed or read in full
    night: int  # reads in the policy's night hours
    exports: int
    lookups: int


@dataclass
class Flag:
    day: date
    code: str
    text: str


@dataclass
class UserActivity:
    user: User
    days: dict[date, DayActivity] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)

    @property
    def totals(self) -> DayActivity:
        """The period's sums, field by field."""
        days = list(self.days.values())
        return DayActivity(*(sum(getattr(d, f) for d in days) for f in DayActivity.__dataclass_fields__))


def night_hour(hour: int, night: tuple[int, int]) -> bool:
    start, end = night
    return hour >= start or hour < end if start > end else start <= hour < end


def flags_for(day: date, a: DayActivity, *, max_files: int, max_reveals: int) -> list[Flag]:
    """The anomalies of one user-day (R11.2 安全审计; the numbers are policy): more files read than
    `audit_flag_files_per_day`, more identifiers revealed than `audit_flag_reveals_per_day`, any read
    in the night hours (`audit_night_hours`). Pure: the reason names the number it was held against."""
    out = []
    if a.files > max_files:
        out.append(
            Flag(day, "files", _("一天查看 %(n)d 份档案，超过 %(m)d 份") % {"n": a.files, "m": max_files})
        )
    if a.reveals > max_reveals:
        out.append(
            Flag(
                day,
                "reveals",
                _("一天查看完整证件号码或电话 %(n)d 次，超过 %(m)d 次") % {"n": a.reveals, "m": max_reveals},
            )
        )
    if a.night:
        out.append(Flag(day, "night", _("夜间查看档案 %(n)d 次") % {"n": a.night}))
    return out


def _hours(raw: Any) -> tuple[int, int]:
    try:
        start, end = (int(str(x).split(":")[0]) for x in raw)
    except (TypeError, ValueError):
        start, end = 22, 6
    return start % 24, end % 24


def activity(user: Any, since: datetime, until: datetime) -> list[UserActivity]:
    """Each user's reads per day in [since, until), flagged; flagged users first. A constant number of
    queries whatever the number of rows (aggregated by the database)."""
    tz = timezone.get_current_timezone()
    night = _hours(param("audit_night_hours"))
    max_files, max_reveals = int(param("audit_flag_files_per_day")), int(param("audit_flag_reveals_per_day"))
    qs = AccessLog.objects.filter(_region_q(user, "region_code"), at__gte=since, at__lt=until)
    grouped = (
        qs.annotate(day=TruncDate("at", tzinfo=tz), hour=ExtractHour("at", tzinfo=tz))
        .values("user_id", "day", "hour")
        .annotate(
            files=Sum("count", filter=Q(action__in=FILE_ACTIONS)),
            reads=Count("pk", filter=Q(action__in=FILE_ACTIONS)),
            reveals=Count("pk", filter=Q(action="reveal") | Q(identifiers=True)),
            exports=Count("pk", filter=Q(action="export")),
            lookups=Sum("count", filter=Q(action="lookup")),
        )
    )
    acc: dict[tuple[int, date], list[int]] = {}
    for r in grouped:
        row = acc.setdefault((r["user_id"], r["day"]), [0, 0, 0, 0, 0])
        row[0] += r["files"] or 0
        row[1] += r["reveals"] or 0
        row[2] += (r["reads"] or 0) if night_hour(r["hour"], night) else 0
        row[3] += r["exports"] or 0
        row[4] += r["lookups"] or 0
    users = User.objects.in_bulk({uid for uid, _day in acc})
    out: dict[int, UserActivity] = {}
    for (uid, day), (files, reveals, night_reads, exports, lookups) in sorted(
        acc.items(), key=lambda kv: kv[0][1]
    ):
        ua = out.setdefault(uid, UserActivity(users[uid]))
        a = DayActivity(files, reveals, night_reads, exports, lookups)
        ua.days[day] = a
        ua.flags += flags_for(day, a, max_files=max_files, max_reveals=max_reveals)
    return sorted(out.values(), key=lambda u: (not u.flags, -u.totals.files, u.user.username))
