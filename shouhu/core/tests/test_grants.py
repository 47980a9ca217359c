"""Administration kept apart (R11.4; issue 9 part 5): the system administrator configures and nothing
else; roles are granted and revoked by the county's administrator on a scoped page, or by the operator
on the server; every grant, revocation and password reset is an event in the sealed chain."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from shouhu.core import grants
from shouhu.core.access import access_of, can
from shouhu.core.events import verify_chain
from shouhu.core.models import Event, Organisation, PolicyParameter, Region, RegionKind, RoleAssignment, User

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_the_system_administrator_is_staff_with_configuration_permissions_only(users: dict[str, Any]) -> None:
    admin = fresh(users["admin"])
    assert admin.is_staff and not admin.is_superuser
    assert admin.has_perm("core.change_policyparameter") and admin.has_perm("core.add_region")
    assert admin.has_perm("protection.change_situation") and admin.has_perm("care.change_semester")
    for perm in ("core.change_user", "core.add_roleassignment", "core.view_accesslog", "registry.view_child"):
        assert not admin.has_perm(perm), perm
    assert not can(admin, "child.view") and not can(admin, "roles.grant") and not can(admin, "audit.view")
    # permission rows in the database grant nothing: only the table does
    from django.contrib.auth.models import Permission

    admin.user_permissions.add(Permission.objects.get(codename="change_user"))
    assert not fresh(admin).has_perm("core.change_user")


def test_the_configuration_site_is_for_config_edit_only(users: dict[str, Any]) -> None:
    web = Client()
    web.force_login(users["admin"])
    index = web.get("/admin/")
    assert index.status_code == 200 and "政策参数" in index.content.decode()
    assert web.get("/admin/core/user/").status_code == 404  # not registered: users are not configured here
    assert web.get("/admin/core/roleassignment/").status_code == 404
    assert web.get("/admin/registry/child/").status_code == 404
    county = fresh(users["county"])
    User.objects.filter(pk=county.pk).update(is_staff=True)  # staff alone opens nothing
    web.force_login(fresh(county))
    assert web.get("/admin/").status_code == 302


def test_configuration_changes_are_recorded_in_the_chain(users: dict[str, Any]) -> None:
    web = Client()
    web.force_login(users["admin"])
    row = PolicyParameter.objects.get(key="visit_interval_key_target_days")
    r = web.post(
        f"/admin/core/policyparameter/{row.pk}/change/",
        {"key": row.key, "value": "21", "description": row.description, "source": row.source},
    )
    assert r.status_code == 302, r.content.decode()[:500]
    event = Event.objects.get(verb="config.changed")
    assert event.actor == users["admin"] and event.before == {"value": 30} and event.after == {"value": 21}
    assert event.visibility == "admin" and verify_chain(Event.objects.order_by("seq")) == []


def test_a_superuser_is_reported_by_the_deploy_check(users: dict[str, Any]) -> None:
    assert not [m for m in run_checks(include_deployment_checks=True) if m.id == "shouhu.W001"]
    User.objects.filter(pk=users["nobody"].pk).update(is_superuser=True)
    assert [m for m in run_checks(include_deployment_checks=True) if m.id == "shouhu.W001"]


def test_the_demo_county_has_no_superuser(county: dict[str, Any]) -> None:
    assert not User.objects.filter(is_superuser=True).exists()


# --- grants by the county administrator ------------------------------------------------------------


def test_county_creates_an_account_grants_and_revokes_recorded(users: dict[str, Any]) -> None:
    county = fresh(users["county"])
    bashan = Organisation.objects.get(name="巴山镇人民政府")
    user, password = grants.user_create(
        actor=county, username="vw_new", full_name="新主任", organisation=bashan
    )
    assert len(password) == 12 and fresh(user).check_password(password)
    village = Region.objects.get(code="500229102203")
    a = grants.role_grant(actor=county, user=user, role="village_worker", region=village)
    assert access_of(fresh(user)).prefixes("child.edit") == ("500229102203",)
    grants.role_revoke(actor=county, assignment=a, reason="调离")
    assert access_of(fresh(user)).prefixes("child.edit") == ()
    verbs = list(
        Event.objects.filter(subject_type="core.user", subject_id=str(user.pk)).values_list("verb", flat=True)
    )
    assert verbs == ["user.created", "role.granted", "role.revoked"]
    granted = Event.objects.get(verb="role.granted", subject_id=str(user.pk))
    assert granted.actor == county and (granted.after or {})["role"] == "village_worker"
    assert password not in str(list(Event.objects.values_list("after", flat=True)))
    assert verify_chain(Event.objects.order_by("seq")) == []


def test_separation_of_duties_in_the_application(users: dict[str, Any], county: dict[str, Any]) -> None:
    admin_county = fresh(users["county"])
    target = county["vw_102202"]
    for role in ("system_admin", "auditor"):  # only the operator grants these
        with pytest.raises(ValidationError):
            grants.role_grant(
                actor=admin_county, user=target, role=role, region=Region.objects.get(code="500229000000")
            )
    with pytest.raises(ValidationError):  # never for oneself
        grants.role_grant(
            actor=admin_county,
            user=admin_county,
            role="education_bureau",
            region=Region.objects.get(code="500229000000"),
        )
    with pytest.raises(ValidationError):  # the auditor's account is not the administrator's to manage
        grants.password_reset(actor=admin_county, user=users["auditor"])
    with pytest.raises(ValidationError):  # nor the system administrator's
        grants.role_revoke(
            actor=admin_county, assignment=RoleAssignment.objects.get(user=users["admin"]), reason="x"
        )
    for who in ("admin", "auditor", "sup", "edu", "vw"):  # nobody else grants at all
        with pytest.raises(ValidationError):
            grants.role_grant(
                actor=fresh(users[who]),
                user=target,
                role="education_bureau",
                region=Region.objects.get(code="500229000000"),
            )
    # police, schools and providers are granted over their organisation, of the right kind
    with pytest.raises(ValidationError):
        grants.role_grant(
            actor=admin_county, user=target, role="police", region=Region.objects.get(code="500229102000")
        )
    with pytest.raises(ValidationError):
        grants.role_grant(
            actor=admin_county,
            user=target,
            role="police",
            organisation=Organisation.objects.get(name="巴山中心小学"),
        )
    grants.role_grant(
        actor=admin_county,
        user=target,
        role="police",
        organisation=Organisation.objects.get(name="城口县公安局巴山派出所"),
    )


def test_a_grant_outside_the_administrators_region_is_refused(users: dict[str, Any]) -> None:
    elsewhere = Region.objects.create(code="500230000000", name="乙县", kind=RegionKind.COUNTY)
    outsider = User.objects.create_user("outsider", password="x-pass-12345")
    RoleAssignment.objects.create(user=outsider, role="county_admin", region=elsewhere)
    county = fresh(users["county"])
    assert not grants.manages(county, outsider)
    with pytest.raises(ValidationError):
        grants.password_reset(actor=county, user=outsider)
    with pytest.raises(ValidationError):
        grants.role_grant(actor=county, user=users["nobody"], role="education_bureau", region=elsewhere)


def test_the_users_pages(users: dict[str, Any], county: dict[str, Any]) -> None:
    web = Client()
    web.force_login(users["county"])
    page = web.get("/users/").content.decode()
    assert "vw_102202" in page and "auditor" not in page.split("共")[1]
    r = web.post(
        "/users/new/",
        {
            "username": "edu_new",
            "full_name": "县教委 新",
            "organisation": Organisation.objects.get(name="县教委").pk,
        },
    )
    assert r.status_code == 200 and 'id="one-time-password"' in r.content.decode()
    new = User.objects.get(username="edu_new")
    r = web.post(f"/users/{new.pk}/", {"role": "education_bureau", "region": "500229000000"})
    assert r.status_code == 302 and RoleAssignment.objects.filter(user=new, role="education_bureau").exists()
    bad = web.post(f"/users/{new.pk}/", {"role": "auditor", "region": "500229000000"}, follow=True)
    assert "选择一个有效的选项" in bad.content.decode() or "职责分离" in bad.content.decode()
    r = web.post(f"/users/{new.pk}/password/")
    assert r.status_code == 200 and "一次性密码" in r.content.decode()
    assert web.post(f"/users/{new.pk}/deactivate/", {"reason": ""}, follow=True).status_code == 200
    assert fresh(new).is_active  # a reason is needed
    web.post(f"/users/{new.pk}/deactivate/", {"reason": "离职"})
    assert not fresh(new).is_active
    assert web.get(f"/users/{users['auditor'].pk}/").status_code == 404  # not the county's to manage
    assert web.get(f"/users/{users['county'].pk}/").status_code == 404  # nor itself
    assert web.get("/users/999999/").status_code == 404


def test_the_operator_recovers_access_on_the_server(users: dict[str, Any]) -> None:
    out = StringIO()
    call_command(
        "grant_role", "ops_admin", "system_admin", "--region", "500229000000", "--create", stdout=out
    )
    assert "一次性密码" in out.getvalue()
    user = User.objects.get(username="ops_admin")
    assert user.is_staff and not user.is_superuser and can(user, "config.edit")
    event = Event.objects.get(verb="role.granted", subject_id=str(user.pk))
    assert event.actor is None and "服务器运维命令" in event.summary
    out = StringIO()
    call_command("grant_role", "county", "--reset-password", stdout=out)
    password = out.getvalue().split("一次性密码：")[1].split("（")[0]
    assert fresh(users["county"]).check_password(password)
    call_command(
        "grant_role", "ops_admin", "system_admin", "--revoke", "--reason", "恢复完毕", stdout=StringIO()
    )
    assert not fresh(user).is_staff and not can(fresh(user), "config.edit")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("grant_role", "nobody_here", "auditor", "--region", "500229000000", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("grant_role", "ops_admin", "system_admin", "--revoke", stdout=StringIO())  # no reason
