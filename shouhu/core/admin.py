"""Django admin for configuration only (system administrators): regions, organisations, users and
role assignments, code lists and policy parameters. Child files are deliberately not registered:
the admin site bypasses jurisdiction, and the system administrator reads no child data (R11.4)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from shouhu.core.models import AccessLog, Code, Organisation, PolicyParameter, Region, RoleAssignment, User


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "valid_from", "valid_to", "is_demo"]
    list_filter = ["kind", "is_demo"]
    search_fields = ["code", "name"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "leading_group_member"]
    list_filter = ["kind", "leading_group_member"]
    search_fields = ["name"]
    autocomplete_fields = ["region", "parent"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["region", "organisation"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "organisation", "is_active"]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Shouhu", {"fields": ("full_name", "organisation")}))
    inlines = [RoleAssignmentInline]
    autocomplete_fields = ["organisation"]


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["list", "code", "name_zh", "name_en", "active"]
    list_filter = ["list", "active"]
    search_fields = ["code", "name_zh"]


@admin.register(PolicyParameter)
class PolicyParameterAdmin(admin.ModelAdmin):
    list_display = ["key", "value", "description", "source"]


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "child_id", "detail"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
