"""REST routes of schooling, included at /api/v1/ (every view declares `shouhu_access`)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from shouhu.schooling.api import (
    AbsenceViewSet,
    DropoutViewSet,
    EnrolmentViewSet,
    PairingViewSet,
    SchoolContactViewSet,
    WellbeingViewSet,
)

router = SimpleRouter()
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("absences", AbsenceViewSet, basename="absence")
router.register("dropouts", DropoutViewSet, basename="dropout")
router.register("pairings", PairingViewSet, basename="pairing")
router.register("school-contacts", SchoolContactViewSet, basename="school-contact")
router.register("wellbeing", WellbeingViewSet, basename="wellbeing")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
