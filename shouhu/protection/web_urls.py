"""Web pages of this module, included in the "web" namespace (every view is @scoped or @public)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
