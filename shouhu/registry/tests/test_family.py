"""Agreement (R1.4) and household plan (R1.5) services: validation that says what to fix, events."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from shouhu.core.models import Event
from shouhu.registry.family import (
    agreement_add,
    agreement_status,
    household_attach,
    household_member_add,
    plan_item_add,
    plan_item_done,
)
from shouhu.registry.models import Agreement
from shouhu.registry.services import guardian_set

TODAY = date(2026, 3, 1)


def _entrusted(users, child, **checks):
    base = dict(
        name="王奶奶",
        relationship="62",
        birth_date=date(1960, 1, 1),
        phone="13912345678",
        full_civil_capacity=True,
        no_violence_history=True,
        no_addiction=True,
        no_prior_neglect=True,
    )
    base.update(checks)
    return guardian_set(actor=users["vw"], child=child, role="entrusted", data=base)


def _agreement_data(**over):
    data = dict(
        principals="张大山、李小红",
        signed_on=date(2026, 2, 1),
        valid_from=date(2026, 2, 1),
        valid_to=date(2027, 1, 31),
        responsibilities=["safety"],
        negatives=["no_living_alone"],
        notice_school_on=date(2026, 2, 3),
        notice_village_on=date(2026, 2, 3),
    )
    data.update(over)
    return data


@pytest.fixture
def lists(db):
    from shouhu.core.models import Code

    resp = Code.objects.filter(list="agreement_responsibility").values_list("code", flat=True).first()
    neg = Code.objects.filter(list="agreement_negative").values_list("code", flat=True).first()
    assert resp and neg, "agreement lists must be seeded from code_lists.json"
    return resp, neg


def test_agreement_requires_an_eligible_entrusted_guardian(users, make_child, lists):
    child = make_child()
    resp, neg = lists
    with pytest.raises(ValidationError) as e:
        agreement_add(
            actor=users["vw"],
            child=child,
            data=_agreement_data(responsibilities=[resp], negatives=[neg]),
            today=TODAY,
        )
    assert "请先登记受委托监护人" in str(e.value.message_dict["guardian"])
    _entrusted(users, child, no_addiction=None)
    with pytest.raises(ValidationError) as e:
        agreement_add(
            actor=users["vw"],
            child=child,
            data=_agreement_data(responsibilities=[resp], negatives=[neg]),
            today=TODAY,
        )
    assert "尚未核实" in " ".join(e.value.message_dict["guardian"])
    assert Agreement.objects.count() == 0


def test_agreement_recorded_with_lists_notices_and_event(users, make_child, lists):
    child = make_child()
    resp, neg = lists
    _entrusted(users, child)
    before = Event.objects.count()
    a = agreement_add(
        actor=users["vw"],
        child=child,
        data=_agreement_data(responsibilities=[resp], negatives=[neg]),
        today=TODAY,
    )
    assert a.guardian.name == "王奶奶" and a.responsibilities == [resp] and a.negatives == [neg]
    assert Event.objects.count() == before + 1
    assert Event.objects.latest("seq").verb == "agreement.added"
    assert agreement_status(a, date(2027, 1, 31)) == "valid"
    assert agreement_status(a, date(2027, 2, 1)) == "expired"
    assert agreement_status(a, date(2026, 1, 1)) == "not_started"


def test_agreement_bad_dates_and_codes_name_the_fields(users, make_child, lists):
    child = make_child()
    _entrusted(users, child)
    with pytest.raises(ValidationError) as e:
        agreement_add(
            actor=users["vw"],
            child=child,
            today=TODAY,
            data=_agreement_data(
                valid_to=date(2026, 1, 1), responsibilities=["nope"], negatives=[], signed_on=date(2026, 5, 1)
            ),
        )
    errors = e.value.message_dict
    assert set(errors) >= {"valid_to", "responsibilities", "negatives", "signed_on"}
    assert "nope" in errors["responsibilities"][0]


def test_household_and_plan(users, make_child):
    child = make_child()
    with pytest.raises(ValidationError):
        plan_item_add(actor=users["vw"], child=child, data={"measure": "x", "owner": "y"}, today=TODAY)
    h = household_attach(actor=users["vw"], child=child, head_name="张大山", address="梨山村3组")
    assert h.village_id == child.village_id
    household_member_add(actor=users["vw"], child=child, data={"name": "王奶奶", "relationship": "62"})
    with pytest.raises(ValidationError):
        household_member_add(actor=users["vw"], child=child, data={"name": "某某", "relationship": "zz"})
    item = plan_item_add(
        actor=users["vw"],
        child=child,
        today=TODAY,
        data={"measure": "落实低保", "owner": "巴山镇民政办", "due_date": date(2026, 4, 1)},
    )
    with pytest.raises(ValidationError):
        plan_item_done(actor=users["vw"], child=child, item_id=item.pk, done_on=date(2026, 4, 1), today=TODAY)
    plan_item_done(actor=users["vw"], child=child, item_id=item.pk, done_on=TODAY, today=TODAY)
    item.refresh_from_db()
    assert item.done_on == TODAY
    verbs = list(Event.objects.filter(child_id=str(child.pk)).values_list("verb", flat=True))
    assert verbs[-4:] == ["household.set", "household.member_added", "plan.item_added", "plan.item_done"]
