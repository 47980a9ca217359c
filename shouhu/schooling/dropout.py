"""The dropout chain (控辍保学, R4.2): opening a case when unexcused absence reaches the threshold, its
moves on core's workflow engine, persuasion attempts, deadlines, and the `dropout` alert.

`check_dropout` runs when an absence is recorded (the case opens at once, on the day the threshold was
reached) and from the periodic scan. Every move is `dropout_transition`: one transaction, one step row,
one event; a final state closes the case and resolves its alert.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.care.alerts import AlertSpec, open_alert, resolve_alert
from shouhu.core.access import can, get_or_404
from shouhu.core.events import record_events
from shouhu.core.models import User
from shouhu.core.policy import param
from shouhu.core.workflow import Deadline, WorkflowError, limits_from
from shouhu.schooling import rules
from shouhu.schooling.models import Absence, DropoutCase, DropoutState, DropoutStep, Enrolment
from shouhu.schooling.services import event
from shouhu.schooling.workflow import DROPOUT

ALERT_KIND = "dropout"
UNITS = ("school", "village")


def alert_key(case: DropoutCase) -> str:
    return f"dropout:{case.pk}"


def check_dropout(*, enrolment: Enrolment, on: date, now: datetime, actor: User | None) -> DropoutCase | None:
    """Open a dropout case for the pupil if unexcused absence up to `on` reaches the policy threshold
    and no case is open (R4.2). Returns the case opened, or None."""
    child = enrolment.child
    if child is None or DropoutCase.objects.filter(child=child, closed_at__isnull=True).exists():
        return None
    last = (
        DropoutCase.objects.filter(child=child)
        .order_by("-opened_on")
        .values_list("opened_on", flat=True)
        .first()
    )
    start = min(date(on.year, on.month, 1), on - timedelta(days=14))
    rows = Absence.objects.filter(child=child, excused=False, date__lte=on, date__gte=start)
    if last is not None:
        rows = rows.filter(date__gt=last)  # absences before a closed case's day do not open another
    decision = rules.dropout_due(
        rows.values_list("date", "days"),
        on=on,
        consecutive=int(param("dropout_consecutive_days")),
        month_days=float(param("dropout_month_days")),
    )
    if not decision.due:
        return None
    case = DropoutCase.objects.create(
        child=child,
        school=enrolment.school,
        enrolment=enrolment,
        opened_at=now,
        state_since=now,
        opened_on=on,
        trigger=decision.reason[:200],
    )
    DropoutStep.objects.create(
        case=case, from_state="", to_state=DropoutState.ABSENT, actor=actor, at=now, note=decision.reason
    )
    record_events(
        [
            event(
                "schooling.dropout_opened",
                case,
                actor,
                _("控辍保学：%(r)s") % {"r": decision.reason},
                {"state": case.state, "opened_on": on, "school": enrolment.school_id},
                child_id=child.pk,
                region=child.village_id,
                at=now,
            )
        ]
    )
    message = _("%(name)s（%(school)s）疑似辍学：") % {"name": child.name, "school": enrolment.school.name}
    open_alert(
        kind=ALERT_KIND,
        spec=AlertSpec(
            key=alert_key(case),
            region_id=child.village_id,
            message=(message + decision.reason)[:300],
            child_id=child.pk,
        ),
        at=now,
    )
    return case


def get_case(user: Any, case_id: Any) -> DropoutCase:
    return get_or_404(
        DropoutCase.objects.select_related("child__village", "school", "enrolment"),
        user,
        "dropout.view",
        pk=case_id,
    )


def may(user: Any, case: DropoutCase) -> Any:
    return lambda caps: any(can(user, c, case) for c in caps)


def allowed_transitions(user: Any, case: DropoutCase) -> list[str]:
    return [s.target for s in DROPOUT.allowed(case.state, may(user, case))]


def entries(case: DropoutCase) -> list[tuple[str, datetime]]:
    return [(s.to_state, s.at) for s in case.steps.all() if not s.attempt]


def deadlines(case: DropoutCase, now: datetime | None = None) -> list[Deadline]:
    return DROPOUT.deadlines(
        entries=entries(case),
        limits=limits_from(DROPOUT, param),
        now=now or timezone.now(),
        ended_at=case.closed_at,
    )


@transaction.atomic
def dropout_transition(
    *, actor: User, case_id: Any, to: str, note: str = "", by_unit: str = "", now: datetime | None = None
) -> DropoutCase:
    """The one way a dropout case moves (workflow.DROPOUT). An illegal or unauthorised move is refused
    with the reason (400); a case out of reach answers 404."""
    now = now or timezone.now()
    case = get_case(actor, case_id)
    case = DropoutCase.objects.select_for_update().select_related("child", "school").get(pk=case.pk)
    step = DROPOUT.check(case.state, to, may=may(actor, case), note=note)
    if by_unit and by_unit not in UNITS:
        raise WorkflowError("by_unit", _("劝返单位须为学校（school）或村（居）（village）。"))
    before = case.state
    case.state, case.state_since = step.target, now
    if step.target in DROPOUT.final:
        case.closed_at = now
    case.save(update_fields=["state", "state_since", "closed_at"])
    DropoutStep.objects.create(
        case=case, from_state=before, to_state=step.target, actor=actor, at=now, note=note, by_unit=by_unit
    )
    record_events(
        [
            event(
                "schooling.dropout_" + step.target,
                case,
                actor,
                _("控辍保学：%(a)s → %(b)s") % {"a": DROPOUT.label(before), "b": DROPOUT.label(step.target)},
                {"state": step.target, "note": note, "by_unit": by_unit},
                before={"state": before},
                child_id=case.child_id,
                region=case.child.village_id,
                at=now,
            )
        ]
    )
    if case.closed_at is not None:
        resolve_alert(kind=ALERT_KIND, key=alert_key(case), at=now, by=actor, note=note)
        if step.target == DropoutState.TRANSFERRED and case.enrolment.until is None:
            Enrolment.objects.filter(pk=case.enrolment_id).update(until=timezone.localdate(now))
    return case


@transaction.atomic
def persuasion_attempt(
    *, actor: User, case_id: Any, note: str, by_unit: str, now: datetime | None = None
) -> DropoutStep:
    """A further persuasion visit (劝返, each attempt dated, R4.2) while the case is being persuaded."""
    now = now or timezone.now()
    case = get_case(actor, case_id)
    if not can(actor, "dropout.act", case):
        raise PermissionDenied(_("您无权登记劝返。"))
    if case.state != DropoutState.PERSUADING:
        raise WorkflowError(
            "to", _("个案处于“%(s)s”，只有劝返中的个案可以登记劝返。") % {"s": DROPOUT.label(case.state)}
        )
    if not note.strip():
        raise WorkflowError("note", _("请写明劝返情况。"))
    if by_unit not in UNITS:
        raise WorkflowError("by_unit", _("劝返单位须为学校（school）或村（居）（village）。"))
    row = DropoutStep.objects.create(
        case=case,
        from_state=case.state,
        to_state=case.state,
        attempt=True,
        by_unit=by_unit,
        actor=actor,
        at=now,
        note=note,
    )
    record_events(
        [
            event(
                "schooling.dropout_attempt",
                case,
                actor,
                _("劝返：%(n)s") % {"n": note[:80]},
                {"note": note, "by_unit": by_unit},
                child_id=case.child_id,
                region=case.child.village_id,
                at=now,
            )
        ]
    )
    return row
