"""The configuration site (/admin/): only for users who hold `config.edit` (R11.4). Staff status alone
opens nothing; model permissions come from `backends.CapabilityBackend`."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shouhu.core.access import can


class ShouhuAdminSite(AdminSite):
    site_header = _("守护 · 系统配置")
    site_title = _("守护 · 系统配置")
    index_title = _("区划、单位、代码表和政策参数")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and can(user, "config.edit"))
