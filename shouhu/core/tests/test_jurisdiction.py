"""Who sees which children (R11.1): scope_of for every demo role, time-limited assignments, inactive users,
minimal prefixes, school staff by organisation. Everything fails closed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shouhu.conftest import BASHAN_VILLAGE, BASHAN_VILLAGE_2, LONGTIAN_VILLAGE
from shouhu.core.jurisdiction import EMPTY, Scope, child_q, region_allowed, scope_of
from shouhu.core.models import Organisation, Region, RoleAssignment, User
from shouhu.registry.models import Child
from shouhu.registry.selectors import get_child, visible_children

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """A new object for the user: scope_of caches the scope on the object it is given."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def kids(users: dict[str, Any], make_child: Any) -> dict[str, Child]:
    county = users["county"]
    return {
        "a": make_child(actor=county, village=BASHAN_VILLAGE, name="巴山甲"),
        "b": make_child(actor=county, village=BASHAN_VILLAGE_2, name="巴山乙"),
        "l": make_child(actor=county, village=LONGTIAN_VILLAGE, name="龙田丙"),
    }


def seen(user: User) -> set[str]:
    return {c.name for c in visible_children(fresh(user))}


ALL = {"巴山甲", "巴山乙", "龙田丙"}
BASHAN = {"巴山甲", "巴山乙"}
EXPECTED_SEEN = {
    "admin": set(),  # separated admin role (R11.4): configures, reads no child file
    "county": ALL,
    "sup": BASHAN,
    "sup_other": {"龙田丙"},
    "vw": {"巴山甲"},
    "vw_same_town": {"巴山乙"},
    "vw_other": {"龙田丙"},
    "police": BASHAN,
    "police_other": {"龙田丙"},
    "school": set(),  # nobody is at its school yet
    "edu": ALL,
    "doctor": set(),
    "social": set(),
    "leader": set(),
    "auditor": set(),
    "nobody": set(),
}


@pytest.mark.parametrize("who", list(EXPECTED_SEEN))
def test_who_sees_which_children(users: dict[str, Any], kids: dict[str, Child], who: str) -> None:
    assert seen(users[who]) == EXPECTED_SEEN[who]


@pytest.mark.parametrize("who", list(EXPECTED_SEEN))
def test_out_of_scope_is_not_found(users: dict[str, Any], kids: dict[str, Child], who: str) -> None:
    from django.http import Http404

    user = fresh(users[who])
    for child in kids.values():
        if child.name in EXPECTED_SEEN[who]:
            assert get_child(user, child.pk).pk == child.pk
        else:
            with pytest.raises(Http404):
                get_child(user, child.pk)


EXPECTED_SCOPE = {
    # who: (view prefixes, edit prefixes, identifier prefixes, roles)
    "admin": ((), (), (), {"system_admin"}),
    "county": (("500229",), ("500229",), ("500229",), {"county_admin"}),
    "sup": (("500229102",), ("500229102",), ("500229102",), {"township_supervisor"}),
    "sup_other": (("500229201",), ("500229201",), ("500229201",), {"township_supervisor"}),
    "vw": ((BASHAN_VILLAGE,), (BASHAN_VILLAGE,), (BASHAN_VILLAGE,), {"village_worker"}),
    "vw_same_town": ((BASHAN_VILLAGE_2,), (BASHAN_VILLAGE_2,), (BASHAN_VILLAGE_2,), {"village_worker"}),
    "vw_other": ((LONGTIAN_VILLAGE,), (LONGTIAN_VILLAGE,), (LONGTIAN_VILLAGE,), {"village_worker"}),
    "police": (("500229102",), (), ("500229102",), {"police"}),
    "police_other": (("500229201",), (), ("500229201",), {"police"}),
    "school": ((), (), (), {"school_staff"}),
    "edu": (("500229",), (), (), {"education_bureau"}),
    "doctor": ((), (), (), {"medical"}),
    "social": ((), (), (), {"service_provider"}),
    "leader": ((), (), (), {"leadership_viewer"}),
    "auditor": ((), (), (), {"auditor"}),
    "nobody": ((), (), (), set()),
}


@pytest.mark.parametrize("who", list(EXPECTED_SCOPE))
def test_scope_of_each_demo_role(users: dict[str, Any], who: str) -> None:
    scope = scope_of(fresh(users[who]))
    view, edit, ident, roles = EXPECTED_SCOPE[who]
    assert scope.view_prefixes == view
    assert scope.edit_prefixes == edit
    assert scope.identifier_prefixes == ident
    assert scope.roles == frozenset(roles)
    assert scope.administers == (who == "admin")
    assert scope.reads_audit == (who == "auditor")
    assert scope.can_create_children == bool(edit)
    if who == "school":
        school = Organisation.objects.get(name="巴山中心小学")
        assert scope.school_ids == (school.pk,)
        assert scope.sees_children
    else:
        assert scope.school_ids == ()
        assert scope.sees_children == bool(view)


def test_edit_and_identifier_checks(users: dict[str, Any]) -> None:
    vw = scope_of(fresh(users["vw"]))
    assert vw.may_edit_in(BASHAN_VILLAGE) and not vw.may_edit_in(BASHAN_VILLAGE_2)
    assert region_allowed(vw, BASHAN_VILLAGE, for_edit=True)
    assert not region_allowed(vw, LONGTIAN_VILLAGE, for_edit=False)
    police = scope_of(fresh(users["police"]))
    assert region_allowed(police, BASHAN_VILLAGE_2, for_edit=False)
    assert not region_allowed(police, BASHAN_VILLAGE_2, for_edit=True)
    assert police.sees_identifiers_in(BASHAN_VILLAGE) and not police.sees_identifiers_in(LONGTIAN_VILLAGE)
    edu = scope_of(fresh(users["edu"]))
    assert not edu.sees_identifiers_in(BASHAN_VILLAGE)


def test_expired_assignment_grants_nothing(users: dict[str, Any], kids: dict[str, Child]) -> None:
    RoleAssignment.objects.filter(user=users["vw"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    user = fresh(users["vw"])
    assert scope_of(user) == Scope(user_id=user.pk, roles=frozenset())
    assert not scope_of(fresh(users["vw"])).sees_children
    assert seen(users["vw"]) == set()


def test_assignment_valid_until_it_expires(users: dict[str, Any], kids: dict[str, Child]) -> None:
    now = timezone.now()
    RoleAssignment.objects.filter(user=users["vw"]).update(expires_at=now + timedelta(days=1))
    assert seen(users["vw"]) == {"巴山甲"}
    # Evaluated at a given time (the scan, reports as of a date), the same assignment has lapsed.
    assert scope_of(fresh(users["vw"]), at=now + timedelta(days=2)).view_prefixes == ()
    assert (
        scope_of(fresh(users["vw"]), at=now + timedelta(days=1)).view_prefixes == ()
    )  # expires_at is exclusive


def test_not_yet_started_assignment_grants_nothing(users: dict[str, Any], kids: dict[str, Child]) -> None:
    start = timezone.now() + timedelta(days=3)
    RoleAssignment.objects.filter(user=users["vw"]).update(starts_at=start)
    assert seen(users["vw"]) == set()
    assert scope_of(fresh(users["vw"])).roles == frozenset()
    assert scope_of(fresh(users["vw"]), at=start).view_prefixes == (BASHAN_VILLAGE,)


def test_inactive_user_sees_nothing(users: dict[str, Any], kids: dict[str, Child]) -> None:
    User.objects.filter(pk=users["county"].pk).update(is_active=False)
    user = fresh(users["county"])
    assert scope_of(user) == EMPTY
    assert seen(users["county"]) == set()


def test_anonymous_and_none_see_nothing(kids: dict[str, Child]) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert scope_of(None) == EMPTY
    assert scope_of(AnonymousUser()) == EMPTY
    assert not Child.objects.visible_to(AnonymousUser()).exists()
    assert not Child.objects.filter(child_q(EMPTY)).exists()


def test_county_level_prefixes_are_minimal(users: dict[str, Any], kids: dict[str, Child]) -> None:
    county_user = users["county"]
    for code in ("500229102000", BASHAN_VILLAGE, "500229201000"):
        RoleAssignment.objects.create(user=county_user, role="township_supervisor", region_id=code)
    RoleAssignment.objects.create(
        user=county_user, role="police", organisation=Organisation.objects.get(name="城口县公安局巴山派出所")
    )
    scope = scope_of(fresh(county_user))
    assert scope.view_prefixes == ("500229",)
    assert scope.edit_prefixes == ("500229",)
    assert scope.identifier_prefixes == ("500229",)
    assert scope.roles == {"county_admin", "township_supervisor", "police"}
    assert seen(county_user) == ALL


def test_several_townships_and_villages_combine(users: dict[str, Any], kids: dict[str, Child]) -> None:
    vw = users["vw"]
    RoleAssignment.objects.create(user=vw, role="village_worker", region_id=LONGTIAN_VILLAGE)
    RoleAssignment.objects.create(user=vw, role="education_bureau", region_id="500229102000")
    scope = scope_of(fresh(vw))
    assert scope.view_prefixes == ("500229102", LONGTIAN_VILLAGE)  # 102201 is inside 巴山镇
    assert scope.edit_prefixes == (BASHAN_VILLAGE, LONGTIAN_VILLAGE)
    assert seen(vw) == ALL


def test_school_staff_see_pupils_of_their_school_only(users: dict[str, Any], kids: dict[str, Child]) -> None:
    bashan_school = Organisation.objects.get(name="巴山中心小学")
    longtian_school = Organisation.objects.get(name="龙田中心小学")
    Child.objects.filter(pk=kids["l"].pk).update(school=bashan_school)  # a 龙田 child at 巴山's school
    Child.objects.filter(pk=kids["a"].pk).update(school=longtian_school)
    assert seen(users["school"]) == {"龙田丙"}
    # The school's scope is by organisation, not by the school's region.
    assert scope_of(fresh(users["school"])).view_prefixes == ()
    # An expired school assignment grants nothing.
    RoleAssignment.objects.filter(user=users["school"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert seen(users["school"]) == set()


def test_unknown_role_code_grants_nothing(users: dict[str, Any], kids: dict[str, Child]) -> None:
    RoleAssignment.objects.filter(user=users["vw"]).update(role="retired_role")
    assert seen(users["vw"]) == set()
    assert scope_of(fresh(users["vw"])).roles == frozenset()


def test_scope_is_cached_per_user_object(users: dict[str, Any], kids: dict[str, Child]) -> None:
    user = fresh(users["vw"])
    assert scope_of(user).view_prefixes == (BASHAN_VILLAGE,)
    RoleAssignment.objects.filter(user=user).delete()
    assert scope_of(user).view_prefixes == (BASHAN_VILLAGE,)  # same request
    assert scope_of(fresh(user)).view_prefixes == ()  # next request
    assert Region.objects.get(code=BASHAN_VILLAGE).prefix == BASHAN_VILLAGE
