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
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhu.core.models import Region, RegionKind

# --- auth ------------------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(trim_whitespace=True, max_length=150)
    password = serializers.CharField(trim_whitespace=False, max_length=256, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text=gettext_lazy("6位动态验证码（TOTP），须使用第二因素的角色必填"),
    )


class TokenView(APIView):
    """`POST /api/v1/auth/token/` (API.md): username, password (and `otp` where the role needs a second
    factor) in, `{"token", "expires_at"}` out. A locked username or address answers 429 `locked_out`
    with `Retry-After` before any password is hashed (issue 10, shouhu.accounts)."""

    shouhu_access = "public"
    authentication_classes: list[Any] = []  # a login needs no session (and so no CSRF token)
    permission_classes = [AllowAny]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        summary="取得 API 令牌",
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "TokenResponse", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
            ),
            400: inline_serializer("TokenError", {"detail": serializers.CharField()}),
            401: inline_serializer(
                "TokenOtpRequired", {"detail": serializers.CharField(), "code": serializers.CharField()}
            ),
            429: inline_serializer(
                "TokenLockedOut", {"detail": serializers.CharField(), "code": serializers.CharField()}
            ),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        from shouhu.accounts import lockout, otp, tokens
        from shouhu.accounts.models import PasswordChangeRequired
        from shouhu.accounts.views import locked_message
        from shouhu.core.jurisdiction import client_ip

        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        until = getattr(request._request, "shouhu_locked_until", None)
        if until is not None:
            return Response(
                {"detail": locked_message(until), "code": "locked_out"},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(lockout.retry_after(until))},
            )
        if user is None or not user.is_active:
            return Response(
                {"detail": _("用户名或密码不正确，或该账号已停用。")}, status=status.HTTP_400_BAD_REQUEST
            )
        if otp.needs_second_factor(user) and not otp.verify_totp(user, data.get("otp")):
            if data.get("otp"):
                lockout.record_failure(user.username, client_ip(request), "otp")
            return Response(
                {
                    "detail": _(
                        "该账号须使用动态验证码：请在 otp 中发送验证器应用当前显示的6位数字（每个只能用一次）。"
                    ),
                    "code": "otp_required",
                },
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        if PasswordChangeRequired.objects.filter(user=user).exists():
            return Response(
                {"detail": _("请先在网页上修改管理员设置的初始密码。"), "code": "password_change_required"},
                status=status.HTTP_403_FORBIDDEN,
            )
        token, key = tokens.issue_login_token(user)
        return Response({"token": key, "expires_at": timezone.localtime(token.expires_at).isoformat()})


class LogoutView(APIView):
    """`POST /api/v1/auth/logout/` (API.md): revokes the token the request was made with (204)."""

    shouhu_access = "public"
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="注销 API 令牌", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        from shouhu.accounts.models import ApiToken
        from shouhu.accounts.tokens import revoke_token

        if isinstance(request.auth, ApiToken):
            revoke_token(request.auth, "logout")
        else:
            from django.contrib.auth import logout

            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
