"""Web pages of this module, included in the "web" namespace (every view is @scoped or @public)."""

from django.urls import URLPattern, URLResolver, path

from shouhu.protection import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("report/", views.public_report, name="public_report"),
    path("report/ack/<str:token>/", views.public_report_ack, name="public_report_ack"),
    path("protection/report/", views.report_new, name="report_new"),
    path("protection/reports/", views.my_reports, name="my_reports"),
    path("protection/reports/<uuid:pk>/", views.report_progress, name="report_progress"),
    path("protection/cases/", views.case_list, name="case_list"),
    path("protection/cases/<uuid:pk>/", views.case_detail, name="case_detail"),
    path("protection/cases/<uuid:pk>/transition/", views.case_transition, name="case_transition"),
    path("protection/cases/<uuid:pk>/do/<slug:action>/", views.case_action, name="case_action"),
    path("protection/referrals/", views.referral_list, name="referral_list"),
    path("protection/referrals/<uuid:pk>/respond/", views.referral_respond, name="referral_respond"),
    path("protection/accountability/", views.accountability, name="protection_accountability"),
]
