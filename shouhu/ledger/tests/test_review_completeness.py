"""Fill → review → approve (who and when, illegal moves refused) and completeness figures (R1.9, R1.10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from shouhu.core.models import Event, Region
from shouhu.ledger import completeness, review
from shouhu.ledger.models import ReviewState

pytestmark = pytest.mark.django_db
BASHAN = "500229102000"


def test_fill_review_approve_with_who_and_when(users: dict[str, Any]) -> None:
    town = Region.objects.get(code=BASHAN)
    rv = review.review_of(town)
    assert rv.state == ReviewState.FILLING
    with pytest.raises(ValidationError):
        review.transition(actor=users["county"], township=town, to="approved")  # not yet reviewed
    review.transition(actor=users["vw"], township=town, to="submitted")
    with pytest.raises(ValidationError):
        review.transition(
            actor=users["sup_other"], township=town, to="reviewed"
        )  # another township's supervisor
    with pytest.raises(ValidationError, match="原因"):
        review.transition(actor=users["sup"], township=town, to="filling")  # return needs a note
    review.transition(actor=users["sup"], township=town, to="reviewed")
    with pytest.raises(ValidationError):
        review.transition(actor=users["sup"], township=town, to="approved")  # only the county approves
    rv = review.transition(actor=users["county"], township=town, to="approved")
    assert rv.state == ReviewState.APPROVED
    steps = list(rv.steps.values_list("from_state", "to_state", "actor__username"))
    assert steps == [
        ("filling", "submitted", "vw_102201"),
        ("submitted", "reviewed", "sup_bashan"),
        ("reviewed", "approved", "county"),
    ]
    assert all(s.at is not None for s in rv.steps.all())
    assert Event.objects.filter(verb="ledger.review", subject_id=BASHAN).count() == 3


def test_allowed_transitions_per_role(users: dict[str, Any]) -> None:
    town = Region.objects.get(code=BASHAN)
    rv = review.review_of(town)
    assert [t.target for t in review.allowed(users["vw"], rv)] == ["submitted"]
    assert review.allowed(users["vw_other"], rv) == []
    assert review.allowed(users["nobody"], rv) == []
    assert review.allowed(users["county"], rv) == []


def test_completeness_per_village_and_township(users: dict[str, Any], make_child: Any) -> None:
    from shouhu.registry.models import Child

    make_child(name="完整", village_contact_name="赵主任")
    make_child(name="缺项", address="", guardianship_rating="")
    c = make_child(
        name="坏号", village="500229102202", actor=users["vw_same_town"], village_contact_name="赵"
    )
    # Legacy data: an ID stored before validation existed (written past the service on purpose).
    Child.objects.filter(pk=c.pk).update(id_number=None)
    Child.objects.filter(pk=c.pk).update(
        id_number=__import__("shouhu.core.crypto", fromlist=["encrypt"]).encrypt("500229201501010000")
    )
    make_child(name="龙", village="500229201201", actor=users["vw_other"])
    towns = completeness.figures(users["sup"])
    assert [t.code for t in towns] == [BASHAN]
    t = towns[0]
    assert t.children == 3 and len(t.villages) == 2
    v1 = next(v for v in t.villages if v.code == "500229102201")
    assert v1.children == 2 and v1.missing_fields == 1  # 缺项: no address, no rating, no contact
    v2 = next(v for v in t.villages if v.code == "500229102202")
    assert v2.invalid_ids == 1
    assert t.no_guardian == 3  # no carer recorded for anyone
    assert t.no_visit in (3, None)
    # the school census (R1.10): all three are of school age and on no school's roster
    assert t.census == 3 and sum(v.census or 0 for v in t.villages) == 3
    assert completeness.figures(users["nobody"]) == []
    assert sum(x.children for x in completeness.figures(users["county"])) == 4


def test_completeness_counts_guardians_and_visits(users: dict[str, Any], make_child: Any) -> None:
    from shouhu.registry.services import guardian_set

    c = make_child(name="有人管")
    guardian_set(actor=users["vw"], child=c, role="carer", data={"name": "王奶奶", "relationship": "62"})
    f = completeness.figures(users["vw"])[0]
    assert f.no_guardian == 0 and f.children == 1
