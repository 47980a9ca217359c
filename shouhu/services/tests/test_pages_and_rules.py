"""Pages of the services module (the one tap after a visit, the supervisor's unmet list, the figures per
township, parents and poverty) and the pure matching rule (R8.3, R9.1, R9.2; issue 17)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from shouhu.care import services as care
from shouhu.registry.models import Child
from shouhu.services import rules, services
from shouhu.services.models import Need, Poverty

pytestmark = pytest.mark.django_db


def web(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_one_tap_need_from_the_visit_on_the_care_page(
    users: dict[str, Any], make_child: Any, provider: Any
) -> None:
    from django.utils import timezone

    child = make_child(name="一键")
    visit, _ = care.visit_log(
        actor=users["vw"],
        child=child,
        data={"occurred_at": timezone.now(), "kind": "routine", "findings": {}},
    )
    page = web(users["vw"]).get(f"/care/children/{child.pk}/").content.decode()
    assert f'action="/services/children/{child.pk}/needs/"' in page and "课后辅导" in page
    r = web(users["vw"]).post(
        f"/services/children/{child.pk}/needs/",
        {"type": "homework_help", "source": "visit", "visit": visit.pk},
    )
    need = Need.objects.get(child=child)
    assert r.status_code == 302 and r["Location"] == f"/services/needs/{need.pk}/"
    assert (need.type_id, need.source, need.visit_id, need.state) == (
        "homework_help",
        "visit",
        visit.pk,
        "open",
    )
    detail = web(users["vw"]).get(r["Location"]).content.decode()
    assert "县妇联" in detail  # offered to the providers that serve the village
    # the school sees the care page of its pupil? no: it never gets the buttons
    assert (
        web(users["sup_other"])
        .post(f"/services/children/{child.pk}/needs/", {"type": "counselling"})
        .status_code
        == 404
    )
    assert (
        web(users["social"])
        .post(f"/services/children/{child.pk}/needs/", {"type": "counselling"})
        .status_code
        == 403
    )


def test_supervisor_overview_links_to_the_lists(
    users: dict[str, Any], make_child: Any, provider: Any
) -> None:
    child = make_child(name="概览")
    services.need_record(actor=users["vw"], child=child, data={"type": "counselling", "source": "parent"})
    page = web(users["sup"]).get("/services/overview/").content.decode()
    assert "巴山镇" in page and "/services/needs/?village=500229102" in page
    listed = web(users["sup"]).get("/services/needs/?village=500229102").content.decode()
    assert "概览" in listed
    assert "概览" not in web(users["sup_other"]).get("/services/needs/").content.decode()


def test_poverty_category_feeds_the_key_target_test(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="建档", sex="1", assistance=[])
    assert Child.objects.get(pk=child.pk).key_target is False
    r = web(users["vw"]).post(
        f"/services/children/{child.pk}/parents/save/",
        {"what": "poverty", "registered": "on", "category": "education"},
    )
    assert r.status_code == 302
    child.refresh_from_db()
    assert Poverty.objects.get(child=child).category == "education"
    assert "poverty_registered" in child.assistance and child.key_target is True
    assert "hardship" in child.key_target_reasons
    web(users["vw"]).post(f"/services/children/{child.pk}/parents/save/", {"what": "poverty"})
    child.refresh_from_db()
    assert child.key_target is False and "poverty_registered" not in child.assistance
    # a category without 建档立卡 is refused with the reason, nothing written
    web(users["vw"]).post(
        f"/services/children/{child.pk}/parents/save/", {"what": "poverty", "category": "welfare"}
    )
    assert Poverty.objects.get(child=child).category == ""


def test_parents_page_records_a_wish_and_a_referral(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="意愿")
    c = web(users["vw"])
    c.post(
        f"/services/children/{child.pk}/parents/save/",
        {"what": "wish", "parent": "father", "kind": "return_home"},
    )
    c.post(
        f"/services/children/{child.pk}/parents/save/",
        {"what": "referral", "parent": "father", "kind": "employment", "agency": "县人力社保局"},
    )
    bad = c.post(
        f"/services/children/{child.pk}/parents/save/",
        {"what": "referral", "parent": "uncle", "kind": "employment", "agency": "x"},
        follow=True,
    )
    assert "uncle" in bad.content.decode()
    page = c.get(f"/services/children/{child.pk}/parents/").content.decode()
    assert "希望返乡就业创业" in page and "县人力社保局" in page and "办理中" in page


candidates = st.builds(
    rules.Candidate,
    provider_id=st.integers(1, 50),
    name=st.text(min_size=1, max_size=4),
    approved=st.booleans(),
    serves_village=st.booleans(),
    offers_type=st.booleans(),
    capacity=st.integers(0, 5),
    load=st.integers(0, 6),
)


@given(st.lists(candidates, max_size=8))
def test_matching_offers_only_eligible_providers_with_room(cs: list[rules.Candidate]) -> None:
    out = rules.match_providers(cs)
    eligible = [
        c
        for c in cs
        if c.approved and c.serves_village and c.offers_type and (c.capacity == 0 or c.load < c.capacity)
    ]
    assert sorted(m.provider_id for m in out) == sorted(c.provider_id for c in eligible)
    frees = [m.free for m in out]
    unlimited = [f for f in frees if f is None]
    assert frees[: len(unlimited)] == unlimited  # no stated limit first
    limited = [f for f in frees if f is not None]
    assert limited == sorted(limited, reverse=True) and all(f > 0 for f in limited)


def test_a_provider_enrols_only_children_whose_need_was_offered_to_it(
    users: dict[str, Any], make_child: Any, provider: Any, staff: Any
) -> None:
    from shouhu.services.models import Enrolment, Programme

    programme = Programme.objects.create(
        provider=provider, name="四点半课堂", service_type_id="homework_help", village_id="500229102201"
    )
    asked, other = make_child(name="要辅导"), make_child(name="未推送")
    need = services.need_record(
        actor=users["vw"], child=asked, data={"type": "homework_help", "source": "school"}
    )
    services.need_transition(actor=users["vw"], need=need, to="offered", provider=provider.pk)
    page = web(staff).get(f"/services/programmes/{programme.pk}/").content.decode()
    assert "要辅导" in page and "未推送" not in page
    web(staff).post(f"/services/programmes/{programme.pk}/", {"child": str(other.pk)})
    web(staff).post(f"/services/programmes/{programme.pk}/", {"child": str(asked.pk)})
    assert list(Enrolment.objects.filter(programme=programme).values_list("child__name", flat=True)) == [
        "要辅导"
    ]
    listing = web(staff).get("/services/providers/").content.decode()
    assert "活动 0 场" in listing and f"/services/programmes/{programme.pk}/" in listing
