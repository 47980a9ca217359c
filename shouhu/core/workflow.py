"""One workflow engine for every chain of the plan (DESIGN principle 4; R6.6 time limits).

A workflow is declared once, as a table: its states (a `TextChoices`), the state a record starts in,
and its steps — from which states, to which state, which capabilities may take the step (any one of
them, held on the record: the owner decides with `can()`), what data the step needs and the policy
key of its time limit. The engine is pure: it answers which steps a user may take now, refuses an
illegal or unauthorised move with a message that says what is possible, and computes each timed
step's deadline from the times the record entered its states. Owners (protection cases, ledger review,
dropout cases, service needs) keep their own records of each move and call their services to write
them in one transaction with an event; the table, the refusals and the deadlines come from here.

A table is checked when it is declared: unknown states, a step declared twice, a state that cannot be
reached from the start, or an open state with no way out are programming errors, raised at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

# A step's time limit is a policy parameter in one of these units.
HOURS = "hours"
DAYS = "days"
UNITS = (HOURS, DAYS)


class WorkflowError(ValidationError):
    """An illegal, unauthorised or incomplete move: `{field: [message]}`, shown as a form or API error."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__({field_name: [message]})
        self.field_name = field_name
        self.message_text = message


@dataclass(frozen=True)
class Step:
    """One allowed move. `capabilities`: any one of them, held on the record, allows the step."""

    sources: tuple[str, ...]
    target: str
    capabilities: tuple[str, ...]
    label: Any  # a lazy translation: what the button says
    needs: tuple[str, ...] = ()  # data the step requires; "note" is checked here, the rest by the owner
    limit_key: str | None = None  # PolicyParameter key of the time limit, counted from entering a source
    limit_unit: str = HOURS

    def __post_init__(self) -> None:
        if self.limit_unit not in UNITS:
            raise ValueError(f"unknown time-limit unit {self.limit_unit!r}")
        if not self.capabilities:
            raise ValueError(f"step to {self.target!r} names no capability: nobody could take it")


@dataclass(frozen=True)
class Deadline:
    """A timed step of one record: when it falls due and whether it was met (R6.6)."""

    target: str
    label: str
    due: datetime | None  # None: the clock has not started (an earlier step is not done yet)
    done_at: datetime | None
    met: bool | None  # True met, False missed (done late, or overdue now), None running or not started

    @property
    def overdue(self) -> bool:
        return self.met is False and self.done_at is None


@dataclass(frozen=True)
class Workflow:
    name: str
    states: type[models.TextChoices]
    initial: str
    steps: tuple[Step, ...]
    final: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _check_table(self)

    # --- the table ----------------------------------------------------------------------------------

    def label(self, state: str) -> str:
        try:
            return str(self.states(state).label)
        except ValueError:
            return state

    @property
    def open_states(self) -> tuple[str, ...]:
        return tuple(s for s in self.states.values if s not in self.final)

    @property
    def timed(self) -> tuple[Step, ...]:
        """The steps with a time limit, in table order."""
        return tuple(s for s in self.steps if s.limit_key)

    @property
    def limit_keys(self) -> dict[str, str]:
        """Policy key → unit of every time limit this workflow uses."""
        return {s.limit_key: s.limit_unit for s in self.timed if s.limit_key}

    def steps_from(self, state: str) -> list[Step]:
        return [s for s in self.steps if state in s.sources]

    def step(self, source: str, target: str) -> Step | None:
        return next((s for s in self.steps if source in s.sources and s.target == target), None)

    # --- a user and a record --------------------------------------------------------------------------

    def allowed(self, state: str, may: Callable[[tuple[str, ...]], bool]) -> list[Step]:
        """The steps out of `state` this user may take now. `may(capabilities)` answers for the record
        (the owner asks `can()` with the record, so the reach of the user's roles applies)."""
        return [s for s in self.steps_from(state) if may(s.capabilities)]

    def check(
        self,
        state: str,
        to: str,
        *,
        may: Callable[[tuple[str, ...]], bool],
        note: str = "",
        who: Callable[[Step], str] | None = None,
    ) -> Step:
        """The step from `state` to `to`, or a `WorkflowError` that says why not and what is possible.
        `who(step)` may name the unit that takes a step, for the refusal's message."""
        if to not in self.states.values:
            raise WorkflowError(
                "to",
                _("“%(to)s”不是有效的状态。可以转为：%(next)s。")
                % {"to": to, "next": self._next_labels(state)},
            )
        step = self.step(state, to)
        if step is None:
            raise WorkflowError(
                "to",
                _("不能从“%(a)s”转为“%(b)s”。可以转为：%(next)s。")
                % {"a": self.label(state), "b": self.label(to), "next": self._next_labels(state)},
            )
        if not may(step.capabilities):
            holder = who(step) if who is not None else ""
            if holder:
                message = _("您无权执行“%(step)s”：该步骤由%(who)s办理。") % {
                    "step": step.label,
                    "who": holder,
                }
            else:
                message = _("您无权执行“%(step)s”。") % {"step": step.label}
            raise WorkflowError("to", message)
        if "note" in step.needs and not (note or "").strip():
            raise WorkflowError("note", _("“%(step)s”须写明理由。") % {"step": step.label})
        return step

    def _next_labels(self, state: str) -> str:
        return "、".join(self.label(s.target) for s in self.steps_from(state)) or _("无（已办结）")

    # --- time limits ------------------------------------------------------------------------------------

    def deadlines(
        self,
        *,
        entries: Sequence[tuple[str, datetime]],
        limits: Mapping[str, timedelta],
        now: datetime,
        ended_at: datetime | None = None,
    ) -> list[Deadline]:
        """Each timed step of the current cycle. `entries` are (state, time entered) in order, the
        first being the state the cycle started in. A step's clock starts when the record first entered
        one of its sources in this cycle; it is met if its target was entered by the due time. A record
        that ended at `ended_at` misses no step that was still running then (R6.6)."""
        clock = min(now, ended_at) if ended_at is not None else now
        entered: dict[str, datetime] = {}
        for state, at in entries:
            entered.setdefault(state, at)
        out: list[Deadline] = []
        for s in self.timed:
            anchor = next((entered[src] for src in s.sources if src in entered), None)
            done = entered.get(s.target)
            limit = limits.get(s.limit_key or "")
            if anchor is None or limit is None:
                out.append(Deadline(s.target, str(s.label), None, done, None))
                continue
            due = anchor + limit
            met: bool | None = (done <= due) if done is not None else (False if clock > due else None)
            out.append(Deadline(s.target, str(s.label), due, done, met))
        return out


def limit_delta(value: Any, unit: str) -> timedelta:
    """A policy number as a duration (hours or calendar days)."""
    number = float(value)
    return timedelta(hours=number) if unit == HOURS else timedelta(days=number)


def limits_from(workflow: Workflow, read: Callable[[str], Any]) -> dict[str, timedelta]:
    """The workflow's time limits read through `read(key)` (normally `core.policy.param`)."""
    return {key: limit_delta(read(key), unit) for key, unit in workflow.limit_keys.items()}


def _check_table(wf: Workflow) -> None:
    states = set(wf.states.values)
    problems: list[str] = []
    if wf.initial not in states:
        problems.append(f"initial state {wf.initial!r} is not a state")
    problems += [f"final state {s!r} is not a state" for s in wf.final if s not in states]
    seen: set[tuple[str, str]] = set()
    for s in wf.steps:
        for src in s.sources:
            if src not in states:
                problems.append(f"step to {s.target!r} starts from unknown state {src!r}")
            if (src, s.target) in seen:
                problems.append(f"step {src!r} → {s.target!r} declared twice")
            seen.add((src, s.target))
        if s.target not in states:
            problems.append(f"step goes to unknown state {s.target!r}")
    reachable = _reachable(wf.initial, wf.steps)
    problems += [f"state {s!r} cannot be reached from {wf.initial!r}" for s in sorted(states - reachable)]
    stuck = [s for s in sorted(states - set(wf.final)) if not any(s in st.sources for st in wf.steps)]
    problems += [f"open state {s!r} has no way out" for s in stuck]
    if problems:
        raise ValueError(f"workflow {wf.name!r}: " + "; ".join(problems))


def _reachable(start: str, steps: Iterable[Step]) -> set[str]:
    steps = list(steps)
    seen = {start}
    frontier = [start]
    while frontier:
        state = frontier.pop()
        for s in steps:
            if state in s.sources and s.target not in seen:
                seen.add(s.target)
                frontier.append(s.target)
    return seen
