"""REST API of the services module (API.md "Services (R8)"): `/api/v1/needs/`, `/api/v1/providers/`,
`/api/v1/programmes/`, `/api/v1/activities/` and `/api/v1/service-types/`. Thin: scope first (selectors),
the services validate and write; a service's ValidationError is a 400 by field (core/api.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from shouhu.core.accesslog import record_request
from shouhu.core.api import request_body
from shouhu.core.jurisdiction import acting_user
from shouhu.registry.selectors import get_child
from shouhu.services import activities, selectors, services
from shouhu.services.models import Attendance, Need, NeedStep, Programme, Provider, ServiceType, Session
from shouhu.services.serializers import (
    NeedSerializer,
    ProgrammeSerializer,
    ProviderSerializer,
    SessionSerializer,
)


def _plain(body: Any) -> dict[str, Any]:
    """A JSON object as is; a form body (QueryDict) as its last values, so a field is never a list."""
    return body.dict() if hasattr(body, "dict") else dict(body)


class ServiceTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceType
        fields = ["code", "name_zh", "name_en", "clause", "active"]


class ServiceTypeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """`/api/v1/service-types/`: the county's list of service types (codes used by needs)."""

    shouhu_access = "scoped"
    shouhu_capability = ("service.view", "activity.attend")
    serializer_class = ServiceTypeSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ServiceType]:
        return ServiceType.objects.filter(active=True)


class NeedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/v1/needs/`: a child's service needs in the user's reach; a provider's offered or accepted."""

    shouhu_access = "scoped"
    shouhu_capabilities = {
        "list": "service.view",
        "retrieve": "service.view",
        "create": "service.need",
        "transitions": "service.view",
        "matches": "service.need",
    }
    serializer_class = NeedSerializer

    def get_queryset(self) -> QuerySet[Need]:
        qs = selectors.visible_needs(self.request.user).prefetch_related(
            Prefetch("steps", NeedStep.objects.select_related("actor"))
        )
        q = self.request.query_params
        if q.get("state"):
            qs = qs.filter(state=q["state"])
        if q.get("child"):
            qs = qs.filter(child_id=services._uuid(q["child"]))
        if q.get("type"):
            qs = qs.filter(type_id=q["type"])
        if q.get("overdue") == "true":
            qs = qs.filter(pk__in=selectors.overdue_needs(self.request.user).values("pk"))
        return qs.order_by("-created_at", "id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        record_request(request, "api_list", count=len({n.child_id for n in page}), detail="needs")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        need = selectors.get_need(request.user, pk)
        record_request(request, "api_read", child=need.child, detail=f"need {need.pk}")
        return Response(self.get_serializer(need).data)

    @extend_schema(
        summary="登记儿童服务需求",
        request=inline_serializer(
            "NeedIn",
            {
                "child": serializers.CharField(),
                "type": serializers.CharField(),
                "source": serializers.ChoiceField(
                    choices=["visit", "assessment", "school", "parent", "case", "hotline"]
                ),
                "urgency": serializers.ChoiceField(choices=["normal", "urgent"], required=False),
                "visit": serializers.IntegerField(required=False),
                "note": serializers.CharField(required=False),
            },
        ),
        responses={201: NeedSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = request_body(request)
        if not body.get("child"):
            return Response({"child": ["请填写儿童的 id。"]}, status=status.HTTP_400_BAD_REQUEST)
        child = get_child(request.user, body["child"])
        need = services.need_record(actor=acting_user(request), child=child, data=_plain(body))
        return Response(self.get_serializer(selectors.get_need(request.user, need.pk)).data, status=201)

    @extend_schema(
        summary="服务需求的状态转换（推送、接收、退回、已服务、办结、无法满足）",
        request=inline_serializer(
            "NeedTransitionIn",
            {
                "to": serializers.CharField(),
                "note": serializers.CharField(required=False),
                "provider": serializers.IntegerField(required=False),
                "programme": serializers.IntegerField(required=False),
            },
        ),
        responses={200: NeedSerializer},
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: Any = None) -> Response:
        need = selectors.get_need(request.user, pk)
        body = request_body(request)
        services.need_transition(
            actor=acting_user(request),
            need=need,
            to=str(body.get("to") or ""),
            note=str(body.get("note") or ""),
            provider=body.get("provider"),
            programme=body.get("programme"),
        )
        return Response(self.get_serializer(selectors.get_need(request.user, need.pk)).data)

    @extend_schema(
        summary="可承接该需求的服务机构（已审核、服务本村、提供该项服务、尚有名额）",
        responses={
            200: inline_serializer(
                "NeedMatch",
                {
                    "provider": serializers.IntegerField(),
                    "name": serializers.CharField(),
                    "free": serializers.IntegerField(allow_null=True),
                    "reason": serializers.CharField(),
                },
                many=True,
            )
        },
    )
    @action(detail=True, methods=["get"])
    def matches(self, request: Request, pk: Any = None) -> Response:
        need = selectors.get_need(request.user, pk)
        return Response(
            [
                {"provider": m.provider_id, "name": m.name, "free": m.free, "reason": m.reason}
                for m in selectors.matches_for(need)
            ]
        )


class ProviderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """`/api/v1/providers/`: providers serving the user's region (a provider: itself)."""

    shouhu_access = "scoped"
    shouhu_capabilities = {
        "list": "service.view",
        "retrieve": "service.view",
        "create": "service.approve",
        "decide": "service.approve",
    }
    serializer_class = ProviderSerializer

    def get_queryset(self) -> QuerySet[Provider]:
        return selectors.visible_providers(self.request.user).prefetch_related("villages", "service_types")

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(self.get_serializer(selectors.get_provider(request.user, pk)).data)

    @extend_schema(
        summary="县民政局登记服务机构（待审核）",
        request=inline_serializer(
            "ProviderIn",
            {
                "organisation": serializers.IntegerField(required=False),
                "name": serializers.CharField(required=False),
                "region": serializers.CharField(required=False),
                "category": serializers.CharField(),
                "villages": serializers.ListField(child=serializers.CharField()),
                "service_types": serializers.ListField(child=serializers.CharField()),
                "capacity": serializers.IntegerField(required=False),
                "hotline": serializers.CharField(required=False),
                "contact": serializers.CharField(required=False),
            },
        ),
        responses={201: ProviderSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        p = services.provider_register(actor=acting_user(request), data=_plain(request_body(request)))
        return Response(self.get_serializer(p).data, status=201)

    @extend_schema(
        summary="审核服务机构（approved / refused / suspended）",
        request=inline_serializer(
            "ProviderDecideIn",
            {"status": serializers.CharField(), "note": serializers.CharField(required=False)},
        ),
        responses={200: ProviderSerializer},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: Any = None) -> Response:
        p = selectors.get_provider(request.user, pk)
        body = request_body(request)
        p = services.provider_decide(
            actor=acting_user(request),
            provider=p,
            status=str(body.get("status") or ""),
            note=str(body.get("note") or ""),
        )
        return Response(self.get_serializer(p).data)


class ProgrammeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """`/api/v1/programmes/`: programmes in the user's region, or a provider's own."""

    shouhu_access = "scoped"
    shouhu_capabilities = {
        "list": "service.view",
        "retrieve": "service.view",
        "create": "service.manage",
        "enrol": ("service.manage", "service.need"),
    }
    serializer_class = ProgrammeSerializer

    def get_queryset(self) -> QuerySet[Programme]:
        return selectors.visible_programmes(self.request.user).prefetch_related("enrolments")

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(self.get_serializer(selectors.get_programme(request.user, pk)).data)

    @extend_schema(
        summary="登记服务项目（四点半课堂、七彩假期……）",
        request=inline_serializer(
            "ProgrammeIn",
            {
                "provider": serializers.IntegerField(),
                "name": serializers.CharField(),
                "service_type": serializers.CharField(),
                "village": serializers.CharField(),
                "key_times": serializers.ListField(child=serializers.CharField(), required=False),
                "venue_kind": serializers.CharField(required=False),
                "venue": serializers.CharField(required=False),
                "schedule": serializers.CharField(required=False),
                "capacity": serializers.IntegerField(required=False),
            },
        ),
        responses={201: ProgrammeSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = request_body(request)
        if not body.get("provider"):
            return Response({"provider": ["请填写服务机构的 id。"]}, status=status.HTTP_400_BAD_REQUEST)
        provider = selectors.get_provider(request.user, body["provider"])
        p = services.programme_create(actor=acting_user(request), provider=provider, data=_plain(body))
        return Response(self.get_serializer(selectors.get_programme(request.user, p.pk)).data, status=201)

    @extend_schema(
        summary="登记参加项目的儿童",
        request=inline_serializer("EnrolIn", {"child": serializers.CharField()}),
        responses={200: ProgrammeSerializer},
    )
    @action(detail=True, methods=["post"])
    def enrol(self, request: Request, pk: Any = None) -> Response:
        p = selectors.get_programme(request.user, pk)
        services.enrol(actor=acting_user(request), programme=p, child_id=request_body(request).get("child"))
        return Response(self.get_serializer(selectors.get_programme(request.user, p.pk)).data)


class ActivityViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """`/api/v1/activities/`: sessions of programmes — a volunteer's own, a provider's, the region's."""

    shouhu_access = "scoped"
    shouhu_capabilities = {
        "list": ("activity.attend", "service.view"),
        "retrieve": "activity.attend",
        "create": "service.manage",
        "attendance": "activity.attend",
    }
    serializer_class = SessionSerializer

    def get_queryset(self) -> QuerySet[Session]:
        return (
            selectors.visible_sessions(self.request.user)
            .select_related("volunteer")
            .prefetch_related(Prefetch("attendance", Attendance.objects.select_related("child")))
            .order_by("-starts_at", "id")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        kids = {a.child_id for s in page for a in s.attendance.all()}
        record_request(request, "api_list", count=len(kids), detail="activities")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        s = selectors.get_session(request.user, pk)
        record_request(request, "api_list", count=s.attendance.count(), detail=f"activity {s.pk}")
        return Response(self.get_serializer(s).data)

    @extend_schema(
        summary="安排一场活动",
        request=inline_serializer(
            "ActivityIn",
            {
                "programme": serializers.IntegerField(),
                "starts_at": serializers.DateTimeField(),
                "hours": serializers.DecimalField(max_digits=4, decimal_places=1, required=False),
                "topic": serializers.CharField(required=False),
                "volunteer": serializers.CharField(required=False, help_text="the volunteer's username"),
            },
        ),
        responses={201: SessionSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = request_body(request)
        if not body.get("programme"):
            return Response({"programme": ["请填写服务项目的 id。"]}, status=status.HTTP_400_BAD_REQUEST)
        programme = selectors.get_programme(request.user, body["programme"])
        s = activities.session_create(actor=acting_user(request), programme=programme, data=body)
        return Response(self.get_serializer(s).data, status=201)

    @extend_schema(
        summary="活动签到：到场儿童的 id 列表，可附反馈",
        request=inline_serializer(
            "AttendanceIn",
            {
                "present": serializers.ListField(child=serializers.CharField()),
                "feedback": serializers.DictField(child=serializers.CharField(), required=False),
            },
        ),
        responses={200: SessionSerializer},
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk: Any = None) -> Response:
        s = selectors.get_session(request.user, pk)
        body = request_body(request)
        present, feedback = body.get("present"), body.get("feedback") or {}
        if not isinstance(present, list) or not isinstance(feedback, dict):
            return Response(
                {"present": ["请以列表给出到场儿童的 id，反馈以 {id: 文字} 给出。"]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        activities.attendance_take(actor=acting_user(request), session=s, present=present, feedback=feedback)
        return Response(self.get_serializer(self.get_queryset().get(pk=s.pk)).data)
