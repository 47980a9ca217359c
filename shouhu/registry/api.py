"""REST API v1 for children's files (API.md `/api/v1/children/`; R11.1, R11.3, R11.6).

Thin on purpose (DESIGN principle 2): the serializers only convert types (dates, booleans, choices);
every business rule is in `services.validate_child` and friends, every read starts from the
selectors' scoped querysets, and out of scope answers 404 exactly like a missing record.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django import forms
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from shouhu.core.access import can
from shouhu.core.accesslog import record_read
from shouhu.core.api import Conflict
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.jurisdiction import acting_user, client_ip
from shouhu.registry import rules, selectors, services
from shouhu.registry.api_lifecycle import LifecycleActions
from shouhu.registry.duplicates import charge_identifier_search
from shouhu.registry.fields import CARE, full_id_numbers, full_phones, groups_for, groups_of, shows
from shouhu.registry.models import (
    CareArrangement,
    Child,
    FileState,
    Grandparent,
    Guardian,
    Health,
    LeftBehindType,
    Parent,
    Rating,
    Schooling,
    Sex,
    StatusPeriod,
)

# --- serializers -----------------------------------------------------------------------------------

_PARENT_DEFAULTS: dict[str, Any] = {
    "name": "",
    "birth_date": None,
    "id_number": None,
    "phone": "",
    "away_for_work": False,
    "away_since": None,
    "returned_on": None,
    "work_province": "",
    "work_city": "",
    "abroad": False,
    "work_country": "",
    "guardianship_capacity": True,
    "incapacity_reason": "",
    "deceased": False,
}


class ParentSerializer(serializers.Serializer):
    """父亲/母亲. A parent sent in `parents` is a whole record: fields left out take their defaults."""

    relation = serializers.ChoiceField(choices=Parent.Relation.choices)
    name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    birth_date = serializers.DateField(required=False, allow_null=True)
    id_number = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    phone = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    away_for_work = serializers.BooleanField(required=False)
    away_since = serializers.DateField(required=False, allow_null=True)
    returned_on = serializers.DateField(
        required=False, allow_null=True, help_text=gettext_lazy("返乡（不再外出）日期")
    )
    work_province = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2,
        help_text=gettext_lazy("GB/T 2260 省级代码，如 44 广东"),
    )
    work_city = serializers.CharField(required=False, allow_blank=True, max_length=50)
    abroad = serializers.BooleanField(required=False)
    work_country = serializers.CharField(required=False, allow_blank=True, max_length=50)
    guardianship_capacity = serializers.BooleanField(required=False)
    incapacity_reason = serializers.CharField(required=False, allow_blank=True, max_length=30)
    deceased = serializers.BooleanField(required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        # PATCH marks the whole tree partial; a parent record is nevertheless replaced whole.
        return {**_PARENT_DEFAULTS, **value}


class GrandparentSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Grandparent.Side.choices, read_only=True)
    relation = serializers.ChoiceField(choices=Grandparent.Relation.choices, read_only=True)
    name = serializers.CharField(read_only=True)
    birth_date = serializers.DateField(read_only=True)
    deceased = serializers.BooleanField(read_only=True)


class GuardianSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Guardian.Role.choices, read_only=True)
    name = serializers.CharField(read_only=True)
    relationship = serializers.CharField(read_only=True, help_text=gettext_lazy("GB/T 4761 代码"))
    birth_date = serializers.DateField(read_only=True)
    id_number = serializers.CharField(read_only=True, allow_null=True)
    phone = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)


class ContactPersonSerializer(serializers.Serializer):
    """How to reach the child's family (the contacts group: a school reaching a pupil's parents)."""

    role = serializers.ChoiceField(choices=["father", "mother", "carer", "entrusted"])
    name = serializers.CharField()
    phone = serializers.CharField(help_text=gettext_lazy("无权查看完整号码时为脱敏号码"))


class StatusPeriodSerializer(serializers.Serializer):
    left_behind = serializers.BooleanField(read_only=True)
    type = serializers.CharField(
        read_only=True, help_text=gettext_lazy("both_away | one_away_other_incapable | 空")
    )
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True, allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)


class LeftBehindSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["left_behind", "not_left_behind"])
    type = serializers.ChoiceField(choices=LeftBehindType.choices, allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    since = serializers.DateField(allow_null=True)


class KeyTargetSerializer(serializers.Serializer):
    is_key_target = serializers.BooleanField()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=["hardship", "disabled", "girl", "unattended"])
    )


class ChildSerializer(serializers.Serializer):
    """The child's file (API.md table), plus the rest of the form under names of our own."""

    id = serializers.CharField(read_only=True, help_text=gettext_lazy("不透明标识"))
    version = serializers.IntegerField(read_only=True, help_text=gettext_lazy("修改时原样提交；过期返回 409"))
    state = serializers.ChoiceField(choices=FileState.choices, read_only=True)
    archived_reason = serializers.CharField(read_only=True, help_text=gettext_lazy("归档原因；在册时为空"))
    archived_on = serializers.DateField(read_only=True, allow_null=True)
    merged_into = serializers.CharField(source="merged_into_id", read_only=True, allow_null=True)
    name = serializers.CharField(max_length=50)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    birth_date = serializers.DateField()
    ethnicity = serializers.CharField(required=False, allow_blank=True, max_length=2)
    hukou_registered = serializers.BooleanField(required=False)
    hukou_rural = serializers.BooleanField(required=False)
    hukou_place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    id_number = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    village = serializers.CharField(
        source="village_id",
        required=False,
        max_length=12,
        help_text=gettext_lazy("村（居）委会的12位区划代码"),
    )
    village_name = serializers.CharField(source="village.name", read_only=True)
    school = serializers.IntegerField(
        source="school_id",
        required=False,
        allow_null=True,
        help_text=gettext_lazy("就读学校或幼儿园的单位编号（null 表示无）"),
    )
    school_name = serializers.CharField(source="school.name", read_only=True, default=None)
    address = serializers.CharField(required=False, allow_blank=True, max_length=200)
    health = serializers.ChoiceField(choices=Health.choices, required=False)
    disability_type = serializers.CharField(required=False, allow_blank=True, max_length=2)
    disability_grade = serializers.CharField(required=False, allow_blank=True, max_length=2)
    illness = serializers.CharField(required=False, allow_blank=True, max_length=100)
    schooling = serializers.ChoiceField(choices=Schooling.choices, required=False)
    boarding = serializers.BooleanField(required=False)
    care_arrangement = serializers.ChoiceField(choices=CareArrangement.choices, required=False)
    guardianship_rating = serializers.ChoiceField(
        choices=Rating.choices,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=gettext_lazy("空字符串或 null 表示尚未评估"),
    )
    moved_with_parents = serializers.BooleanField(required=False)
    income_sources = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=gettext_lazy("代码表 income_source")
    )
    assistance = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=gettext_lazy("代码表 assistance")
    )
    distress_categories = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=gettext_lazy("代码表 distress_category")
    )
    village_contact_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    village_contact_phone = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=40
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    parents = ParentSerializer(many=True, required=False)
    grandparents = GrandparentSerializer(many=True, read_only=True)
    guardians = GuardianSerializer(many=True, read_only=True)
    status_history = StatusPeriodSerializer(many=True, read_only=True, source="status_periods")
    contacts = serializers.SerializerMethodField()
    left_behind = serializers.SerializerMethodField()
    key_target = serializers.SerializerMethodField()
    age_band = serializers.SerializerMethodField()

    # --- reading ---

    def _on(self) -> date:
        return self.context.get("as_of") or timezone.localdate()

    def _decisions(self, child: Child) -> tuple[rules.LeftBehindDecision, rules.KeyTargetDecision] | None:
        """Evaluated at `?as_of=`; None means: use the stored snapshot."""
        as_of = self.context.get("as_of")
        if as_of is None:
            return None
        # DRF keeps the very dict it was given as `context` (shared with a list's child serializer), so
        # the cache lives there; the stubs type `context` as a read-only Mapping.
        cache = self.context.setdefault("_decisions", {})  # type: ignore[attr-defined]
        if child.pk not in cache:
            cache[child.pk] = services.evaluate_at(child, as_of, list(child.parents.all()))
        return cache[child.pk]

    @extend_schema_field(LeftBehindSerializer)
    def get_left_behind(self, child: Child) -> dict[str, Any]:
        decided = self._decisions(child)
        if decided is None:
            return {
                "status": "left_behind" if child.lb_status else "not_left_behind",
                "type": child.lb_type or None,
                "reasons": list(child.lb_reasons or []),
                "since": _iso(child.lb_since) if child.lb_status else None,
            }
        lb = decided[0]
        return {
            "status": lb.status,
            "type": lb.type,
            "reasons": [r.text for r in lb.reasons],
            "since": _iso(lb.since) if lb.left_behind else None,
        }

    @extend_schema_field(KeyTargetSerializer)
    def get_key_target(self, child: Child) -> dict[str, Any]:
        decided = self._decisions(child)
        if decided is None:
            return {"is_key_target": child.key_target, "reasons": list(child.key_target_reasons or [])}
        key = decided[1]
        return {"is_key_target": key.is_key_target, "reasons": list(key.reasons)}

    @extend_schema_field(serializers.ChoiceField(choices=[b[0] for b in rules.AGE_BANDS], allow_null=True))
    def get_age_band(self, child: Child) -> str | None:
        return rules.age_band(child.birth_date, self._on())

    @extend_schema_field(ContactPersonSerializer(many=True))
    def get_contacts(self, child: Child) -> list[dict[str, Any]]:
        people: list[tuple[str, Any]] = [(p.relation, p) for p in child.parents.all()]
        people += [(g.role, g) for g in child.guardians.all()]
        return [
            {"role": role, "name": p.name, "phone": p.phone or ""} for role, p in people if p.name or p.phone
        ]

    def to_representation(self, instance: Child) -> dict[str, Any]:
        """Only the field groups this reader holds for this child: the others are left out, not blanked
        (R11.1); ID numbers and phones masked unless the reader may see them in full (R11.3)."""
        data = super().to_representation(instance)
        data["id"] = str(instance.pk)
        groups = self.context.get("groups", {}).get(instance.pk)
        if groups is None:
            request = self.context.get("request")
            groups = groups_of(request.user if request else None, instance)
        data = {k: v for k, v in data.items() if shows(k, groups)}
        if "left_behind" in data and CARE not in groups:  # its reasons speak of the parents
            data["left_behind"] = {k: v for k, v in data["left_behind"].items() if k != "reasons"}
        if not full_id_numbers(groups):
            if "id_number" in data:
                data["id_number"] = mask_id_number(data["id_number"])
            for person in [*data.get("parents", []), *data.get("guardians", [])]:
                person["id_number"] = mask_id_number(person.get("id_number"))
        if not full_phones(groups):
            if "village_contact_phone" in data:
                data["village_contact_phone"] = mask_phone(data["village_contact_phone"] or None) or ""
            for person in [*data.get("parents", []), *data.get("guardians", []), *data.get("contacts", [])]:
                person["phone"] = mask_phone(person.get("phone") or None) or ""
        return data

    # --- writing: types only; the service validates ---

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if "village_id" in value:
            value["village"] = value.pop("village_id")
        if "school_id" in value:
            value["school"] = value.pop("school_id")
        if "guardianship_rating" in value and value["guardianship_rating"] is None:
            value["guardianship_rating"] = ""
        if "village_contact_phone" in value and value["village_contact_phone"] is None:
            value["village_contact_phone"] = ""
        return value


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --- filters ---------------------------------------------------------------------------------------

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class StrictBooleanField(forms.Field):
    """`true`/`false` (or 1/0); anything else is an error, never silently ignored."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise forms.ValidationError(
            _("“%(value)s”不是有效的取值，请填写 true 或 false。") % {"value": value}, code="invalid"
        )


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.Filter):
    field_class = StrictBooleanField


class RegionCodeField(forms.CharField):
    def to_python(self, value: Any) -> str:
        text = (super().to_python(value) or "").strip()
        if text and not re.fullmatch(r"\d{12}", text):
            raise forms.ValidationError(_("区划代码应为12位数字，例如 500229102000。"), code="invalid")
        return text


class RegionCodeFilter(filters.CharFilter):
    field_class = RegionCodeField


class ChildFilterSet(filters.FilterSet):
    """The API face of `selectors.ChildFilters`: parses and validates; `search_children` does the work."""

    region = RegionCodeFilter(help_text=gettext_lazy("12位区划代码（任一级）：该区域及其下属全部"))
    left_behind = StrictBooleanFilter(help_text="true | false")
    key_target = StrictBooleanFilter(help_text="true | false")
    q = filters.CharFilter(help_text=gettext_lazy("姓名、全拼、拼音首字母、身份证号码或父母/监护人电话"))
    rating = filters.ChoiceFilter(choices=[*Rating.choices, ("none", gettext_lazy("尚未评估"))])
    schooling = filters.ChoiceFilter(choices=Schooling.choices)
    age_band = filters.ChoiceFilter(choices=[(b[0], b[0]) for b in rules.AGE_BANDS])
    state = filters.ChoiceFilter(
        choices=[*FileState.choices, ("all", gettext_lazy("全部"))],
        help_text=gettext_lazy("active（默认）| archived | all"),
    )

    class Meta:
        model = Child
        fields: list[str] = []

    def to_filters(self) -> selectors.ChildFilters:
        cd = self.form.cleaned_data
        return selectors.ChildFilters(
            q=(cd.get("q") or "").strip(),
            region=cd.get("region") or "",
            left_behind=cd.get("left_behind"),
            key_target=cd.get("key_target"),
            rating=cd.get("rating") or "",
            schooling=cd.get("schooling") or "",
            age_band=cd.get("age_band") or "",
            state=cd.get("state") or FileState.ACTIVE,
        )

    def filter_queryset(self, queryset: QuerySet[Child]) -> QuerySet[Child]:
        # `queryset` is the unfiltered `search_children` result; the filtered one starts from scope again.
        return with_related(selectors.search_children(self.request.user, self.to_filters()))


def with_related(qs: QuerySet[Child]) -> QuerySet[Child]:
    """Everything the serializer reads, in a constant number of queries per page (DESIGN principle 5)."""
    return qs.select_related("village").prefetch_related(
        Prefetch("parents", queryset=Parent.objects.order_by("relation")),
        Prefetch("grandparents", queryset=Grandparent.objects.order_by("side", "relation")),
        Prefetch("guardians", queryset=Guardian.objects.order_by("role")),
        Prefetch("status_periods", queryset=StatusPeriod.objects.order_by("start")),
    )


# --- views -----------------------------------------------------------------------------------------

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="YYYY-MM-DD：按该日期计算 left_behind 与 key_target",
    required=False,
)


def _parse_as_of(request: Request) -> date | None:
    raw = request.query_params.get("as_of")
    if raw is None or raw == "":
        return None
    try:
        return datetime.strptime(raw.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError({"as_of": [_("日期格式应为 YYYY-MM-DD，例如 2024-06-01。")]}) from None


@extend_schema_view(
    list=extend_schema(summary="儿童档案列表（限本人辖区）"),
    retrieve=extend_schema(summary="儿童档案", parameters=[AS_OF]),
    create=extend_schema(summary="建立儿童档案", responses={201: ChildSerializer}),
    update=extend_schema(summary="修改儿童档案（须提交 version）", responses={200: ChildSerializer}),
    partial_update=extend_schema(
        summary="部分修改儿童档案（须提交 version）", responses={200: ChildSerializer}
    ),
)
class ChildViewSet(LifecycleActions, mixins.ListModelMixin, viewsets.GenericViewSet):
    """`/api/v1/children/`: scoped list and file; writes through `services.child_create/child_update`."""

    shouhu_access = "scoped"
    shouhu_capabilities = {
        "list": "child.view",
        "retrieve": "child.view",
        "create": "child.create",
        "update": "child.edit",
        "partial_update": "child.edit",
        **LifecycleActions.capabilities,
    }
    serializer_class = ChildSerializer
    filterset_class = ChildFilterSet
    lookup_field = "pk"
    lookup_url_kwarg = "pk"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Child]:
        return with_related(selectors.search_children(self.request.user, selectors.ChildFilters()))

    def _visible(self, pk: Any) -> Child:
        return selectors.get_child(self.request.user, pk)  # 404 out of scope, missing or malformed

    def _render(self, child: Child, *, as_of: date | None = None, status_code: int = 200) -> Response:
        fresh = with_related(Child.objects.filter(pk=child.pk)).get()
        serializer = self.get_serializer(fresh, context={**self.get_serializer_context(), "as_of": as_of})
        return Response(serializer.data, status=status_code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """R11.2: the page read is one access record (files on the page, the query, identifiers)."""
        if selectors.identifier_query(request.query_params.get("q", "")):
            refusal = charge_identifier_search(
                acting_user(request), request.query_params["q"], ip=client_ip(request)
            )
            if refusal:
                raise ValidationError({"q": [refusal]})
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        groups = groups_for(request.user, rows)
        context = {**self.get_serializer_context(), "groups": groups}
        data = ChildSerializer(rows, many=True, context=context).data
        record_read(
            user=acting_user(request),
            action="api_list",
            count=len(rows),
            query=request.query_params,
            identifiers=any(full_id_numbers(g) for g in groups.values()),
            ip=client_ip(request),
        )
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        as_of = _parse_as_of(request)
        child = self._visible(pk)
        groups = groups_of(request.user, child)
        record_read(
            user=acting_user(request),
            action="api_read",
            child_id=child.pk,
            region_code=child.village_id,
            query=request.query_params,
            identifiers=full_id_numbers(groups),  # API.md: full ID numbers for these readers, logged
            ip=client_ip(request),
        )
        return self._render(child, as_of=as_of)

    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            child = services.child_create(actor=acting_user(request), data=serializer.validated_data)
        except services.DuplicateChild as exc:
            return _duplicate(exc, request)
        response = self._render(child, status_code=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/children/{child.pk}/"
        return response

    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, pk, partial=False)

    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, pk, partial=True)

    def _update(self, request: Request, pk: Any, *, partial: bool) -> Response:
        child = self._visible(pk)
        if not can(request.user, "child.edit", child):
            raise PermissionDenied(_("您的角色只能查看该儿童档案，不能修改。"))
        version = _version_of(request.data)
        serializer = self.get_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            child = services.child_update(
                actor=acting_user(request), child_id=child.pk, data=serializer.validated_data, version=version
            )
        except services.StaleVersion as exc:
            raise Conflict(str(exc)) from exc
        except services.OutOfScope as exc:
            raise NotFound() from exc
        except services.DuplicateChild as exc:
            return _duplicate(exc, request)
        return self._render(child)


def _version_of(data: Any) -> int:
    raw = data.get("version") if hasattr(data, "get") else None
    if raw is None or raw == "":
        raise ValidationError(
            {"version": [_("请提交读取档案时得到的 version（版本号），以免覆盖他人的修改。")]}
        )
    if isinstance(raw, bool):
        raw = "x"
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationError(
            {"version": [_("version 应为整数：请原样提交读取档案时得到的版本号。")]}
        ) from None


def _duplicate(exc: services.DuplicateChild, request: Request) -> Response:
    """400 naming the existing file when the user may open it; a neutral message otherwise (R11.1)."""
    message, existing = exc.explain(request.user, ip=client_ip(request))
    body: dict[str, Any] = {"detail": message}
    if existing is not None:
        body.update(existing=str(existing.pk), existing_url=f"/children/{existing.pk}/")
    return Response(body, status=status.HTTP_400_BAD_REQUEST)
