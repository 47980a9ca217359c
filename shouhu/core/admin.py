"""The configuration site (/admin/) for the system administrator (`config.edit`, R11.4): regions,
organisations, code lists and policy parameters (and, in their apps, the protection lists and the
semester calendar). Every change is an event in the sealed chain (who, what, before and after).

Not here, on purpose: child files (the admin would bypass the access model), users and role grants
(granted by `roles.grant` on the recorded page in the application, or by the server operator's
`manage.py grant_role`), and the access log (the auditor's pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Group
from django.forms.models import model_to_dict
from django.http import HttpRequest

from shouhu.core.events import record_event
from shouhu.core.models import Code, Organisation, PolicyParameter, Region


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletions recorded as `config.changed` / `config.deleted` events (R11.2)."""

    def _snapshot(self, obj: Any) -> dict[str, Any]:
        return {k: v for k, v in model_to_dict(obj).items() if k != "id"}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = None
        if change and obj.pk is not None:
            old = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = self._snapshot(old) if old is not None else None
        super().save_model(request, obj, form, change)
        after = self._snapshot(obj)
        if before is not None:
            keys = [k for k in after if before.get(k) != after.get(k)]
            before, after = {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
        record_event(
            verb="config.changed",
            subject_type=obj._meta.label_lower,
            subject_id=str(obj.pk),
            actor=request.user,
            summary=f"{obj._meta.verbose_name}：{obj}"[:200],
            before=before,
            after=after,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before, pk = self._snapshot(obj), str(obj.pk)
        super().delete_model(request, obj)
        record_event(
            verb="config.deleted",
            subject_type=obj._meta.label_lower,
            subject_id=pk,
            actor=request.user,
            summary=f"{obj._meta.verbose_name}：{obj}"[:200],
            before=before,
        )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


# Groups are not used: permissions come from the capability table (core/backends.py).
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "parent", "valid_from", "valid_to", "is_demo"]
    list_filter = ["kind", "is_demo"]
    search_fields = ["code", "name"]


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["name", "kind", "region", "leading_group_member"]
    list_filter = ["kind", "leading_group_member"]
    search_fields = ["name"]
    autocomplete_fields = ["region", "parent"]


@admin.register(Code)
class CodeAdmin(AuditedAdmin):
    list_display = ["list", "code", "name_zh", "name_en", "active"]
    list_filter = ["list", "active"]
    search_fields = ["code", "name_zh"]


@admin.register(PolicyParameter)
class PolicyParameterAdmin(AuditedAdmin):
    list_display = ["key", "value", "description", "source"]
