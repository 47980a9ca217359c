"""REST routes of this module, included at /api/v1/ (every view declares `shouhu_access`)."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from shouhu.care.api import AlertViewSet, ContactListCreate, VisitListCreate

router = SimpleRouter()
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns: list[URLPattern | URLResolver] = [
    path("children/<str:child_id>/contacts/", ContactListCreate.as_view(), name="child-contacts"),
    path("children/<str:child_id>/visits/", VisitListCreate.as_view(), name="child-visits"),
    *router.urls,
]
