"""Users and role grants (R11.4; 等保 level 3 separates system, security and audit administration).

Every write here is a keyword-only service in one transaction that records an event in the sealed
chain: accounts created, roles granted and revoked, passwords reset by an administrator, accounts
deactivated. Two ways in:

- in the application, by a holder of `roles.grant` (the county civil-affairs bureau): only within
  their own region, never for themselves, never a role that only the operator grants (system
  administrator, auditor), and only for users whose every role lies within that region;
- on the server, by the operator (`manage.py grant_role`, `actor=None`): the recovery path when
  nobody can log in as an administrator (docs/operations.md). Recorded the same way.

The system administrator (`config.edit`) configures but grants nothing and reads no child file: its
staff flag follows its role, and it is never a superuser.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.access import access_of, can, forget_access
from shouhu.core.capabilities import GRANTABLE, ROLE_CHOICES, ROLES
from shouhu.core.events import record_event
from shouhu.core.models import Organisation, Region, RoleAssignment, User

_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{3,150}$")
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
OPERATOR = _("服务器运维命令")


def temporary_password() -> str:
    """A one-time password shown once to whoever set it (12 characters, no look-alike letters)."""
    return "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(12))


def _must_change_password(user: User) -> None:
    """A password an administrator set is the account's until its first login only (issue 10 part 3)."""
    from shouhu.accounts.models import PasswordChangeRequired

    PasswordChangeRequired.objects.get_or_create(user=user)


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _places(user: User, at: datetime | None = None) -> list[str]:
    """The region codes a user's access lies in: each active assignment's region (or its organisation's),
    and the user's own organisation."""
    rows = [a for a in user.role_assignments.all() if _active(a, at or timezone.now())]
    codes = [
        (a.region_id or (a.organisation.region_id if a.organisation else ""))
        for a in rows
        if a.region_id or a.organisation
    ]
    if user.organisation is not None:
        codes.append(user.organisation.region_id)
    return [c for c in codes if c]


def _active(a: RoleAssignment, at: datetime) -> bool:
    return a.starts_at <= at and (a.expires_at is None or a.expires_at > at)


def is_active(a: RoleAssignment) -> bool:
    return _active(a, timezone.now())


def manages(actor: User | None, user: User) -> bool:
    """May `actor` change `user`'s account and roles? The operator (None) may; an administrator in the
    application only for another user whose roles and organisation all lie in their region and who
    holds no role that only the operator grants."""
    if actor is None:
        return True
    if actor.pk == user.pk or not can(actor, "roles.grant"):
        return False
    now = timezone.now()
    if any(
        ROLES.get(a.role) is None or ROLES[a.role].operator_only
        for a in user.role_assignments.all()
        if _active(a, now)
    ):
        return False
    places = _places(user, now)
    holding = access_of(actor).holding("roles.grant")
    if not places:  # an account with no role or unit yet: for county-level administrators only
        return any(len(p) <= 6 for p in holding.prefixes) or holding.anywhere
    return all(holding.covers_code(code) for code in places)


def users_for(actor: User) -> list[User]:
    """The accounts `actor` may manage, by username (a county's few hundred: filtered in Python)."""
    if not can(actor, "roles.grant"):
        return []
    qs = User.objects.select_related("organisation").prefetch_related(
        Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("region", "organisation"))
    )
    return [u for u in qs.order_by("username") if manages(actor, u)]


def get_user(actor: User, user_id: Any) -> User:
    """A user `actor` may manage, or DoesNotExist (the view answers 404, like a missing one)."""
    user = (
        User.objects.select_related("organisation")
        .prefetch_related("role_assignments__region", "role_assignments__organisation")
        .filter(pk=user_id)
        .first()
        if str(user_id).isdigit()
        else None
    )
    if user is None or not manages(actor, user):
        raise User.DoesNotExist
    return user


def _event(verb: str, *, actor: User | None, user: User, summary: str, after: Any, region: str = "") -> None:
    record_event(
        verb=verb,
        subject_type="core.user",
        subject_id=str(user.pk),
        actor=actor,
        region_code=region,
        summary=(summary if actor is not None else f"{summary}（{OPERATOR}）")[:200],
        after=after,
    )


def _sync_staff(user: User) -> None:
    """Staff (the configuration site) exactly while the user holds a role that configures."""
    now = timezone.now()
    staff = any(
        ROLES[a.role].staff
        for a in RoleAssignment.objects.filter(user=user)
        if a.role in ROLES and _active(a, now)
    )
    if user.is_staff != staff or user.is_superuser:
        user.is_staff, user.is_superuser = staff, False
        user.save(update_fields=["is_staff", "is_superuser"])


@transaction.atomic
def user_create(
    *, actor: User | None, username: str, full_name: str = "", organisation: Organisation | None = None
) -> tuple[User, str]:
    """A new account with a one-time password (returned once, never stored in clear or recorded)."""
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not _USERNAME.match(username):
        errors["username"] = [_("用户名为3–150位字母、数字或 _ . @ + -，例如 vw_102203。")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("用户名“%(u)s”已被使用，请换一个。") % {"u": username}]
    if len((full_name or "").strip()) > 50:
        errors["full_name"] = [_("姓名最多50个字。")]
    if actor is not None:
        if not can(actor, "roles.grant"):
            raise _err("detail", _("您的角色不能管理用户。"))
        if organisation is None or not can(actor, "roles.grant", organisation.region_id):
            errors["organisation"] = [_("请选择您辖区内的单位。")]
    if errors:
        raise ValidationError(errors)
    password = temporary_password()
    user = User.objects.create_user(
        username=username, password=password, full_name=(full_name or "").strip(), organisation=organisation
    )
    _must_change_password(user)
    _event(
        "user.created",
        actor=actor,
        user=user,
        summary=_("建立账号 %(u)s") % {"u": username},
        after={"username": username, "organisation": organisation.pk if organisation else None},
        region=organisation.region_id if organisation else "",
    )
    return user, password


def _check_scope(role: str, region: Region | None, organisation: Organisation | None) -> None:
    spec = ROLES.get(role)
    if spec is None:
        raise _err("role", _("未知的角色。"))
    if spec.org_kinds:
        if organisation is None or organisation.kind not in spec.org_kinds:
            raise _err(
                "organisation",
                _("“%(r)s”须指定所属单位（%(k)s）。") % {"r": spec.label, "k": "、".join(spec.org_kinds)},
            )
    elif region is None and organisation is None:
        raise _err("region", _("请选择辖区（区划）或单位。"))


@transaction.atomic
def role_grant(
    *,
    actor: User | None,
    user: User,
    role: str,
    region: Region | None = None,
    organisation: Organisation | None = None,
    expires_at: datetime | None = None,
) -> RoleAssignment:
    """Grant `role` over a region or an organisation (R11.4): recorded as `role.granted`."""
    if actor is not None:
        if role not in GRANTABLE:
            raise _err("role", _("该角色只能由服务器运维人员授予（职责分离）。"))
        if not manages(actor, user):
            raise _err("detail", _("您不能为该账号授权：不能为自己授权，也不能管理辖区以外的账号。"))
    _check_scope(role, region, organisation)
    place = region.code if region is not None else (organisation.region_id if organisation else "")
    if actor is not None and not can(actor, "roles.grant", place):
        raise _err("region", _("只能在您的辖区内授权。"))
    if expires_at is not None and expires_at <= timezone.now():
        raise _err("expires_at", _("到期时间须晚于现在。"))
    if not user.is_active:
        raise _err("detail", _("该账号已停用，请先启用。"))
    assignment = RoleAssignment.objects.create(
        user=user,
        role=role,
        region=region,
        organisation=organisation,
        expires_at=expires_at,
        granted_by=actor,
    )
    _sync_staff(user)
    forget_access(user)
    _event(
        "role.granted",
        actor=actor,
        user=user,
        summary=_("授予 %(u)s 角色：%(r)s") % {"u": user.username, "r": ROLES[role].label},
        after={
            "assignment": assignment.pk,
            "role": role,
            "region": region.code if region else None,
            "organisation": organisation.pk if organisation else None,
            "expires_at": expires_at,
        },
        region=place,
    )
    return assignment


@transaction.atomic
def role_revoke(*, actor: User | None, assignment: RoleAssignment, reason: str) -> RoleAssignment:
    """End a role now (the assignment is kept as history): recorded as `role.revoked`."""
    user = assignment.user
    if actor is not None and (assignment.role not in GRANTABLE or not manages(actor, user)):
        raise _err("detail", _("您不能收回该授权。"))
    if not (reason or "").strip():
        raise _err("reason", _("请说明收回授权的原因。"))
    now = timezone.now()
    if not _active(assignment, now):
        raise _err("detail", _("该授权已经失效。"))
    assignment.expires_at = now
    assignment.save(update_fields=["expires_at"])
    _sync_staff(user)
    forget_access(user)
    _event(
        "role.revoked",
        actor=actor,
        user=user,
        summary=_("收回 %(u)s 的角色：%(r)s")
        % {"u": user.username, "r": dict(ROLE_CHOICES).get(assignment.role, assignment.role)},
        after={"assignment": assignment.pk, "role": assignment.role, "reason": reason.strip()[:300]},
        region=assignment.region_id or (assignment.organisation.region_id if assignment.organisation else ""),
    )
    return assignment


@transaction.atomic
def password_reset(*, actor: User | None, user: User) -> str:
    """Set a one-time password for someone who lost theirs; returns it once. The event records who did
    it for whom, never the password."""
    if actor is not None and not manages(actor, user):
        raise _err("detail", _("您不能重置该账号的密码。"))
    password = temporary_password()
    user.set_password(password)
    user.save(update_fields=["password"])  # ends the user's login tokens (shouhu.accounts.signals)
    _must_change_password(user)
    _event(
        "user.password_reset",
        actor=actor,
        user=user,
        summary=_("重置 %(u)s 的密码") % {"u": user.username},
        after={"username": user.username},
    )
    return password


@transaction.atomic
def user_set_active(*, actor: User | None, user: User, active: bool, reason: str = "") -> User:
    """Deactivate an account (it keeps its history and can be enabled again), or enable it."""
    if actor is not None and not manages(actor, user):
        raise _err("detail", _("您不能管理该账号。"))
    if not active and not (reason or "").strip():
        raise _err("reason", _("请说明停用原因。"))
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    _event(
        "user.activated" if active else "user.deactivated",
        actor=actor,
        user=user,
        summary=(_("启用账号 %(u)s") if active else _("停用账号 %(u)s")) % {"u": user.username},
        after={"active": active, "reason": (reason or "").strip()[:300]},
    )
    return user


def grantable_roles(actor: User) -> list[tuple[str, Any]]:
    return [(code, ROLES[code].label) for code in GRANTABLE] if can(actor, "roles.grant") else []


def assignments_of(user: User) -> QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.filter(user=user)
        .select_related("region", "organisation", "granted_by")
        .order_by("-starts_at")
    )
