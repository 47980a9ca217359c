"""The access model (R11.1, DESIGN principle 1): `access_of` turns active role assignments into held
capabilities; `can` and `restrict` answer from them and fail closed. Role codes are written only in the
capability table."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from shouhu.conftest import BASHAN_VILLAGE, BASHAN_VILLAGE_2, LONGTIAN_VILLAGE
from shouhu.core.access import EMPTY, access_of, can, forget_access, holders, restrict
from shouhu.core.capabilities import CAPABILITIES, EVERY_ACCOUNT, GROUPS, ROLES, group_capability
from shouhu.core.models import Event, Organisation, Region, RoleAssignment, User
from shouhu.registry.models import Child
from shouhu.registry.selectors import get_child, visible_children

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """A new object for the user: the access is cached on the object it is computed for (the request)."""
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
EXPECTED_SEEN = {
    "admin": set(),  # separated admin role (R11.4): configures, reads no child file
    "county": ALL,
    "sup": {"巴山甲", "巴山乙"},
    "sup_other": {"龙田丙"},
    "vw": {"巴山甲"},
    "vw_same_town": {"巴山乙"},
    "vw_other": {"龙田丙"},
    "officer": set(),  # police see the children of their station's cases only (issue 9 part 2)
    "officer_other": set(),
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


def test_police_see_the_children_of_their_stations_cases(
    users: dict[str, Any], kids: dict[str, Child]
) -> None:
    from shouhu.protection import services

    services.report_submit(
        actor=users["vw"],
        data={
            "child": str(kids["a"].pk),
            "situations": ["living_alone"],
            "discovered_at": timezone.now(),
            "description": "独居",
        },
    )
    assert seen(users["officer"]) == {"巴山甲"}  # the 巴山 station holds the case
    assert seen(users["officer_other"]) == set()
    # with identifiers; the look-up reaches the station's township without opening its files
    officer = fresh(users["officer"])
    assert can(officer, "child.identifiers", kids["a"])
    assert can(officer, "child.lookup", kids["b"]) and not can(officer, "child.view", kids["b"])
    assert not can(officer, "child.lookup", kids["l"])


EXPECTED_PREFIXES = {
    # who: (child.view, child.edit, child.identifiers) region prefixes
    "admin": ((), (), ()),
    "county": (("500229",), ("500229",), ("500229",)),
    "sup": (("500229102",), ("500229102",), ("500229102",)),
    "vw": ((BASHAN_VILLAGE,), (BASHAN_VILLAGE,), (BASHAN_VILLAGE,)),
    "officer": ((), (), ()),  # by station, not by region
    "school": ((), (), ()),  # by school
    "edu": (("500229",), (), ()),
    "doctor": ((), (), ()),
    "social": ((), (), ()),
    "leader": ((), (), ()),
    "auditor": ((), (), ()),
    "nobody": ((), (), ()),
}


@pytest.mark.parametrize("who", list(EXPECTED_PREFIXES))
def test_region_prefixes_of_each_demo_role(users: dict[str, Any], who: str) -> None:
    access = access_of(fresh(users[who]))
    view, edit, ident = EXPECTED_PREFIXES[who]
    assert access.prefixes("child.view") == view
    assert access.prefixes("child.edit") == edit
    assert access.prefixes("child.identifiers") == ident


def test_capabilities_follow_the_table(users: dict[str, Any]) -> None:
    """Each demo user holds exactly the capabilities its role's row grants (groups expanded)."""
    for who, role in [("county", "county_admin"), ("edu", "education_bureau"), ("auditor", "auditor")]:
        held = set(access_of(fresh(users[who])).holdings)
        assert held == set(ROLES[role].all_grants()) | set(EVERY_ACCOUNT), who
    assert set(access_of(fresh(users["admin"])).holdings) == {"config.edit", "report.create"}
    assert set(access_of(fresh(users["leader"])).holdings) == {"stats.view", "report.create"}
    # anyone may report a child in danger (Minors Protection Law art. 11), no role needed
    assert set(access_of(fresh(users["nobody"])).holdings) == {"report.create"}
    school = access_of(fresh(users["school"]))
    assert school.holding("child.view").org_ids("school") == (
        Organisation.objects.get(name="巴山中心小学").pk,
    )
    assert not school.has("child.health") and school.has("child.contacts")


def test_every_capability_and_group_is_declared() -> None:
    for spec in ROLES.values():
        for capability in spec.all_grants():
            assert capability in CAPABILITIES or capability.removeprefix("child.") in GROUPS, capability
        assert spec.groups <= set(GROUPS)
        if spec.groups:
            assert "child.view" in spec.grants, spec.code


def test_expired_assignment_grants_nothing(users: dict[str, Any], kids: dict[str, Child]) -> None:
    RoleAssignment.objects.filter(user=users["vw"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert set(access_of(fresh(users["vw"])).holdings) == set(EVERY_ACCOUNT)
    assert seen(users["vw"]) == set()


def test_assignment_valid_until_it_expires(users: dict[str, Any], kids: dict[str, Child]) -> None:
    now = timezone.now()
    RoleAssignment.objects.filter(user=users["vw"]).update(expires_at=now + timedelta(days=1))
    assert seen(users["vw"]) == {"巴山甲"}
    assert access_of(fresh(users["vw"]), at=now + timedelta(days=2)).prefixes("child.view") == ()
    assert access_of(fresh(users["vw"]), at=now + timedelta(days=1)).prefixes("child.view") == ()


def test_not_yet_started_assignment_grants_nothing(users: dict[str, Any], kids: dict[str, Child]) -> None:
    start = timezone.now() + timedelta(days=3)
    RoleAssignment.objects.filter(user=users["vw"]).update(starts_at=start)
    assert seen(users["vw"]) == set()
    assert access_of(fresh(users["vw"]), at=start).prefixes("child.view") == (BASHAN_VILLAGE,)


def test_inactive_anonymous_and_none_see_nothing(users: dict[str, Any], kids: dict[str, Child]) -> None:
    User.objects.filter(pk=users["county"].pk).update(is_active=False)
    assert access_of(fresh(users["county"])) is EMPTY
    assert access_of(None) is EMPTY and access_of(AnonymousUser()) is EMPTY
    assert not restrict(Child.objects.all(), AnonymousUser(), "child.view").exists()
    assert not can(AnonymousUser(), "report.create")


def test_unknown_role_and_unknown_capability_grant_nothing(
    users: dict[str, Any], kids: dict[str, Child]
) -> None:
    RoleAssignment.objects.filter(user=users["vw"]).update(role="retired_role")
    assert seen(users["vw"]) == set()
    county = fresh(users["county"])
    assert not can(county, "child.teleport", kids["a"])
    assert not restrict(Child.objects.all(), county, "child.teleport").exists()


def test_a_model_without_anchor_is_never_reached(users: dict[str, Any], kids: dict[str, Child]) -> None:
    """Fails closed: a capability held, but no declared way from a model's rows to the reach."""
    county = fresh(users["county"])
    assert not restrict(Event.objects.all(), county, "child.view").exists()
    assert not restrict(Region.objects.all(), county, "child.view").exists()


def test_prefixes_are_minimal_and_roles_combine(users: dict[str, Any], kids: dict[str, Child]) -> None:
    county_user = users["county"]
    for code in ("500229102000", BASHAN_VILLAGE, "500229201000"):
        RoleAssignment.objects.create(user=county_user, role="township_supervisor", region_id=code)
    assert access_of(fresh(county_user)).prefixes("child.view") == ("500229",)
    vw = users["vw"]
    RoleAssignment.objects.create(user=vw, role="village_worker", region_id=LONGTIAN_VILLAGE)
    RoleAssignment.objects.create(user=vw, role="education_bureau", region_id="500229102000")
    access = access_of(fresh(vw))
    assert access.prefixes("child.view") == ("500229102", LONGTIAN_VILLAGE)
    assert access.prefixes("child.edit") == (BASHAN_VILLAGE, LONGTIAN_VILLAGE)
    assert seen(vw) == ALL
    # field groups follow the reach of the role that grants them: health only where the worker works
    user = fresh(vw)
    assert can(user, "child.health", kids["a"]) and not can(user, "child.health", kids["b"])
    assert can(user, "child.schooling", kids["b"])


def test_school_staff_see_pupils_of_their_school_only(users: dict[str, Any], kids: dict[str, Child]) -> None:
    bashan_school = Organisation.objects.get(name="巴山中心小学")
    longtian_school = Organisation.objects.get(name="龙田中心小学")
    Child.objects.filter(pk=kids["l"].pk).update(school=bashan_school)  # a 龙田 child at 巴山's school
    Child.objects.filter(pk=kids["a"].pk).update(school=longtian_school)
    assert seen(users["school"]) == {"龙田丙"}
    school = fresh(users["school"])
    pupil = Child.objects.get(pk=kids["l"].pk)
    assert can(school, "child.contacts", pupil) and not can(school, "child.family", pupil)
    assert holders(school, group_capability("schooling"), Child.objects.all()) == {pupil.pk}
    RoleAssignment.objects.filter(user=users["school"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert seen(users["school"]) == set()


def test_access_is_cached_per_user_object_until_forgotten(users: dict[str, Any]) -> None:
    user = fresh(users["vw"])
    assert access_of(user).prefixes("child.view") == (BASHAN_VILLAGE,)
    RoleAssignment.objects.filter(user=user).delete()
    assert access_of(user).prefixes("child.view") == (BASHAN_VILLAGE,)  # the same request
    forget_access(user)
    assert access_of(user).prefixes("child.view") == ()


def test_region_codes_answer_region_capabilities(users: dict[str, Any]) -> None:
    vw = fresh(users["vw"])
    assert can(vw, "child.create", BASHAN_VILLAGE) and not can(vw, "child.create", BASHAN_VILLAGE_2)
    assert can(fresh(users["doctor"]), "report.create", BASHAN_VILLAGE)  # held anywhere
    assert not can(fresh(users["officer"]), "child.view", BASHAN_VILLAGE)  # station reach, not region


# --- role codes live in the capability table only ------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"core/capabilities.py", "core/demo.py", "core/roles.py"}


def _source_files() -> list[Path]:
    return [
        p
        for p in ROOT.rglob("*.py")
        if "/tests/" not in p.as_posix()
        and "/migrations/" not in p.as_posix()
        and not p.name.startswith("test_")
        and p.name != "conftest.py"
        and p.relative_to(ROOT).as_posix() not in ALLOWED
    ]


def test_role_codes_appear_only_in_the_capability_table() -> None:
    """DESIGN principle 1: code asks `can()`; no module compares or writes a role code (as the
    before-stop hook's grep, but over every string constant of the parsed source)."""
    codes = set(ROLES)
    found = []
    files = _source_files()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert len(files) > 50
    assert not found, "role codes outside the capability table:\n" + "\n".join(found)


def test_an_access_can_be_narrowed_to_some_capabilities(
    users: dict[str, Any], kids: dict[str, Child]
) -> None:
    """A long-lived API token issued for one task (issue 10) carries only the capabilities it needs."""
    full = access_of(fresh(users["county"]))
    narrow = full.restricted_to(["child.view"])
    assert narrow.has("child.view") and not narrow.has("child.edit") and not narrow.has("audit.view")
    assert can(users["county"], "child.view", kids["l"], access=narrow)
    assert not can(users["county"], "child.edit", kids["l"], access=narrow)
    assert restrict(Child.objects.all(), users["county"], "child.edit", access=narrow).count() == 0
