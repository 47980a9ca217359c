"""`/api/v1/audit/events/` and `/api/v1/audit/access/` (API.md Audit; R11.2): for `audit.view` holders
(auditor, county administrator). Filters `?user=` (username), `?child=`, `?since=` (date or date-time),
and `?until=`, `?action=` (access) / `?verb=` (events, a prefix)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from shouhu.core import audit
from shouhu.core.access import access_of
from shouhu.core.models import AccessLog

FILTERS = [
    OpenApiParameter("user", OpenApiTypes.STR, description="用户名"),
    OpenApiParameter("child", OpenApiTypes.STR, description="儿童档案 id"),
    OpenApiParameter("since", OpenApiTypes.STR, description="YYYY-MM-DD 或 ISO 8601 时间（含）"),
    OpenApiParameter("until", OpenApiTypes.STR, description="YYYY-MM-DD（含当天）或 ISO 8601 时间（不含）"),
]


def _filters(request: Request) -> audit.AuditFilters:
    try:
        return audit.filters_from(request.query_params)
    except audit.FilterError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True, help_text="操作人用户名；报告人身份对无权查看者为 null")
    verb = serializers.CharField()
    subject_type = serializers.CharField()
    subject_id = serializers.CharField()
    child = serializers.CharField(allow_null=True)
    region = serializers.CharField(allow_null=True)
    visibility = serializers.CharField()
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(), help_text="改动的字段（不含内容）"
    )
    summary = serializers.CharField(allow_null=True)


class AccessRowSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    child = serializers.SerializerMethodField()

    class Meta:
        model = AccessLog
        fields = ["seq", "user", "action", "child", "count", "at", "query", "identifiers", "detail"]

    def get_child(self, row: AccessLog) -> str | None:
        return row.child_id or None


class AuditEvents(generics.GenericAPIView):
    shouhu_access = "scoped"
    shouhu_capability = "audit.view"
    serializer_class = AuditEventSerializer

    @extend_schema(
        summary="操作记录（防篡改事件链）", parameters=[*FILTERS, OpenApiParameter("verb", OpenApiTypes.STR)]
    )
    def get(self, request: Request) -> Response:
        qs = audit.events_for(request.user, _filters(request))
        page = self.paginate_queryset(qs) or []
        sees = access_of(request.user).has("case.reporter")
        data = AuditEventSerializer([audit.event_row(e, sees) for e in page], many=True).data
        return self.get_paginated_response(data)


class AuditAccess(generics.ListAPIView):
    shouhu_access = "scoped"
    shouhu_capability = "audit.view"
    serializer_class = AccessRowSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return AccessLog.objects.none()
        return audit.access_for(self.request.user, _filters(self.request))

    @extend_schema(
        summary="访问日志（谁在何时查看了哪名儿童、多少份档案）",
        parameters=[*FILTERS, OpenApiParameter("action", OpenApiTypes.STR)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
