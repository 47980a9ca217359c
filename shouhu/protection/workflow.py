"""The protection case workflow in one table (DESIGN principle 4; API.md states; R6.6 time limits).

Each row: from state, to state, the capabilities that may make the move (held on the case, see
core/capabilities.py: the station's police respond, civil affairs assess and assist), the unit that
holds the case while the step is due, the data the step needs, and the policy key of its time limit
with the event the limit counts from. services.case_transition is the only code that moves a case, and it asks this
table; `allowed_transitions` and the deadlines shown to users come from here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from shouhu.protection.models import CaseState as S

POLICE = ("case.respond",)
CIVIL_AFFAIRS = ("case.assist",)


@dataclass(frozen=True)
class Step:
    src: tuple[str, ...]
    dst: str
    capabilities: tuple[str, ...]
    holder: str  # "station" (the police station) or "township" (the township government)
    needs: tuple[str, ...] = ()
    # Policy key of the time limit; the clock starts when the case entered one of `src` in this cycle
    # (for `reported`: the time of the first report).
    limit_key: str | None = None
    label: object = ""


TABLE: tuple[Step, ...] = (
    Step((S.REPORTED,), S.RECEIVED, POLICE, "station", (), "protection_limit_received_hours", _("受理报告")),
    Step(
        (S.RECEIVED,),
        S.RESPONDED,
        POLICE,
        "station",
        ("measures",),
        "protection_limit_responded_hours",
        _("应急处置"),
    ),
    Step((S.RECEIVED,), S.UNFOUNDED, POLICE, "station", ("note",), None, _("查无实据")),
    Step(
        (S.RESPONDED,),
        S.TOWNSHIP_NOTIFIED,
        POLICE,
        "station",
        (),
        "protection_limit_notified_hours",
        _("通报乡镇"),
    ),
    Step(
        (S.TOWNSHIP_NOTIFIED, S.REOPENED),
        S.ASSESSED,
        CIVIL_AFFAIRS,
        "township",
        ("assessment",),
        "protection_limit_assessed_hours",
        _("联合评估"),
    ),
    Step(
        (S.ASSESSED,),
        S.ASSISTING,
        CIVIL_AFFAIRS,
        "township",
        ("plan", "referrals"),
        "protection_limit_plan_hours",
        _("帮扶方案与转介"),
    ),
    Step((S.ASSISTING,), S.CLOSED, CIVIL_AFFAIRS, "township", ("note", "referrals_settled"), None, _("结案")),
    Step((S.ASSESSED,), S.CLOSED, CIVIL_AFFAIRS, "township", ("note",), None, _("评估后结案")),
    Step(
        (S.CLOSED, S.UNFOUNDED),
        S.REOPENED,
        (*CIVIL_AFFAIRS, *POLICE),
        "township",
        ("note",),
        None,
        _("重新启动"),
    ),
)

# The steps that carry a time limit, in the order of the chain.
TIMED: tuple[Step, ...] = tuple(s for s in TABLE if s.limit_key)
OPEN_STATES = tuple(s for s in S.values if s not in (S.CLOSED, S.UNFOUNDED))


def steps_from(state: str) -> list[Step]:
    return [s for s in TABLE if state in s.src]


def step(src: str, dst: str) -> Step | None:
    return next((s for s in TABLE if src in s.src and s.dst == dst), None)


def timed_step_for(dst: str) -> Step | None:
    return next((s for s in TIMED if s.dst == dst), None)


def holder_of(state: str) -> str:
    """Which unit holds a case in this state: the station until the township is notified."""
    if state in (S.REPORTED, S.RECEIVED, S.RESPONDED):
        return "station"
    return "township"
