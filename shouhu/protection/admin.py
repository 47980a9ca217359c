"""The administrator edits the situation list, the checklists and the service kinds (policy as data)."""

from django.contrib import admin

from shouhu.core.admin import AuditedAdmin
from shouhu.protection.models import Measure, ServiceKind, Situation


@admin.register(Situation)
class SituationAdmin(AuditedAdmin):
    list_display = ("code", "name_zh", "source", "active", "sort")
    list_filter = ("source", "active")


@admin.register(Measure)
class MeasureAdmin(AuditedAdmin):
    list_display = ("code", "name_zh", "clause", "active", "sort")


@admin.register(ServiceKind)
class ServiceKindAdmin(AuditedAdmin):
    list_display = ("code", "name_zh", "clause", "active", "sort")
