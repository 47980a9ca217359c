"""Administrator screens: the semester calendar per year (data, R2.1) and webhook deliveries."""

from django.contrib import admin

from shouhu.care.models import Semester, WebhookDelivery


@admin.register(Semester)
class SemesterAdmin(admin.ModelAdmin):
    list_display = ["year", "term", "starts_on", "ends_on"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "event", "state", "attempts", "last_error"]
    list_filter = ["state"]
    readonly_fields = [
        "created_at",
        "event",
        "payload",
        "attempts",
        "last_error",
        "last_attempt_at",
        "delivered_at",
    ]
