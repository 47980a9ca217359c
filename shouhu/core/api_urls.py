"""REST API v1 routes (API.md). Filled in by the API module."""

from django.urls import path

urlpatterns: list = []
