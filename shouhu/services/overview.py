"""Where things stand (issue 17 part 7): per township of the user's region, set-based figures — needs by
state (met, waiting, overdue, unmet), service coverage of key targets, programmes and attendance, parents'
referrals and their outcomes, exits from the left-behind ledger by reason — each linked to its list.

One aggregate query per figure (DESIGN principle 5), grouped by the first nine digits of the village code
(the township), never a query per child or per township."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from shouhu.core.access import access_of, prefix_q, restrict
from shouhu.core.models import Region
from shouhu.core.policy import param
from shouhu.registry.models import Child, StatusPeriod
from shouhu.services.models import Attendance, Enrolment, Need, NeedState, ParentReferral, Programme, Session
from shouhu.services.workflow import WAITING

# The exit reason a parent's return is counted under (R9.3's trend reads the same words).
RETURN_REASON = "父母返乡就业"
OTHER_REASON = "其他"
MET = (NeedState.DELIVERED, NeedState.CLOSED)


def _town(path: str) -> Any:
    return Substr(path, 1, 9)


def township_rows(user: Any, now: datetime | None = None) -> dict[str, Any]:
    """`{"rows": [...], "total": {...}}`, one row per township the user's `service.need` reaches."""
    now = now or timezone.now()
    prefixes = access_of(user).prefixes("service.need")
    if not prefixes:
        return {"rows": [], "total": {}}
    towns = list(
        Region.objects.filter(prefix_q("code", prefixes) | Q(code__in=[p.ljust(12, "0") for p in prefixes]))
        .filter(kind__in=("town", "township", "subdistrict"))
        .order_by("code")
    )
    if not towns:  # a village worker: the township above the village
        codes = {p[:9].ljust(12, "0") for p in prefixes}
        towns = list(Region.objects.filter(code__in=codes).order_by("code"))
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))

    needs = restrict(Need.objects.all(), user, "service.view").annotate(t=_town("child__village_id"))
    cutoff = now - timedelta(days=float(param("service_need_unmet_days")))
    for r1 in needs.values("t").annotate(
        total=Count("pk"),
        met=Count("pk", filter=Q(state__in=MET)),
        waiting=Count("pk", filter=Q(state__in=WAITING)),
        overdue=Count("pk", filter=Q(state__in=WAITING, created_at__lte=cutoff)),
        unmet=Count("pk", filter=Q(state=NeedState.UNMET)),
    ):
        stats[r1["t"]].update({k: r1[k] for k in ("total", "met", "waiting", "overdue", "unmet")})

    kids = restrict(Child.objects.filter(key_target=True), user, "service.need")
    served = Q(pk__in=Need.objects.filter(state__in=MET).values("child_id")) | Q(
        pk__in=Enrolment.objects.filter(until__isnull=True).values("child_id")
    )
    for r2 in (
        kids.annotate(t=_town("village_id"))
        .values("t")
        .annotate(key_targets=Count("pk"), covered=Count("pk", filter=served))
    ):
        stats[r2["t"]].update(key_targets=r2["key_targets"], covered=r2["covered"])

    progs = restrict(Programme.objects.all(), user, "service.view").annotate(t=_town("village_id"))
    for r3 in progs.values("t").annotate(n=Count("pk")):
        stats[r3["t"]]["programmes"] = r3["n"]
    sessions = Session.objects.filter(programme__in=progs.values("pk")).annotate(
        t=_town("programme__village_id")
    )
    for r4 in sessions.values("t").annotate(n=Count("pk")):
        stats[r4["t"]]["sessions"] = r4["n"]
    att = Attendance.objects.filter(session__programme__in=progs.values("pk"), present=True).annotate(
        t=_town("session__programme__village_id")
    )
    for r5 in att.values("t").annotate(n=Count("pk"), h=Sum("hours")):
        stats[r5["t"]].update(attended=r5["n"], hours=float(r5["h"] or 0))

    refs = restrict(ParentReferral.objects.all(), user, "service.need").annotate(t=_town("child__village_id"))
    for r6 in refs.values("t", "outcome").annotate(n=Count("pk")):
        stats[r6["t"]][f"ref_{r6['outcome']}"] = r6["n"]
        stats[r6["t"]]["referrals"] += r6["n"]

    for t, reason, n in exits_by_reason(user):
        stats[t][f"exit_{'returned' if reason == RETURN_REASON else 'other'}"] += n
        stats[t]["exits"] += n

    rows = []
    for town in towns:
        s = stats.get(town.prefix, {})
        row = {
            "region": town.code,
            "prefix": town.prefix,
            "name": town.name,
            **{k: s.get(k, 0) for k in FIELDS},
        }
        rows.append(row)
    total = {k: sum(r[k] for r in rows) for k in FIELDS}
    return {"rows": rows, "total": total}


FIELDS = (
    "total",
    "met",
    "waiting",
    "overdue",
    "unmet",
    "key_targets",
    "covered",
    "programmes",
    "sessions",
    "attended",
    "hours",
    "referrals",
    "ref_pending",
    "ref_returned",
    "ref_child_moved",
    "ref_trained",
    "ref_no_result",
    "exits",
    "exit_returned",
    "exit_other",
)


def exits_by_reason(user: Any) -> list[tuple[str, str, int]]:
    """(township prefix, reason, count) of left-behind periods that ended: 父母返乡就业 when a parent's
    referral came back `returned` on the day the period ended, otherwise 其他 (R9.1 → R9.3)."""
    ended = StatusPeriod.objects.filter(
        left_behind=True, end__isnull=False, child__in=restrict(Child.objects.all(), user, "service.need")
    )
    returns = set(
        ParentReferral.objects.filter(outcome=ParentReferral.Outcome.RETURNED).values_list(
            "child_id", "outcome_on"
        )
    )
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for child_id, village, end in ended.values_list("child_id", "child__village_id", "end"):
        reason = RETURN_REASON if (child_id, end) in returns else OTHER_REASON
        counts[(village[:9], reason)] += 1
    return [(t, r, n) for (t, r), n in sorted(counts.items())]
