"""Web pages of this module, included in the "web" namespace (every view is @scoped or @public)."""

from django.urls import URLPattern, URLResolver, path

from shouhu.care import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("care/today/", views.today, name="care_today"),
    path("care/alerts/", views.alert_inbox, name="care_alerts"),
    path("care/alerts/<int:alert_id>/resolve/", views.alert_resolve, name="care_alert_resolve"),
    path("care/villages/", views.villages, name="care_villages"),
    path("care/sessions/", views.sessions, name="care_sessions"),
    path("care/webhooks/", views.webhook_failures, name="care_webhooks"),
    path("care/children/<uuid:pk>/", views.child_care, name="care_child"),
    path("care/children/<uuid:pk>/contact/", views.contact_add, name="care_contact_add"),
    path("care/children/<uuid:pk>/visit/", views.visit_add, name="care_visit_add"),
    path("care/children/<uuid:pk>/assignments/", views.assignment_add, name="care_assignment_add"),
    path("care/children/<uuid:pk>/admonitions/", views.admonition_add, name="care_admonition_add"),
]
