"""REST routes of this module, included at /api/v1/ (every view declares `shouhu_access`)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from shouhu.protection.api import CaseViewSet, ReferralViewSet, ReportViewSet

router = SimpleRouter()
router.register("reports", ReportViewSet, basename="report")
router.register("cases", CaseViewSet, basename="case")
router.register("referrals", ReferralViewSet, basename="referral")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
