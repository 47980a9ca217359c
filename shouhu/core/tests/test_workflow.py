"""The one workflow engine (DESIGN principle 4, R6.6): tables checked at declaration, refusals that say
what is possible, and deadlines computed from the times a record entered its states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import models
from hypothesis import given
from hypothesis import strategies as st

from shouhu.core.workflow import DAYS, Step, Workflow, WorkflowError, limit_delta, limits_from


class S(models.TextChoices):
    OPEN = "open", "登记"
    WORKING = "working", "办理中"
    DONE = "done", "办结"
    DROPPED = "dropped", "撤销"


def make(**overrides: object) -> Workflow:
    steps = (
        Step((S.OPEN,), S.WORKING, ("x.act",), "受理", limit_key="limit_start"),
        Step((S.WORKING,), S.DONE, ("x.act",), "办结", limit_key="limit_done", limit_unit=DAYS),
        Step((S.OPEN, S.WORKING), S.DROPPED, ("x.boss",), "撤销", needs=("note",)),
        Step((S.DONE, S.DROPPED), S.OPEN, ("x.boss",), "重新开放", needs=("note",)),
    )
    kwargs: dict[str, object] = {
        "name": "test",
        "states": S,
        "initial": S.OPEN,
        "steps": steps,
        "final": frozenset({S.DONE, S.DROPPED}),
    }
    kwargs.update(overrides)
    return Workflow(**kwargs)  # type: ignore[arg-type]


WF = make()
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_table_errors_are_caught_at_declaration() -> None:
    with pytest.raises(ValueError, match="unknown state"):
        make(steps=(Step((S.OPEN,), "nowhere", ("x.act",), "?"),))
    with pytest.raises(ValueError, match="declared twice"):
        make(steps=(*WF.steps, Step((S.OPEN,), S.WORKING, ("x.boss",), "again")))
    with pytest.raises(ValueError, match="cannot be reached"):
        make(steps=tuple(s for s in WF.steps if s.target != S.DROPPED))
    with pytest.raises(ValueError, match="no way out"):
        make(steps=WF.steps[:3], final=frozenset({S.DONE}))
    with pytest.raises(ValueError, match="names no capability"):
        Step((S.OPEN,), S.DONE, (), "无人可办")


def test_allowed_follows_the_capabilities_the_user_holds_on_the_record() -> None:
    assert [s.target for s in WF.allowed(S.OPEN, lambda caps: "x.act" in caps)] == [S.WORKING]
    assert [s.target for s in WF.allowed(S.OPEN, lambda caps: "x.boss" in caps)] == [S.DROPPED]
    assert WF.allowed(S.DONE, lambda caps: "x.act" in caps) == []
    assert WF.open_states == (S.OPEN, S.WORKING)


def test_refusals_say_what_is_possible() -> None:
    with pytest.raises(WorkflowError) as illegal:
        WF.check(S.OPEN, S.DONE, may=lambda caps: True)
    assert illegal.value.message_dict == {"to": ["不能从“登记”转为“办结”。可以转为：办理中、撤销。"]}
    with pytest.raises(WorkflowError) as unknown:
        WF.check(S.OPEN, "bogus", may=lambda caps: True)
    assert "不是有效的状态" in unknown.value.message_dict["to"][0]
    with pytest.raises(WorkflowError) as forbidden:
        WF.check(S.OPEN, S.DROPPED, may=lambda caps: "x.act" in caps, who=lambda step: "乡镇")
    assert forbidden.value.message_dict == {"to": ["您无权执行“撤销”：该步骤由乡镇办理。"]}
    with pytest.raises(WorkflowError) as no_note:
        WF.check(S.OPEN, S.DROPPED, may=lambda caps: True, note="  ")
    assert no_note.value.field_name == "note"
    assert WF.check(S.OPEN, S.DROPPED, may=lambda caps: True, note="重复登记").target == S.DROPPED


def test_deadlines_count_from_entering_a_source_state() -> None:
    limits = limits_from(WF, {"limit_start": 1, "limit_done": 3}.__getitem__)
    assert limits == {"limit_start": timedelta(hours=1), "limit_done": timedelta(days=3)}
    running = WF.deadlines(entries=[(S.OPEN, T0)], limits=limits, now=T0 + timedelta(minutes=30))
    assert [(d.target, d.due, d.met) for d in running] == [
        (S.WORKING, T0 + timedelta(hours=1), None),
        (S.DONE, None, None),
    ]
    late = WF.deadlines(entries=[(S.OPEN, T0)], limits=limits, now=T0 + timedelta(hours=2))
    assert late[0].met is False and late[0].overdue
    done = WF.deadlines(
        entries=[(S.OPEN, T0), (S.WORKING, T0 + timedelta(minutes=50))],
        limits=limits,
        now=T0 + timedelta(days=10),
    )
    assert done[0].met is True and not done[0].overdue
    assert done[1].met is False and done[1].due == T0 + timedelta(minutes=50, days=3)
    ended = WF.deadlines(
        entries=[(S.OPEN, T0), (S.WORKING, T0 + timedelta(minutes=50)), (S.DROPPED, T0 + timedelta(days=1))],
        limits=limits,
        now=T0 + timedelta(days=10),
        ended_at=T0 + timedelta(days=1),
    )
    assert ended[1].met is None, "a record dropped before the limit missed nothing"


@given(
    start_after=st.integers(min_value=0, max_value=10_000),
    done_after=st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
    now_after=st.integers(min_value=0, max_value=20_000),
    limit_minutes=st.integers(min_value=1, max_value=5_000),
)
def test_a_step_is_met_exactly_when_done_by_its_due_time(
    start_after: int, done_after: int | None, now_after: int, limit_minutes: int
) -> None:
    entries = [(S.OPEN, T0 + timedelta(minutes=start_after))]
    if done_after is not None:
        entries.append((S.WORKING, entries[0][1] + timedelta(minutes=done_after)))
    now = entries[-1][1] + timedelta(minutes=now_after)
    limits = {"limit_start": timedelta(minutes=limit_minutes), "limit_done": timedelta(days=1)}
    first = WF.deadlines(entries=entries, limits=limits, now=now)[0]
    due = entries[0][1] + timedelta(minutes=limit_minutes)
    assert first.due == due
    if done_after is not None:
        assert first.met is (entries[1][1] <= due)
    else:
        assert first.met is (None if now <= due else False)


def test_limit_units() -> None:
    assert limit_delta("1.5", "hours") == timedelta(minutes=90)
    assert limit_delta(2, DAYS) == timedelta(days=2)
    with pytest.raises(ValueError):
        Step((S.OPEN,), S.DONE, ("x",), "?", limit_unit="weeks")
