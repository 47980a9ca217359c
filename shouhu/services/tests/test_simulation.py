"""Issue 17 check, time frozen: a need found in a visit is matched, accepted, delivered and closed with
the date of each step; an unmet need joins the supervisor's list on the right day; a father referred to
a job comes home and the child's exit from the ledger is counted as 父母返乡就业 (R8.3, R9.1)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from shouhu.care import services as care
from shouhu.registry.models import Child, StatusPeriod
from shouhu.services import overview, selectors, services, source
from shouhu.services.models import Enrolment, NeedState, ParentReferral

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(m: int, d: int, h: int = 10) -> datetime:
    return datetime(2027, m, d, h, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def roles_since_2020(users: dict[str, Any]) -> None:
    from shouhu.core.models import RoleAssignment

    RoleAssignment.objects.update(starts_at=datetime(2020, 1, 1, tzinfo=TZ))


def test_a_need_found_in_a_visit_is_met_on_time(
    users: dict[str, Any], make_child: Any, provider: Any, staff: Any
) -> None:
    vw, sup = users["vw"], users["sup"]
    from shouhu.services.models import Programme

    programme = Programme.objects.create(
        provider=provider, name="四点半课堂", service_type_id="homework_help", village_id="500229102201"
    )
    with time_machine.travel(at(3, 1), tick=False):
        child = make_child(name="小雨")
        visit, _ = care.visit_log(
            actor=vw, child=child, data={"occurred_at": at(3, 1, 9), "kind": "routine", "findings": {}}
        )
        need = services.need_record(
            actor=vw, child=child, data={"type": "homework_help", "source": "visit", "visit": visit.pk}
        )
        # the provider sees nothing until the need is offered to it
        assert not selectors.visible_needs(staff).exists()
        assert selectors.allowed_transitions(vw, need) == ["offered", "unmet"]
    with time_machine.travel(at(3, 2), tick=False):
        with pytest.raises(ValidationError) as refused:
            services.need_transition(
                actor=vw, need=need, to="offered", provider=users["social"].organisation_id
            )
        assert "可选：县妇联" in str(refused.value)
        assert [m.provider_id for m in selectors.matches_for(need)] == [provider.pk]
        services.need_transition(actor=vw, need=need, to="offered", provider=provider.pk)
        assert list(selectors.visible_needs(staff)) == [need]
        # the village cannot accept for the provider
        with pytest.raises(ValidationError):
            services.need_transition(actor=vw, need=need, to="accepted")
    with time_machine.travel(at(3, 4), tick=False):
        services.need_transition(actor=staff, need=need, to="accepted", programme=programme.pk)
        assert Enrolment.objects.filter(programme=programme, child=child).exists()
    with time_machine.travel(at(3, 20), tick=False):
        services.need_transition(actor=staff, need=need, to="delivered", note="每周辅导三次")
    with time_machine.travel(at(3, 21), tick=False):
        services.need_transition(actor=vw, need=need, to="closed")
        need.refresh_from_db()
        assert need.state == NeedState.CLOSED and need.provider_id == provider.pk
        steps = [(s.to_state, s.at) for s in need.steps.all()]
        assert steps == [
            ("open", at(3, 1)),
            ("offered", at(3, 2)),
            ("accepted", at(3, 4)),
            ("delivered", at(3, 20)),
            ("closed", at(3, 21)),
        ]
        deadlines = {d.target: (d.due, d.met) for d in selectors.deadlines(need)}
        assert deadlines == {
            "offered": (at(3, 4), True),  # 3 days from recording
            "accepted": (at(3, 7), True),  # 5 days from the offer
            "delivered": (at(4, 3), True),  # 30 days from acceptance
        }
        assert not selectors.overdue_needs(sup).exists()
        assert selectors.allowed_transitions(vw, need) == []


def test_an_unmet_need_alerts_on_the_right_day(users: dict[str, Any], make_child: Any, provider: Any) -> None:
    vw, sup, sup_other = users["vw"], users["sup"], users["sup_other"]
    with time_machine.travel(at(5, 1), tick=False):
        child = make_child(name="小林")
        need = services.need_record(actor=vw, child=child, data={"type": "counselling", "source": "school"})
    with time_machine.travel(at(5, 8), tick=False):
        services.need_transition(actor=vw, need=need, to="offered", provider=provider.pk)
    with time_machine.travel(datetime(2027, 5, 15, 9, 59, tzinfo=TZ), tick=False):
        assert not selectors.overdue_needs(sup).exists()  # 14 days not yet up
        # the offer is past its 5-day acceptance limit: that step is overdue already
        late = [d for d in selectors.deadlines(need) if d.overdue]
        assert [d.target for d in late] == ["accepted"]
    with time_machine.travel(at(5, 15), tick=False):
        assert list(selectors.overdue_needs(sup)) == [need]
        assert not selectors.overdue_needs(sup_other).exists()  # another township's supervisor
        rows = {r["region"]: r for r in overview.township_rows(sup)["rows"]}
        assert rows["500229102000"]["overdue"] == 1 and rows["500229102000"]["waiting"] == 1
    with time_machine.travel(at(5, 16), tick=False):
        services.need_transition(actor=vw, need=need, to="unmet", note="无人承接，转县民政局协调")
        assert not selectors.overdue_needs(sup).exists()
        assert overview.township_rows(sup)["total"]["unmet"] == 1


def test_a_father_referred_to_a_job_comes_home(users: dict[str, Any], make_child: Any) -> None:
    vw, sup = users["vw"], users["sup"]
    with time_machine.travel(at(6, 1), tick=False):
        child = make_child(name="小山")
        assert Child.objects.get(pk=child.pk).lb_status is True
        source.wish_record(
            actor=vw, child=child, data={"parent": "father", "kind": "return_home", "note": "找到活就回"}
        )
        ref = source.referral_create(
            actor=vw, child=child, data={"parent": "father", "kind": "employment", "agency": "县人力社保局"}
        )
    with time_machine.travel(at(7, 10), tick=False):
        with pytest.raises(ValidationError):  # a date in the future is refused
            source.referral_outcome(actor=vw, referral=ref, outcome="returned", on=date(2027, 7, 11))
        source.referral_outcome(actor=vw, referral=ref, outcome="returned", on=date(2027, 7, 8))
        child.refresh_from_db()
        assert child.lb_status is False
        father = child.parents.get(relation="father")
        assert father.away_for_work is False
        period = StatusPeriod.objects.get(child=child, left_behind=True)
        assert period.end == date(2027, 7, 8)
        assert ParentReferral.objects.get(pk=ref.pk).outcome_on == date(2027, 7, 8)
        assert overview.exits_by_reason(sup) == [("500229102", "父母返乡就业", 1)]
        total = overview.township_rows(sup)["total"]
        assert total["exit_returned"] == 1 and total["ref_returned"] == 1
