"""REST routes of this module, included at /api/v1/ (every view declares `shouhu_access`)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from shouhu.services.api import (
    ActivityViewSet,
    NeedViewSet,
    ProgrammeViewSet,
    ProviderViewSet,
    ServiceTypeViewSet,
)

router = SimpleRouter()
router.register("needs", NeedViewSet, basename="need")
router.register("providers", ProviderViewSet, basename="provider")
router.register("programmes", ProgrammeViewSet, basename="programme")
router.register("activities", ActivityViewSet, basename="activity")
router.register("service-types", ServiceTypeViewSet, basename="service-type")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
