"""The sentinel test (issue 9 checks): a unique value planted in every field group of one child — a
phone, an illness, an income, a father's name, a reporter's name, a police note … — then every page and
API response about that child rendered for every role. Each value must appear exactly where that role
may see it, and nowhere else.

Who may see each value is derived from the capability table (`capabilities.holds`), not written per
page: a value of a field group is seen by the roles whose row grants that group; a value of the
protection case by the roles that open cases (the reporter's identity only with `case.reporter`); the
provider sees what its accepted referral needs. World A (worlds.py) lies inside every featured login's
reach, so "grants" is "sees"; the logins of another township see nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shouhu.core.access import forget_access
from shouhu.core.capabilities import holds
from shouhu.core.models import Code, Organisation, OrganisationKind, RoleAssignment, User
from shouhu.web.tests.worlds import build_world_a

pytestmark = pytest.mark.django_db

USERS = [
    "admin", "county", "sup", "vw", "officer", "school", "edu", "doctor", "social", "leader", "auditor",
    "nobody", "sup_other", "vw_other", "officer_other",
]  # fmt: skip
IN_REACH = {
    "admin",
    "county",
    "sup",
    "vw",
    "officer",
    "school",
    "edu",
    "doctor",
    "social",
    "leader",
    "auditor",
}


def group(g: str) -> Any:
    return lambda role: holds(role, f"child.{g}")


def any_of(*tests: Any) -> Any:
    return lambda role: any(t(role) for t in tests)


def cap(c: str) -> Any:
    return lambda role: holds(role, c)


PROVIDER = cap("referral.respond")  # through its accepted referral (protection/selectors.referral_briefs)

# value → who may see it (a predicate on the role code)
SENTINELS: dict[str, Any] = {
    "哨兵甲": any_of(cap("child.view"), cap("case.view"), PROVIDER),  # the child's name (identity)
    "CHILD-ID": group("identifiers"),  # the full ID number: only in the API, for identifiers holders
    "13912345678": any_of(group("identifiers"), group("contacts")),  # the father's phone in full (API)
    "139****5678": any_of(group("family"), group("contacts")),  # …its mask, on pages
    "13612345678": any_of(group("identifiers"), group("contacts"), PROVIDER),  # the carer's phone
    "哨兵路1号": any_of(group("contacts"), PROVIDER),  # the address
    "哨兵父亲": any_of(group("family"), group("contacts")),  # the father's name (a contact)
    "哨兵户主": group("family"),  # the household
    "哨兵一户一策": group("family"),
    "哨兵病": group("health"),  # the illness
    "哨兵收入": group("income"),  # an income source
    "哨兵小学": group("schooling"),  # the school
    "哨兵备注": group("care"),  # the file's notes
    "哨兵走访": group("care"),  # a visit's finding
    "哨兵预警": any_of(group("care"), cap("alert.view")),  # an alert about the child
    "哨兵警情": cap("case.view"),  # a police note on the case
    "哨兵情况描述": cap("case.view"),  # the allegation as reported
    "哨兵评估意见": cap("case.view"),  # the risk assessment
    "哨兵帮扶方案": cap("case.view"),  # the assistance plan
    "哨兵转介需求": any_of(cap("case.view"), PROVIDER),  # what the referral asks of the provider
    "哨兵报告人": cap("case.reporter"),  # the reporter's identity (R5.1)
}


@pytest.fixture
def world(users: dict[str, Any], county: dict[str, Any]) -> Any:
    from shouhu.core import codes

    Code.objects.create(list="income_source", code="sentinel_income", name_zh="哨兵收入")
    codes.clear_cache()  # code lists are cached per process
    school = Organisation.objects.create(
        name="哨兵小学",
        kind=OrganisationKind.SCHOOL,
        region=Organisation.objects.get(name="巴山中心小学").region,
    )
    RoleAssignment.objects.filter(user=users["school"]).update(organisation=school)
    w = build_world_a(users, county, sentinel=True, school=school, reports=False)
    for u in users.values():
        forget_access(u)
    yield w
    codes.clear_cache()  # the planted code goes with the test's transaction


def rendered(user: User, w: Any) -> str:
    """Every page and API response about the child this user can get, concatenated."""
    web, api = Client(), APIClient()
    web.force_login(user)
    api.force_authenticate(user)
    c, case, ref = w.child.pk, w.case.pk, w.referral.pk
    pages = [
        "/",
        "/children/",
        f"/children/{c}/",
        f"/children/{c}/edit/",
        f"/children/{c}/guardian/carer/",
        f"/children/{c}/household/",
        f"/care/children/{c}/",
        "/care/today/",
        "/care/alerts/",
        "/care/villages/",
        "/protection/cases/",
        f"/protection/cases/{case}/",
        "/protection/referrals/",
        "/protection/reports/",
        f"/protection/report/?child={c}",
        "/children/lookup/",
        "/protection/accountability/",
        "/ledger/completeness/",
        "/audit/",
        "/audit/access/",
        "/audit/activity/",
        "/care/webhooks/",
        "/admin/",
    ]
    apis = [
        "/api/v1/children/",
        f"/api/v1/children/{c}/",
        f"/api/v1/children/{c}/contacts/",
        f"/api/v1/children/{c}/visits/",
        "/api/v1/alerts/",
        "/api/v1/cases/",
        f"/api/v1/cases/{case}/",
        "/api/v1/referrals/",
        f"/api/v1/referrals/{ref}/",
        "/api/v1/reports/",
        "/api/v1/audit/events/",
        "/api/v1/audit/access/",
    ]
    out = []
    for url in pages:
        r = web.get(url)
        if r.status_code == 200:
            out.append(r.content.decode())
    for url in apis:
        answer = api.get(url)
        if answer.status_code == 200:
            out.append(answer.content.decode())
    return "\n".join(out)


def test_each_value_appears_exactly_where_the_role_may_see_it(users: dict[str, Any], world: Any) -> None:
    problems = []
    for who in USERS:
        user = User.objects.get(pk=users[who].pk)
        a = RoleAssignment.objects.filter(user=user).first()
        role = a.role if a else None
        text = rendered(user, world).replace(world.child.id_number, "CHILD-ID")
        for value, may_see in SENTINELS.items():
            expected = who in IN_REACH and bool(may_see(role))
            if (value in text) != expected:
                problems.append(f"{who} ({role}): {value!r} {'missing' if expected else 'LEAKED'}")
    assert not problems, "\n".join(problems)


def test_the_sentinels_are_planted(world: Any) -> None:
    """Guard: every value is really on file (else the test above would pass by seeing nothing)."""
    from shouhu.core.models import Event
    from shouhu.protection.models import Report

    child = world.child
    child.refresh_from_db()
    assert child.illness == "哨兵病" and child.address == "哨兵路1号" and child.notes == "哨兵备注"
    assert child.income_sources == ["sentinel_income"] and child.school.name == "哨兵小学"
    assert child.parents.get(relation="father").phone == "13912345678"
    assert any(r.reporter_name == "哨兵报告人" for r in Report.objects.all())  # encrypted at rest
    assert Event.objects.filter(summary__contains="哨兵警情").exists()
