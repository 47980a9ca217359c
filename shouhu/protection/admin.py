"""The administrator edits the situation list, the checklists and the service kinds (policy as data)."""

from django.contrib import admin

from shouhu.protection.models import Measure, ServiceKind, Situation


@admin.register(Situation)
class SituationAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "source", "active", "sort")
    list_filter = ("source", "active")


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "clause", "active", "sort")


@admin.register(ServiceKind)
class ServiceKindAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "clause", "active", "sort")
