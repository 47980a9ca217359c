"""Ledger pages, included in the "web" namespace (every view is @scoped)."""

from django.urls import URLPattern, URLResolver, path

from shouhu.ledger import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("ledger/", views.ledger_home, name="ledger_home"),
    path("ledger/upload/", views.ledger_upload, name="ledger_upload"),
    path("ledger/imports/<uuid:pk>/", views.ledger_job, name="ledger_job"),
    path("ledger/imports/<uuid:pk>/cancel/", views.ledger_job_cancel, name="ledger_job_cancel"),
    path("ledger/imports/<uuid:pk>/commit/", views.ledger_job_commit, name="ledger_job_commit"),
    path("ledger/imports/<uuid:pk>/errors.xlsx", views.ledger_job_errors, name="ledger_job_errors"),
    path("ledger/export/", views.ledger_export, name="ledger_export"),
    path("ledger/review/", views.ledger_review, name="ledger_review"),
    path("ledger/review/<str:code>/", views.ledger_review_transition, name="ledger_review_transition"),
    path("ledger/completeness/", views.ledger_completeness, name="ledger_completeness"),
]
