"""Template context shared by every page: the user's capabilities decide the navigation.

The menu is built here, in one place, from the same capability table that decides what the pages
show (`core/access.py`), so a link appears only where the page behind it has something for the user.
Templates read `caps` (the capabilities held anywhere): `{% if "child.create" in caps %}`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.core.access import Access, access_of

# (capability, url name, label, primary?) in menu order
MENU: tuple[tuple[str, str, Any, bool], ...] = (
    ("care.record", "web:care_today", gettext_lazy("今日工作"), True),
    ("child.view", "web:child_list", gettext_lazy("儿童档案"), True),
    ("child.lookup", "web:child_lookup", gettext_lazy("查找儿童"), True),
    ("alert.view", "web:care_alerts", gettext_lazy("预警"), True),
    ("case.view", "web:case_list", gettext_lazy("救助个案"), True),
    ("referral.respond", "web:referral_list", gettext_lazy("转介服务"), True),
    ("service.view", "web:service_needs", gettext_lazy("服务需求"), True),
    ("activity.attend", "web:service_sessions", gettext_lazy("活动签到"), True),
    ("audit.view", "web:audit_events", gettext_lazy("审计"), True),
    ("roster.view", "web:schooling_home", gettext_lazy("学校"), True),
    ("dropout.view", "web:schooling_dropouts", gettext_lazy("控辍保学"), False),
    ("census.view", "web:schooling_census", gettext_lazy("学籍比对"), False),
    ("schooling.oversee", "web:schooling_oversight", gettext_lazy("各校情况"), False),
    ("child.create", "web:child_create", gettext_lazy("登记儿童"), False),
    ("care.supervise", "web:care_villages", gettext_lazy("各村情况"), False),
    ("service.view", "web:service_providers", gettext_lazy("服务机构与项目"), False),
    ("service.need", "web:service_overview", gettext_lazy("关爱服务情况"), False),
    ("care.record", "web:care_sessions", gettext_lazy("指导与宣传"), False),
    ("ledger.import", "web:ledger_home", gettext_lazy("台账"), False),
    ("ledger.export", "web:ledger_export", gettext_lazy("导出台账"), False),
    ("report.create", "web:report_new", gettext_lazy("强制报告"), False),
    ("report.create", "web:my_reports", gettext_lazy("我的报告"), False),
    ("accountability.view", "web:protection_accountability", gettext_lazy("追责与表扬"), False),
    ("roles.grant", "web:user_list", gettext_lazy("用户与授权"), False),
    ("auth.lockouts", "web:lockouts", gettext_lazy("登录锁定"), False),
    ("auth.tokens", "web:service_tokens", gettext_lazy("系统对接令牌"), False),
    ("config.edit", "web:care_webhooks", gettext_lazy("推送失败"), False),
)


def menu(access: Access) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(primary links, links under 更多) as (url, label) for these capabilities."""
    primary: list[tuple[str, str]] = [(reverse("web:home"), _("首页"))]
    more: list[tuple[str, str]] = []
    seen: set[str] = set()
    for capability, name, label, is_primary in MENU:
        if not access.has(capability) or name in seen:
            continue
        seen.add(name)
        (primary if is_primary else more).append((reverse(name), str(label)))
    if access.has("config.edit"):
        more.append(("/admin/", _("系统配置")))
    more.append((reverse("web:password_change"), _("修改密码")))
    more.append(("/api/v1/docs/", _("API 文档")))
    return primary, more


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    access = access_of(user)
    context: dict[str, Any] = {"caps": frozenset(access.holdings), "page_text": page_text}
    if user is not None and user.is_authenticated:
        context["nav_primary"], context["nav_more"] = menu(access)
    return context


def page_text() -> dict[str, str]:
    """The words app.js shows (the offline queue, the village picker: issue 16), translated here, not in
    the script. A callable, so pages that never render it never build it."""
    return {
        "township": _("乡镇（街道）"),
        "left": _("剩余 {t}"),
        "late": _("已超时 {t}"),
        "hours": _("{h} 小时 {m} 分"),
        "minutes": _("{n} 分钟"),
        "all_townships": _("全部乡镇"),
        "search_village": _("搜索村（居）名"),
        "visit": _("走访"),
        "contact": _("亲子联系"),
        "pending": _("等待信号，恢复后自动上传。"),
        "failed": _("未能上传。"),
        "login": _("登录已过期：请重新登录后自动上传。"),
        "look": _("查看档案"),
        "force": _("仍然上传"),
        "drop": _("放弃这条"),
        "drop_confirm": _("放弃后这条记录将被删除，无法恢复。确定放弃？"),
        "fix": _("未保存，请修改以下内容后再点“保存”："),
        "queued": _("没有信号：已加密保存在本机，有信号时自动上传。"),
        "logout_confirm": _("还有 {n} 条记录没有上传，退出后将被删除。确定退出？"),
    }
