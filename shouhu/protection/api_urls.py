"""REST routes of this module, included at /api/v1/ (every view declares `shouhu_access`)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
