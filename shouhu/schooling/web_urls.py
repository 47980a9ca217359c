"""Web pages of schooling, included in the "web" namespace (every view is @scoped or @public)."""

from django.urls import URLPattern, URLResolver, path

from shouhu.schooling import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("schooling/", views.home, name="schooling_home"),
    path("schooling/attendance/", views.attendance, name="schooling_attendance"),
    path("schooling/dropouts/", views.dropouts, name="schooling_dropouts"),
    path("schooling/dropouts/<uuid:pk>/", views.dropout_detail, name="schooling_dropout"),
    path(
        "schooling/dropouts/<uuid:pk>/transition/",
        views.dropout_transition,
        name="schooling_dropout_transition",
    ),
    path("schooling/roster/", views.roster_upload, name="schooling_roster"),
    path("schooling/roster/marks.csv", views.marks_export, name="schooling_marks"),
    path("schooling/census/", views.census, name="schooling_census"),
    path("schooling/oversight/", views.oversight, name="schooling_oversight"),
]
