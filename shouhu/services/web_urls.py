"""Web pages of this module, included in the "web" namespace (every view is @scoped or @public)."""

from django.urls import URLPattern, URLResolver, path

from shouhu.services import views, views_source

urlpatterns: list[URLPattern | URLResolver] = [
    path("services/needs/", views.need_list, name="service_needs"),
    path("services/needs/<uuid:pk>/", views.need_detail, name="service_need"),
    path("services/needs/<uuid:pk>/transition/", views.need_transition, name="service_need_transition"),
    path("services/children/<uuid:pk>/needs/", views.need_add, name="service_need_add"),
    path("services/providers/", views.provider_list, name="service_providers"),
    path("services/programmes/<int:pk>/", views.programme_detail, name="service_programme"),
    path("services/sessions/", views.session_list, name="service_sessions"),
    path("services/sessions/<int:pk>/", views.attendance, name="service_attendance"),
    path("services/children/<uuid:pk>/parents/", views_source.child_source, name="service_source"),
    path("services/children/<uuid:pk>/parents/save/", views_source.source_save, name="service_source_save"),
    path("services/overview/", views_source.overview, name="service_overview"),
]
