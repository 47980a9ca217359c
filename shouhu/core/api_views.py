"""REST API v1, core part (API.md): token login, the OpenAPI description and its page, regions.

Every view class carries `shouhu_access` ("public", "reference" or "scoped"): the URL-walk test refuses
any view that does not say who may reach it (DESIGN principle 1).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhu.core.models import Region, RegionKind

# --- auth ------------------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(trim_whitespace=True, max_length=150)
    password = serializers.CharField(trim_whitespace=False, max_length=256, style={"input_type": "password"})


class TokenView(APIView):
    """`POST /api/v1/auth/token/`: username and password in, `{"token": ...}` out (DRF authtoken)."""

    shouhu_access = "public"
    authentication_classes: list[Any] = []  # a login needs no session (and so no CSRF token)
    permission_classes = [AllowAny]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        summary="取得 API 令牌",
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: inline_serializer("TokenError", {"detail": serializers.CharField()}),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        from rest_framework.authtoken.models import Token

        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            return Response(
                {"detail": _("用户名或密码不正确，或该账号已停用。")}, status=status.HTTP_400_BAD_REQUEST
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


# --- the API's description -------------------------------------------------------------------------


class SchemaView(SpectacularAPIView):
    """`GET /api/v1/schema/`: OpenAPI 3 (YAML by default; JSON with `Accept: application/json`)."""

    shouhu_access = "public"
    permission_classes = [AllowAny]


class DocsView(View):
    """`GET /api/v1/docs/`: a plain, readable page built from the schema in the browser; no CDN."""

    shouhu_access = "public"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "core/api_docs.html", {"schema_url": reverse("api-schema")})


# --- regions (public reference data for any logged-in user) -----------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=RegionKind.choices, read_only=True)
    # A declared field named `parent`: DRF's metaclass pops declared fields off the class, so it never
    # shadows `Field.parent` (the enclosing serializer) as the stubs assume.
    parent = serializers.CharField(  # type: ignore[assignment]
        source="parent_id", read_only=True, allow_null=True, help_text=gettext_lazy("上级区划的12位代码")
    )

    class Meta:
        model = Region
        fields = ["code", "name", "kind", "parent"]
        read_only_fields = fields


class RegionFilterSet(filters.FilterSet):
    parent = filters.CharFilter(field_name="parent_id", help_text=gettext_lazy("上级区划的12位代码"))
    kind = filters.ChoiceFilter(choices=RegionKind.choices)

    class Meta:
        model = Region
        fields: list[str] = []


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """`/api/v1/regions/`: statistical division codes (county, township-level, village-level)."""

    shouhu_access = "reference"
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Region]:
        return Region.objects.order_by("code")
