"""`grant_role USERNAME [ROLE] (--region CODE | --org NAME) [--create] [--revoke] [--reset-password]`:
the server operator's way to grant or revoke any role — including those no user may grant in the
application (system administrator, auditor) — and to recover access when nobody can log in as an
administrator (docs/operations.md). Every action is an event in the sealed chain, marked as done by
the server operator.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shouhu.core import grants
from shouhu.core.capabilities import ROLES
from shouhu.core.models import Organisation, Region, RoleAssignment, User


class Command(BaseCommand):
    help = "Grant or revoke a role, create an account or reset its password (recorded as events)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", nargs="?", choices=sorted(ROLES), help="role code (API.md)")
        parser.add_argument("--region", help="12-digit region code the role covers")
        parser.add_argument("--org", help="organisation name the role covers (a school, a station …)")
        parser.add_argument("--create", action="store_true", help="create the account if it does not exist")
        parser.add_argument("--full-name", default="")
        parser.add_argument("--revoke", action="store_true", help="end the user's active grants of ROLE")
        parser.add_argument("--reason", default="", help="why (required with --revoke)")
        parser.add_argument("--reset-password", action="store_true", help="print a one-time password")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            self._handle(o)
        except ValidationError as exc:
            messages = (
                exc.messages
                if not hasattr(exc, "error_dict")
                else [m for v in exc.message_dict.values() for m in v]
            )
            raise CommandError("；".join(messages)) from exc

    def _handle(self, o: dict[str, Any]) -> None:
        region = Region.objects.filter(code=o["region"]).first() if o.get("region") else None
        if o.get("region") and region is None:
            raise CommandError(f"区划代码 {o['region']} 不存在")
        org = Organisation.objects.filter(name=o["org"]).first() if o.get("org") else None
        if o.get("org") and org is None:
            raise CommandError(f"单位“{o['org']}”不存在")
        user = User.objects.filter(username=o["username"]).first()
        if user is None:
            if not o["create"]:
                raise CommandError(f"用户 {o['username']} 不存在（新建账号请加 --create）")
            user, password = grants.user_create(
                actor=None, username=o["username"], full_name=o["full_name"], organisation=org
            )
            self.stdout.write(
                f"已建立账号 {user.username}，一次性密码：{password}（请当面交给本人，登录后修改）"
            )
        role = o.get("role")
        if role and o["revoke"]:
            now = timezone.now()
            active = [
                a for a in RoleAssignment.objects.filter(user=user, role=role) if grants._active(a, now)
            ]
            if not active:
                raise CommandError(f"{user.username} 没有有效的 {role} 授权")
            for a in active:
                grants.role_revoke(actor=None, assignment=a, reason=o["reason"])
            self.stdout.write(f"已收回 {user.username} 的 {role} 授权（{len(active)} 项）")
        elif role:
            grants.role_grant(actor=None, user=user, role=role, region=region, organisation=org)
            self.stdout.write(f"已授予 {user.username} 角色 {role}")
        if o["reset_password"]:
            password = grants.password_reset(actor=None, user=user)
            self.stdout.write(f"{user.username} 的一次性密码：{password}（请当面交给本人，登录后修改）")
