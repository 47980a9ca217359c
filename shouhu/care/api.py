"""REST API of the care module (API.md): `/api/v1/children/{id}/contacts/`, `/api/v1/children/{id}/visits/`
(list, create) and `/api/v1/alerts/` (read-only). Thin: scope first, the services validate and write."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from shouhu.care import services
from shouhu.care.models import Alert, AlertKind, ParentContact, Visit
from shouhu.core.access import can
from shouhu.core.accesslog import record_read
from shouhu.core.jurisdiction import acting_user, client_ip
from shouhu.core.models import User
from shouhu.registry.api import StrictBooleanFilter
from shouhu.registry.models import Child, Rating
from shouhu.registry.selectors import get_child


class ContactSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    # A declared field named `parent`: DRF's metaclass pops declared fields off the class, so it never
    # shadows `Field.parent` (the enclosing serializer) as the stubs assume.
    parent = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[("father", "father"), ("mother", "mother")]
    )
    facilitated_by = serializers.ChoiceField(choices=ParentContact.Facilitator.choices, required=False)
    recorded_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ParentContact
        fields = [
            "id",
            "parent",
            "channel",
            "facilitated_by",
            "occurred_at",
            "note",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["recorded_at"]


class VisitSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    findings = serializers.DictField(
        required=False,
        help_text=gettext_lazy(
            "safety_hazards, living_conditions, study, health, psychology, guardian_performance, needs "
            "（文字）；living_alone（布尔）：发现儿童单独居住/无人监护"
        ),
    )
    guardianship_rating = serializers.ChoiceField(choices=Rating.choices, required=False, allow_blank=True)
    recorded_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "occurred_at",
            "kind",
            "visitor_role",
            "visitor_name",
            "findings",
            "guardianship_rating",
            "living_alone",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["living_alone", "recorded_at"]


class AlertSerializer(serializers.ModelSerializer):
    child = serializers.SerializerMethodField()
    assignee: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    escalated_to: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    region = serializers.CharField(source="region_id", read_only=True)
    parent = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text=gettext_lazy("contact_overdue：father | mother；其他为 null")
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "child",
            "region",
            "opened_at",
            "resolved_at",
            "resolution",
            "assignee",
            "escalated_at",
            "escalated_to",
            "message",
            "parent",
        ]

    def get_parent(self, alert: Alert) -> str | None:
        return alert.parent or None

    def get_child(self, alert: Alert) -> str | None:
        return str(alert.child_id) if alert.child_id else None


class _ChildRows(mixins.ListModelMixin, generics.GenericAPIView):
    """Rows about one child: 404 when the child is out of scope or missing; writes through a service.
    Reading them needs the child's care group; each list read is an access record (R11.2)."""

    shouhu_access = "scoped"
    model: Any = None
    service: Any = None

    def child(self) -> Child:
        if not hasattr(self, "_child"):
            self._child = get_child(self.request.user, self.kwargs["child_id"])
        return self._child

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no child in the URL
            return self.model.objects.none()
        return (
            self.model.objects.restrict(self.request.user, "child.care")
            .filter(child=self.child())
            .select_related("recorded_by")
        )

    def get(self, request: Request, child_id: Any) -> Response:
        child = self.child()
        if not can(request.user, "child.care", child):
            raise PermissionDenied(gettext_lazy("您的角色不查看儿童的关爱记录。"))
        response = self.list(request)
        record_read(
            user=acting_user(request),
            action="care",
            child_id=child.pk,
            region_code=child.village_id,
            count=1,
            query=request.query_params,
            detail=self.model._meta.model_name,
            ip=client_ip(request),
        )
        return response

    def post(self, request: Request, child_id: Any) -> Response:
        child = self.child()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = type(self).service(
                actor=acting_user(request), child=child, data=dict(serializer.validated_data)
            )
        except services.OutOfScope as exc:
            raise NotFound() from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        row = result[0] if isinstance(result, tuple) else result
        data = self.get_serializer(row).data
        if isinstance(result, tuple) and result[1] is not None:
            data["alert"] = AlertSerializer(result[1]).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="亲子联系记录（每周至少1次，每学期至少见面1次）"),
    post=extend_schema(summary="登记亲子联系（不得晚于当前时间）"),
)
class ContactListCreate(_ChildRows):
    shouhu_capabilities = {"get": "child.care", "post": "care.contact"}
    serializer_class = ContactSerializer
    model = ParentContact
    service = staticmethod(services.contact_log)


@extend_schema_view(
    get=extend_schema(summary="走访记录"),
    post=extend_schema(summary="登记走访（发现情况、本次监护评估；发现单独居住即发出无人监护预警）"),
)
class VisitListCreate(_ChildRows):
    shouhu_capabilities = {"get": "child.care", "post": "care.record"}
    serializer_class = VisitSerializer
    model = Visit
    service = staticmethod(services.visit_log)


class AlertFilterSet(filters.FilterSet):
    child = filters.UUIDFilter(field_name="child_id")
    kind = filters.ChoiceFilter(choices=AlertKind.choices)
    open = StrictBooleanFilter(method="filter_open", help_text="true | false")

    class Meta:
        model = Alert
        fields: list[str] = []

    def filter_open(self, qs: QuerySet[Alert], name: str, value: bool | None) -> QuerySet[Alert]:
        if value is None:
            return qs
        return qs.filter(resolved_at__isnull=value)


@extend_schema_view(list=extend_schema(summary="预警（限本人辖区）"), retrieve=extend_schema(summary="预警"))
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    shouhu_access = "scoped"
    shouhu_capability = "alert.view"
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet

    def get_queryset(self) -> QuerySet[Alert]:
        return (
            Alert.objects.restrict(self.request.user, "alert.view")
            .select_related("assignee", "escalated_to")
            .order_by("-opened_at", "-id")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        results = response.data.get("results", []) if isinstance(response.data, dict) else response.data
        record_read(
            user=acting_user(request),
            action="api_list",
            count=len({r["child"] for r in results if r.get("child")}),
            query=request.query_params,
            detail="alerts",
            ip=client_ip(request),
        )
        return response
