"""Django's admin with the configuration site that asks the capability table (core/admin_site.py)."""

from django.contrib.admin.apps import AdminConfig


class ShouhuAdminConfig(AdminConfig):
    default_site = "shouhu.core.admin_site.ShouhuAdminSite"
