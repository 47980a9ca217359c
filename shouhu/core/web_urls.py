"""Pages of the core app, included in the "web" namespace: users and role grants (`roles.grant`) and
the auditor's pages (`audit.view`)."""

from django.urls import URLPattern, URLResolver, path

from shouhu.core import audit_views, users_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("users/", users_views.user_list, name="user_list"),
    path("users/new/", users_views.user_create, name="user_create"),
    path("users/<int:pk>/", users_views.user_detail, name="user_detail"),
    path("users/<int:pk>/<slug:action>/", users_views.user_action, name="user_action"),
    path("audit/", audit_views.events, name="audit_events"),
    path("audit/access/", audit_views.access, name="audit_access"),
    path("audit/activity/", audit_views.activity, name="audit_activity"),
    path("audit/events.csv", audit_views.events_csv, name="audit_events_csv"),
    path("audit/access.csv", audit_views.access_csv, name="audit_access_csv"),
]
