"""REST API of schooling (API.md "Schooling (R4)"): enrolments, absences, dropout cases and their
transitions; pairings, school–family contacts and the census lists. Thin: scope first (`restrict`,
404 out of reach), the services validate and write."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from shouhu.core.access import get_or_404
from shouhu.core.accesslog import record_read
from shouhu.core.api import request_body
from shouhu.core.jurisdiction import acting_user, client_ip
from shouhu.schooling import dropout, selectors, services
from shouhu.schooling.models import Absence, DropoutCase, Enrolment, Pairing, SchoolContact, Wellbeing


def _read(request: Request, count: int, detail: str, child_id: Any = "") -> None:
    record_read(
        user=acting_user(request),
        action="api_read" if child_id else "api_list",
        child_id=child_id,
        count=count,
        query=request.query_params,
        detail=detail,
        ip=client_ip(request),
    )


class EnrolmentSerializer(serializers.ModelSerializer):
    child = serializers.UUIDField(source="child_id", required=False, allow_null=True)
    school = serializers.IntegerField(source="school_id", required=False)
    left_behind_mark = serializers.SerializerMethodField()
    name = serializers.CharField(required=False, max_length=50)
    birth_date = serializers.DateField(required=False)
    id_number = serializers.CharField(required=False, write_only=True, allow_blank=True)
    sex = serializers.CharField(required=False, allow_blank=True, max_length=1)
    village = serializers.CharField(source="village_id", required=False, allow_null=True, max_length=12)
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "version",
            "child",
            "school",
            "student_number",
            "grade",
            "class_name",
            "boarding",
            "since",
            "until",
            "left_behind_mark",
            "name",
            "sex",
            "birth_date",
            "id_number",
            "village",
            "match",
        ]
        read_only_fields = ["match"]

    def get_left_behind_mark(self, e: Enrolment) -> bool | None:
        return bool(e.child.lb_status) if e.child_id and e.child is not None else None


class EnrolmentFilterSet(filters.FilterSet):
    school = filters.NumberFilter(field_name="school_id")
    child = filters.UUIDFilter(field_name="child_id")
    grade = filters.CharFilter()
    class_name = filters.CharFilter()

    class Meta:
        model = Enrolment
        fields: list[str] = []


def _data(validated: dict[str, Any]) -> dict[str, Any]:
    out = dict(validated)
    for src, dst in (("child_id", "child"), ("school_id", "school"), ("village_id", "village")):
        if src in out:
            out[dst] = out.pop(src)
    return out


@extend_schema_view(
    list=extend_schema(summary="学籍（本校学生；辖区内学生）"),
    create=extend_schema(summary="登记学籍（台账中没有的学生建立临时档案，由村确认）"),
)
class EnrolmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    shouhu_access = "scoped"
    shouhu_capability = "roster.view"
    shouhu_capabilities = {"create": "roster.edit", "update": "roster.edit", "partial_update": "roster.edit"}
    serializer_class = EnrolmentSerializer
    filterset_class = EnrolmentFilterSet

    def get_queryset(self) -> QuerySet[Enrolment]:
        return selectors.enrolments(self.request.user).order_by(
            "school_id", "grade", "class_name", "name", "id"
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        results = response.data.get("results", []) if isinstance(response.data, dict) else []
        _read(request, len({r["child"] for r in results if r.get("child")}), "enrolments")
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        s = self.get_serializer(data=request_body(request))
        s.is_valid(raise_exception=True)
        try:
            e = services.enrolment_create(actor=acting_user(request), data=_data(s.validated_data))
        except services.OutOfScope as exc:
            raise NotFound() from exc
        return Response(self.get_serializer(e).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        e = get_or_404(
            Enrolment.objects.select_related("child", "school"), request.user, "roster.view", pk=kwargs["pk"]
        )
        s = self.get_serializer(e, data=request_body(request), partial=True)
        s.is_valid(raise_exception=True)
        data = {k: v for k, v in s.validated_data.items() if k in services.ENROLMENT_FIELDS}
        try:
            e = services.enrolment_update(
                actor=acting_user(request), enrolment=e, data=data, version=s.validated_data.get("version")
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(self.get_serializer(e).data)


class AbsenceSerializer(serializers.ModelSerializer):
    child = serializers.UUIDField(source="child_id")
    school = serializers.IntegerField(source="school_id", read_only=True)
    days = serializers.DecimalField(max_digits=3, decimal_places=1, required=False, coerce_to_string=False)

    class Meta:
        model = Absence
        fields = ["id", "child", "school", "date", "days", "excused", "reason", "recorded_at"]
        read_only_fields = ["recorded_at"]


class AbsenceFilterSet(filters.FilterSet):
    child = filters.UUIDFilter(field_name="child_id")
    date = filters.DateFilter()

    class Meta:
        model = Absence
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="缺勤"),
    create=extend_schema(summary="登记缺勤（无故缺课达到政策阈值即登记控辍保学个案并发出辍学预警）"),
)
class AbsenceViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    shouhu_access = "scoped"
    shouhu_capability = "roster.view"
    shouhu_capabilities = {"create": "attendance.record"}
    serializer_class = AbsenceSerializer
    filterset_class = AbsenceFilterSet

    def get_queryset(self) -> QuerySet[Absence]:
        from shouhu.core.access import restrict

        return restrict(Absence.objects.all(), self.request.user, "roster.view").order_by("-date", "id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        results = response.data.get("results", []) if isinstance(response.data, dict) else []
        _read(request, len({r["child"] for r in results}), "absences")
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        s = self.get_serializer(data=request_body(request))
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        e = (
            selectors.current(selectors.enrolments(request.user, "attendance.record"))
            .filter(child_id=data.pop("child_id"))
            .first()
        )
        if e is None:
            raise NotFound()
        absence, case = services.absence_record(actor=acting_user(request), enrolment=e, data=data)
        out = dict(self.get_serializer(absence).data)
        out["dropout"] = str(case.pk) if case is not None else None
        return Response(out, status=status.HTTP_201_CREATED)


def dropout_data(case: DropoutCase, user: Any) -> dict[str, Any]:
    now = timezone.now()
    return {
        "id": str(case.pk),
        "child": str(case.child_id),
        "school": case.school_id,
        "state": case.state,
        "opened_at": timezone.localtime(case.opened_at).isoformat(),
        "opened_on": case.opened_on.isoformat(),
        "trigger": case.trigger,
        "closed_at": timezone.localtime(case.closed_at).isoformat() if case.closed_at else None,
        "allowed_transitions": dropout.allowed_transitions(user, case),
        "deadlines": [
            {
                "step": d.target,
                "label": d.label,
                "due": timezone.localtime(d.due).isoformat() if d.due else None,
                "done_at": timezone.localtime(d.done_at).isoformat() if d.done_at else None,
                "met": d.met,
            }
            for d in dropout.deadlines(case, now)
        ],
        "timeline": [
            {
                "from": s.from_state,
                "to": s.to_state,
                "attempt": s.attempt,
                "by_unit": s.by_unit,
                "at": timezone.localtime(s.at).isoformat(),
                "actor": s.actor.username if s.actor else None,
                "note": s.note,
            }
            for s in case.steps.select_related("actor").all()
        ],
    }


class TransitionSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=20)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    by_unit = serializers.CharField(required=False, allow_blank=True, default="")


class DropoutFilterSet(filters.FilterSet):
    state = filters.CharFilter()
    child = filters.UUIDFilter(field_name="child_id")

    class Meta:
        model = DropoutCase
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="控辍保学个案"), retrieve=extend_schema(summary="控辍保学个案")
)
class DropoutViewSet(viewsets.ReadOnlyModelViewSet):
    shouhu_access = "scoped"
    shouhu_capability = "dropout.view"
    shouhu_capabilities = {"attempts": "dropout.act"}
    filterset_class = DropoutFilterSet
    serializer_class = TransitionSerializer  # for the schema of the transitions action

    def get_queryset(self) -> QuerySet[DropoutCase]:
        return selectors.dropouts(self.request.user).prefetch_related("steps__actor").order_by("-opened_at")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        rows = [dropout_data(c, request.user) for c in (page if page is not None else qs)]
        _read(request, len({r["child"] for r in rows}), "dropouts")
        return self.get_paginated_response(rows)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = dropout.get_case(request.user, kwargs["pk"])
        _read(request, 1, "dropout", child_id=case.child_id)
        return Response(dropout_data(case, request.user))

    @extend_schema(
        summary="控辍保学个案流转：登记、劝返、书面报告、复学、转学、免于入学", request=TransitionSerializer
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: Any = None) -> Response:
        dropout.get_case(request.user, pk)  # 404 out of reach, before the body is judged
        s = TransitionSerializer(data=request_body(request))
        s.is_valid(raise_exception=True)
        case = dropout.dropout_transition(actor=acting_user(request), case_id=pk, **s.validated_data)
        return Response(dropout_data(case, request.user))

    @extend_schema(summary="登记一次劝返（每次劝返注明日期和单位）", request=TransitionSerializer)
    @action(detail=True, methods=["post"])
    def attempts(self, request: Request, pk: Any = None) -> Response:
        dropout.get_case(request.user, pk)
        body = request_body(request)
        try:
            dropout.persuasion_attempt(
                actor=acting_user(request),
                case_id=pk,
                note=str(body.get("note") or ""),
                by_unit=str(body.get("by_unit") or ""),
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(
            dropout_data(dropout.get_case(request.user, pk), request.user), status=status.HTTP_201_CREATED
        )


class PairingSerializer(serializers.ModelSerializer):
    child = serializers.UUIDField(source="child_id")
    school = serializers.IntegerField(source="school_id", read_only=True)
    starts_on = serializers.DateField(required=False)

    class Meta:
        model = Pairing
        fields = ["id", "child", "school", "teacher_name", "position", "starts_on", "ends_on"]
        read_only_fields = ["ends_on"]


class SchoolContactSerializer(serializers.ModelSerializer):
    child = serializers.UUIDField(source="child_id")
    school = serializers.IntegerField(source="school_id", read_only=True)
    occurred_at = serializers.DateTimeField(required=False)

    class Meta:
        model = SchoolContact
        fields = ["id", "child", "school", "kind", "with_whom", "occurred_at", "note"]


class _SchoolRows(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    shouhu_access = "scoped"
    shouhu_capability = "school.care"
    model: Any = None
    service: Any = None

    def get_queryset(self) -> QuerySet[Any]:
        from shouhu.core.access import restrict

        qs = restrict(self.model.objects.all(), self.request.user, "school.care").order_by("-id")
        child = self.request.query_params.get("child")
        return qs.filter(child_id=child) if child and services._uuid(child) else qs

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        s = self.get_serializer(data=request_body(request))
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        e = (
            selectors.current(selectors.enrolments(request.user, "school.care"))
            .filter(child_id=data.pop("child_id"))
            .first()
        )
        if e is None:
            raise NotFound()
        row = type(self).service(actor=acting_user(request), enrolment=e, data=data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(summary="结对帮扶"), create=extend_schema(summary="登记结对帮扶"))
class PairingViewSet(_SchoolRows):
    serializer_class = PairingSerializer
    model = Pairing
    service = staticmethod(services.pairing_add)


@extend_schema_view(
    list=extend_schema(summary="家校联系与帮扶记录"),
    create=extend_schema(summary="登记谈心、学业辅导、电话联系家长、家访、家长会"),
)
class SchoolContactViewSet(_SchoolRows):
    serializer_class = SchoolContactSerializer
    model = SchoolContact
    service = staticmethod(services.school_contact_add)


class WellbeingSerializer(serializers.ModelSerializer):
    child = serializers.UUIDField(source="child_id")
    school = serializers.IntegerField(source="school_id", read_only=True)
    occurred_at = serializers.DateTimeField(required=False)
    situations = serializers.ListField(child=serializers.CharField(max_length=40), required=False)

    class Meta:
        model = Wellbeing
        fields = ["id", "child", "school", "kind", "note", "situations", "counselling", "occurred_at"]


@extend_schema_view(
    list=extend_schema(summary="心理关爱、不良行为和宿舍记录"),
    create=extend_schema(summary="登记心理关爱记录（写明应报告情形即开始计算学校的报告时限）"),
)
class WellbeingViewSet(_SchoolRows):
    serializer_class = WellbeingSerializer
    model = Wellbeing
    service = staticmethod(services.wellbeing_record)
