"""Template context shared by every page: the user's scope decides the navigation.

The menu is built here, in one place, from the same Scope that decides what the pages show, so a link
appears only where the page behind it has something for the user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from shouhu.core.jurisdiction import Scope, scope_of

CASE_ROLES = {"police", "township_supervisor", "county_admin", "village_worker"}
SUPERVISING_ROLES = {"township_supervisor", "county_admin"}


def menu(scope: Scope) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(primary links, links under 更多) as (url, label) for this scope."""
    primary: list[tuple[str, str]] = [(reverse("web:home"), _("首页"))]
    more: list[tuple[str, str]] = []
    if scope.can_create_children:
        primary.append((reverse("web:care_today"), _("今日工作")))
    if scope.sees_children:
        primary.append((reverse("web:child_list"), _("儿童档案")))
        primary.append((reverse("web:care_alerts"), _("预警")))
    if scope.roles & CASE_ROLES:
        primary.append((reverse("web:case_list"), _("救助个案")))
    if scope.can_create_children:
        more.append((reverse("web:child_create"), _("登记儿童")))
    if scope.roles & SUPERVISING_ROLES:
        more.append((reverse("web:care_villages"), _("各村情况")))
    if scope.sees_children:
        more.append((reverse("web:care_sessions"), _("指导与宣传")))
    if scope.sees_children:
        more.append((reverse("web:ledger_home"), _("台账")))
    more.append((reverse("web:report_new"), _("强制报告")))
    more.append((reverse("web:my_reports"), _("我的报告")))
    if "service_provider" in scope.roles:
        primary.append((reverse("web:referral_list"), _("转介服务")))
    if "county_admin" in scope.roles:
        more.append((reverse("web:protection_accountability"), _("追责与表扬")))
    if scope.administers:
        more.append((reverse("web:care_webhooks"), _("推送失败")))
        more.append(("/admin/", _("系统配置")))
    more.append(("/api/v1/docs/", _("API 文档")))
    return primary, more


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    scope = scope_of(user)
    context: dict[str, Any] = {"scope": scope}
    if user is not None and user.is_authenticated:
        context["nav_primary"], context["nav_more"] = menu(scope)
    return context
