"""Administrator screens: the semester calendar per year (data, R2.1). Failed webhook deliveries are on
the administrator's page in the application (no payloads: they name children)."""

from django.contrib import admin

from shouhu.care.models import Semester
from shouhu.core.admin import AuditedAdmin


@admin.register(Semester)
class SemesterAdmin(AuditedAdmin):
    list_display = ["year", "term", "starts_on", "ends_on"]
