"""Login, logout, health check and the home page. Child pages are in views_children.py."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from shouhu.core.jurisdiction import acting_user, public, scope_of, scoped
from shouhu.core.models import RoleAssignment
from shouhu.core.roles import ROLES
from shouhu.registry import selectors

login = public(auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True))
logout = public(auth_views.LogoutView.as_view())

# What each role without child files does here (home page empty state).
ROLE_HELP = {
    "system_admin": _(
        "系统管理员负责用户、角色授权、代码表和政策参数的配置（管理后台），按照职责分离原则不查看儿童档案。"
    ),
    "medical": _("医疗机构在发现儿童遭受侵害或面临危险时依法强制报告；本平台不向医疗机构开放儿童档案。"),
    "service_provider": _(
        "社会服务机构接收转介、登记服务记录；儿童档案按转介范围另行授权，目前没有可查看的档案。"
    ),
    "leadership_viewer": _("领导小组成员单位查看去标识的统计汇总和考核情况，不查看儿童个人档案。"),
    "auditor": _("审计员查看审计记录和访问日志，不查看儿童档案内容。"),
    "school_staff": _("学校/幼儿园查看本校就读的儿童；目前没有登记在本校的儿童档案。"),
}


@public
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@scoped
@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    assignments = list(
        RoleAssignment.objects.active()
        .filter(user=acting_user(request))
        .select_related("region", "organisation")
    )
    roles = [
        {"label": ROLES[a.role].label if a.role in ROLES else a.role, "where": a.region or a.organisation}
        for a in assignments
    ]
    counts = None
    if scope.sees_children:
        counts = selectors.visible_children(request.user).aggregate(
            total=Count("pk"),
            left_behind=Count("pk", filter=Q(lb_status=True)),
            key_target=Count("pk", filter=Q(key_target=True)),
        )
    help_texts = [ROLE_HELP[r] for r in sorted(scope.roles) if r in ROLE_HELP]
    return render(request, "web/home.html", {"roles": roles, "counts": counts, "help_texts": help_texts})
