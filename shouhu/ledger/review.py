"""Fill → review → approve for a township's ledger (R1.9; DESIGN principle 4: the workflow is one table).

A village (or the township) fills the ledger and submits it; the township supervisor reviews it (or
returns it); the county approves it (or returns it); an approved ledger can be reopened for the next
round. Each transition records who, when and why, and an event on the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.core.access import access_of, can
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import Region, User
from shouhu.ledger.models import LedgerReview, ReviewState, ReviewStep


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    capability: str  # held over the township, or (a village's filler) over a village inside it
    label: object
    needs_note: bool = False


S = ReviewState
FILLERS = "ledger.submit"
TOWNSHIP = "ledger.review"
COUNTY = "ledger.approve"
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.FILLING, S.SUBMITTED, FILLERS, gettext_lazy("填报完成，提交乡镇审核")),
    Transition(S.SUBMITTED, S.REVIEWED, TOWNSHIP, gettext_lazy("乡镇审核通过，报县审批")),
    Transition(S.SUBMITTED, S.FILLING, TOWNSHIP, gettext_lazy("退回修改"), needs_note=True),
    Transition(S.REVIEWED, S.APPROVED, COUNTY, gettext_lazy("县审批通过")),
    Transition(S.REVIEWED, S.FILLING, COUNTY, gettext_lazy("退回乡镇"), needs_note=True),
    Transition(S.APPROVED, S.FILLING, COUNTY, gettext_lazy("重新开放填报"), needs_note=True),
)


def _covers(user: User, township: Region, capability: str) -> bool:
    """The user holds `capability` over the township, or (submitting) over a village inside it."""
    if can(user, capability, township.code):
        return True
    held = access_of(user).prefixes(capability)
    return capability == FILLERS and any(p.startswith(township.prefix) for p in held)


def allowed(user: User, review: LedgerReview) -> list[Transition]:
    return [
        t for t in TRANSITIONS if t.source == review.state and _covers(user, review.township, t.capability)
    ]


def review_of(township: Region) -> LedgerReview:
    review, _created = LedgerReview.objects.get_or_create(township=township)
    return review


@transaction.atomic
def transition(*, actor: User, township: Region, to: str, note: str = "") -> LedgerReview:
    """Move the township's ledger to `to`; refuses an illegal or unauthorised move with the reason."""
    review = review_of(township)
    review = LedgerReview.objects.select_for_update().get(pk=review.pk)
    options = {t.target: t for t in allowed(actor, review)}
    t = options.get(to)
    if t is None:
        raise ValidationError(
            {"to": [_("当前状态为“%(s)s”，您不能执行该操作。") % {"s": ReviewState(review.state).label}]}
        )
    if t.needs_note and not note.strip():
        raise ValidationError({"note": [_("退回或重新开放须写明原因。")]})
    before = review.state
    review.state = to
    review.version += 1
    review.updated_at = timezone.now()
    review.save()
    ReviewStep.objects.create(
        review=review, from_state=before, to_state=to, actor=actor, note=note.strip()[:500]
    )
    record_events(
        [
            EventSpec(
                verb="ledger.review",
                subject_type="ledger.review",
                subject_id=township.code,
                actor=actor,
                region_code=township.code,
                summary=str(t.label),
                before={"state": before},
                after={"state": to, "note": note.strip()[:500]},
            )
        ]
    )
    return review
