"""Scan step for the duties around the family (issue 12 part 3): agreements missing, expiring and
expired (R1.4), household plan items past their due date (R1.5), children whose pairing ended with no
other (R3.3), and files that left the ledger long enough ago to be archived (R1.11).

Called by `scan.compute` with the active files it read; a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.care import rules
from shouhu.care.alerts import AlertSpec
from shouhu.care.models import AlertKind, CareAssignment
from shouhu.core.policy import param
from shouhu.registry.models import Agreement, Child, FileState, HouseholdPlanItem, StatusPeriod
from shouhu.registry.rules import under_age

ENTRUSTED_CARE = ("grandparents", "relatives_friends", "incapable_parent")


def compute(
    at: datetime,
    children: list[Any],
    wanted: dict[str, list[AlertSpec]],
    spec: Callable[..., AlertSpec],
    by_child: dict[str, Any],
) -> None:
    today = timezone.localdate(at)
    tz = timezone.get_current_timezone()
    lb = [k for k in children if k.lb]
    by_village = {"village_id__in": by_child["child__village_id__in"]} if by_child else {}

    # --- agreements (R1.4): missing after N days, expiring within N days, expired --------------------
    latest = dict(
        Agreement.objects.filter(valid_from__lte=today, created_at__lte=at, **by_child)
        .values("child_id")
        .annotate(m=Max("valid_to"))
        .values_list("child_id", "m")
        .order_by()
    )
    any_agreement = set(
        Agreement.objects.filter(created_at__lte=at, **by_child).values_list("child_id", flat=True).order_by()
    )
    missing_days = int(param("agreement_missing_days"))
    warn_days = int(param("agreement_expiry_warning_days"))
    msg_missing = _("%(name)s：委托亲友照料已超过%(n)d天，尚未签订委托监护协议")
    msg_expiring = _("%(name)s：委托监护协议将于%(d)s到期，请提前指导续签")
    msg_expired = _("%(name)s：委托监护协议已到期，请指导父母续签或重新确定受委托监护人")
    for kid in lb:
        valid_to = latest.get(kid.id)
        since = max(timezone.localdate(kid.created, tz), kid.lb_since or date.min)
        if rules.agreement_missing(
            entrusted=kid.care in ENTRUSTED_CARE,
            has_agreement=kid.id in any_agreement,
            on_since=since,
            on=today,
            days=missing_days,
        ):
            wanted[AlertKind.AGREEMENT_MISSING].append(
                spec(kid, msg_missing % {"name": kid.name, "n": missing_days})
            )
        if valid_to is not None and valid_to < today:
            wanted[AlertKind.AGREEMENT_EXPIRED].append(spec(kid, msg_expired % {"name": kid.name}))
        elif rules.agreement_expiring(valid_to, today, warn_days):
            assert valid_to is not None
            wanted[AlertKind.AGREEMENT_EXPIRING].append(
                spec(kid, msg_expiring % {"name": kid.name, "d": valid_to.isoformat()})
            )

    # --- household plan items past due (R1.5 一户一策) ------------------------------------------------
    by_household: dict[Any, Any] = {}  # household → the first active file in it (the alert's child)
    kids = {k.id: k for k in children}
    for cid, household in (
        Child.objects.filter(state=FileState.ACTIVE, household__isnull=False, **by_village)
        .values_list("id", "household_id")
        .order_by("created_at", "id")
    ):
        if cid in kids:
            by_household.setdefault(household, kids[cid])
    msg_plan = _("%(name)s户：帮扶措施“%(m)s”（责任人：%(o)s）应于%(d)s前完成，已逾期")
    for item in (
        HouseholdPlanItem.objects.filter(
            due_date__lt=today, done_on__isnull=True, household_id__in=list(by_household)
        )
        .select_related("household")
        .order_by()
    ):
        kid = by_household[item.household_id]
        wanted[AlertKind.PLAN_OVERDUE].append(
            spec(
                kid,
                msg_plan
                % {
                    "name": item.household.head_name,
                    "m": item.measure[:80],
                    "o": item.owner,
                    "d": item.due_date.isoformat() if item.due_date else "",
                },
                key=f"plan:{item.pk}",
            )
        )

    # --- a pairing that ended leaves its child uncovered (R3.3) ---------------------------------------
    rows = (
        CareAssignment.objects.filter(starts_on__lte=today, **by_child)
        .values("child_id")
        .annotate(
            active=Max("id", filter=Q(ends_on__isnull=True) | Q(ends_on__gte=today)),
            ended=Max("ends_on", filter=Q(ends_on__lt=today)),
        )
        .order_by()
    )
    msg_uncovered = _("%(name)s：关爱结对已于%(d)s结束，目前无人结对，请落实新的结对帮扶")
    for r in rows:
        kid = kids.get(r["child_id"])
        if kid is not None and kid.lb and r["active"] is None and r["ended"] is not None:
            wanted[AlertKind.CARE_UNCOVERED].append(
                spec(kid, msg_uncovered % {"name": kid.name, "d": r["ended"]})
            )

    # --- files that left the ledger long ago: the worker is asked to archive (R1.11) -------------------
    cutoff = today - timedelta(days=int(param("follow_after_exit_days")))
    limit = int(param("left_behind_age_limit"))
    exited = dict(
        StatusPeriod.objects.filter(end__isnull=True, left_behind=False, start__lte=cutoff, **by_child)
        .values_list("child_id", "start")
        .order_by()
    )
    once_left_behind = set(
        StatusPeriod.objects.filter(left_behind=True, child_id__in=list(exited))
        .values_list("child_id", flat=True)
        .order_by()
    )
    msg_archive = _("%(name)s：自%(d)s起已不属于农村留守儿童（%(why)s），关注期已满，请核实后归档")
    for cid, start in exited.items():
        kid = kids.get(cid)
        if kid is None or kid.lb:
            continue
        aged_out = not under_age(kid.birth, today, limit)
        if not (aged_out or cid in once_left_behind):
            continue
        if kid.distress and under_age(kid.birth, today, 18):
            continue  # 困境儿童 stay followed to 18
        why = _("已满%(n)d周岁") % {"n": limit} if aged_out else _("父母返乡或情况变化")
        wanted[AlertKind.ARCHIVE_DUE].append(
            spec(kid, msg_archive % {"name": kid.name, "d": start.isoformat(), "why": why})
        )
