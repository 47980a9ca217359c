"""REST API of the protection chain (API.md `/api/v1/reports/`, `/api/v1/cases/`; R5–R7).

Thin: serializers convert types, services decide and write, selectors scope every read. Out of scope
answers 404 like a missing record; an illegal or unauthorised transition answers 400 with the reason.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from shouhu.core.access import can
from shouhu.core.accesslog import record_request
from shouhu.core.api import request_body
from shouhu.core.jurisdiction import acting_user, client_ip
from shouhu.protection import selectors, services
from shouhu.protection.models import (
    Case,
    CaseState,
    Referral,
    Report,
    Transition,
)
from shouhu.protection.serializers import (
    CaseDetailSerializer,
    CaseSerializer,
    ReferralSerializer,
    ReportCreateSerializer,
    ReportProgressSerializer,
    TransitionSerializer,
)

# --- views -----------------------------------------------------------------------------------------


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/v1/reports/`: submit a report; list and read one's own reports' progress (R5)."""

    shouhu_access = "scoped"
    shouhu_capability = "report.create"
    serializer_class = ReportProgressSerializer

    def get_queryset(self) -> QuerySet[Report]:
        return selectors.own_reports(self.request.user).order_by("-reported_at")

    @extend_schema(
        summary="提交强制报告/举报",
        request=ReportCreateSerializer,
        responses={201: ReportProgressSerializer},
    )
    def create(self, request: Request) -> Response:
        s = ReportCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        report = services.report_submit(
            actor=acting_user(request), data=s.validated_data, ip=client_ip(request)
        )
        data = ReportProgressSerializer(report).data
        return Response(data, status=status.HTTP_201_CREATED)


def _cases(user: Any) -> QuerySet[Case]:
    return selectors.visible_cases(user).prefetch_related(
        Prefetch(
            "transitions", queryset=Transition.objects.select_related("actor", "unit").order_by("at", "id")
        )
    )


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/v1/cases/`: the protection cases the user's role covers; every move through `transitions`."""

    shouhu_access = "scoped"
    shouhu_capability = "case.view"  # each step's own capability is checked by the service
    serializer_class = CaseSerializer

    def get_queryset(self) -> QuerySet[Case]:
        qs = _cases(self.request.user)
        state = self.request.query_params.get("state")
        if state:
            if state not in CaseState.values:
                raise ValidationError({"state": [f"state: {', '.join(CaseState.values)}"]})
            qs = qs.filter(state=state)
        return qs.order_by("-opened_at")

    def get_serializer_context(self) -> dict[str, Any]:
        return {
            **super().get_serializer_context(),
            "limits": selectors.limits(),
            "townships": selectors.township_governments(),
        }

    def get_serializer_class(self) -> Any:
        return CaseDetailSerializer if self.action != "list" else CaseSerializer

    def _case(self, pk: Any) -> Case:
        return selectors.get_case(self.request.user, pk)

    def _render(self, case: Case, code: int = 200) -> Response:
        fresh = _cases(self.request.user).get(pk=case.pk)
        return Response(CaseDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        n = len(response.data.get("results", [])) if isinstance(response.data, dict) else 0
        record_request(request, "api_list", count=n, query=request.query_params, detail="cases")
        return response

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        record_request(request, "case", child=case, detail=case.number)
        return self._render(case)

    @extend_schema(summary="受理并书面回复新加入的报告", request=None, responses={200: CaseDetailSerializer})
    @action(detail=True, methods=["post"], url_path="receive-reports")
    def receive_reports(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        services.reports_receive(actor=acting_user(request), case_id=case.pk)
        return self._render(case)

    @extend_schema(
        summary="推进个案（状态转移）", request=TransitionSerializer, responses={200: CaseDetailSerializer}
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        s = TransitionSerializer(data=request.data)
        if not s.is_valid():
            raise ValidationError(s.errors)
        data = {k: v for k, v in request_body(request).items() if k not in ("to", "note")}
        services.case_transition(
            actor=acting_user(request),
            case_id=case.pk,
            to=s.validated_data["to"],
            note=s.validated_data.get("note", ""),
            data=data,
        )
        return self._render(case)

    @extend_schema(
        summary="登记处置措施（清单）",
        request=inline_serializer(
            "MeasuresIn",
            {
                "measures": serializers.ListField(child=serializers.CharField()),
                "note": serializers.CharField(required=False),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def measures(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        body = request_body(request)
        services.measures_record(
            actor=acting_user(request),
            case_id=case.pk,
            measures=body.get("measures") or [],
            note=body.get("note") or "",
        )
        return self._render(case)

    @extend_schema(
        summary="登记临时安置",
        request=inline_serializer(
            "PlacementIn",
            {
                "place_kind": serializers.CharField(),
                "place": serializers.CharField(),
                "start": serializers.DateTimeField(),
                "end": serializers.DateTimeField(required=False),
                "notified": serializers.CharField(),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def placements(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        services.placement_add(actor=acting_user(request), case_id=case.pk, data=dict(request_body(request)))
        return self._render(case, 201)

    @extend_schema(
        summary="启动/结束失踪快速查找",
        request=inline_serializer(
            "SearchIn",
            {
                "action": serializers.ChoiceField(choices=["start", "end"]),
                "outcome": serializers.CharField(required=False),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def searches(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        body = request_body(request)
        if body.get("action") == "end":
            services.search_end(
                actor=acting_user(request), case_id=case.pk, outcome=body.get("outcome") or ""
            )
        else:
            services.search_start(actor=acting_user(request), case_id=case.pk)
        return self._render(case)

    @extend_schema(
        summary="乡镇确认公众举报所述儿童（关联已有档案或建立临时档案）",
        request=inline_serializer(
            "ConfirmChildIn",
            {
                "child": serializers.CharField(required=False, allow_blank=True),
                "birth_date": serializers.DateField(required=False),
                "sex": serializers.ChoiceField(choices=["1", "2"], required=False),
            },
        ),
        responses={200: CaseDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="confirm-child")
    def confirm_child(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        body = request_body(request)
        s = serializers.DateField(required=False)
        born = s.run_validation(body["birth_date"]) if body.get("birth_date") else None
        sex = body.get("sex")
        if sex not in (None, "", "1", "2"):
            raise ValidationError({"sex": [_("性别须为“1”（男）或“2”（女）。")]})
        child = body.get("child")
        services.case_confirm_child(
            actor=acting_user(request),
            case_id=case.pk,
            child_id=str(child) if child not in (None, "") else None,
            birth_date=born,
            sex=sex,
        )
        return self._render(case)

    @extend_schema(
        summary="改派派出所",
        request=inline_serializer(
            "ReassignIn", {"station": serializers.IntegerField(), "reason": serializers.CharField()}
        ),
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        body = request_body(request)
        services.case_reassign(
            actor=acting_user(request),
            case_id=case.pk,
            station_id=body.get("station"),
            reason=body.get("reason") or "",
        )
        fresh = Case.objects.get(pk=case.pk)
        if not selectors.visible_cases(request.user).filter(pk=fresh.pk).exists():
            return Response({"detail": "ok"}, status=200)
        return self._render(fresh)

    @extend_schema(
        summary="增加转介",
        request=inline_serializer(
            "ReferralIn",
            {
                "service_kind": serializers.CharField(),
                "provider": serializers.CharField(),
                "due_date": serializers.DateField(),
                "need": serializers.CharField(required=False),
            },
        ),
    )
    @action(detail=True, methods=["post"], url_path="referrals")
    def add_referral(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        r = services.referral_add(
            actor=acting_user(request), case_id=case.pk, data=dict(request_body(request))
        )
        return Response(ReferralSerializer(r).data, status=201)

    @extend_schema(
        summary="跟踪回访",
        request=inline_serializer(
            "FollowUpIn", {"note": serializers.CharField(), "next_due": serializers.DateField(required=False)}
        ),
    )
    @action(detail=True, methods=["post"], url_path="follow-ups")
    def follow_ups(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        body = request_body(request)
        nd = body.get("next_due")
        services.followup_add(
            actor=acting_user(request),
            case_id=case.pk,
            note=body.get("note") or "",
            next_due=services._date(nd, "next_due") if nd else None,
        )
        return self._render(case, 201)

    @extend_schema(
        summary="登记监护干预措施",
        request=inline_serializer(
            "GuardianMeasureIn",
            {
                "guardian_name": serializers.CharField(),
                "conduct": serializers.CharField(),
                "kind": serializers.CharField(),
                "decided_on": serializers.DateField(),
                "outcome": serializers.CharField(required=False),
                "corrected": serializers.BooleanField(required=False, allow_null=True),
                "serious_harm": serializers.BooleanField(required=False),
            },
        ),
    )
    @action(detail=True, methods=["post"], url_path="guardian-measures")
    def guardian_measures(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        services.guardian_measure_add(
            actor=acting_user(request), case_id=case.pk, data=dict(request_body(request))
        )
        return self._render(case, 201)

    @extend_schema(summary="撤销监护资格的三种情形（依据记录评估，附证据）")
    @action(detail=True, methods=["get"])
    def grounds(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        return Response(
            [
                {
                    "code": g.code,
                    "title": g.title,
                    "met": g.met,
                    "reason": g.reason,
                    "evidence": [{"on": e.on, "text": e.text} for e in g.evidence],
                }
                for g in services.grounds_for(case)
            ]
        )

    @extend_schema(
        summary="登记撤销监护资格申请",
        request=inline_serializer(
            "PetitionIn",
            {
                "petitioner": serializers.CharField(),
                "guardian_name": serializers.CharField(),
                "grounds": serializers.ListField(child=serializers.CharField()),
                "court": serializers.CharField(),
                "filed_on": serializers.DateField(),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def petitions(self, request: Request, pk: Any = None) -> Response:
        case = self._case(pk)
        services.petition_file(actor=acting_user(request), case_id=case.pk, data=dict(request_body(request)))
        return self._render(case, 201)

    @extend_schema(
        operation_id="cases_petition_update",
        summary="登记开庭与判决（撤销的，新监护人写入儿童档案）",
        request=inline_serializer(
            "PetitionUpdateIn",
            {
                "hearing_on": serializers.DateField(required=False),
                "decision": serializers.CharField(required=False),
                "decided_on": serializers.DateField(required=False),
                "new_guardian": serializers.DictField(required=False),
            },
        ),
    )
    @action(detail=True, methods=["post"], url_path=r"petitions/(?P<petition_id>[0-9]+)")
    def petition_update(self, request: Request, pk: Any = None, petition_id: Any = None) -> Response:
        case = self._case(pk)
        if not case.petitions.filter(pk=petition_id).exists():
            from django.http import Http404

            raise Http404
        services.petition_update(
            actor=acting_user(request), petition_id=petition_id, data=dict(request_body(request))
        )
        return self._render(case)


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/v1/referrals/`: a provider's referrals (and those of the cases the user sees)."""

    shouhu_access = "scoped"
    shouhu_capabilities = {
        "list": ("case.view", "referral.respond"),
        "retrieve": ("case.view", "referral.respond"),
        "respond": "referral.respond",
        "close": "case.assist",
    }
    serializer_class = ReferralSerializer

    def get_queryset(self) -> QuerySet[Referral]:
        return selectors.visible_referrals(self.request.user).order_by("due_date", "created_at")

    def _data(self, rows: list[Referral]) -> Any:
        """A provider's own referrals carry the brief of what serving them needs (selectors)."""
        mine = [r for r in rows if can(self.request.user, "referral.respond", r)]
        context = {**self.get_serializer_context(), "briefs": selectors.referral_briefs(mine)}
        return ReferralSerializer(rows, many=True, context=context).data

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        record_request(request, "api_list", count=len({r.case.child_id for r in page}), detail="referrals")
        return self.get_paginated_response(self._data(list(page)))

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        r = selectors.get_referral(request.user, pk)
        record_request(request, "referral", child=r.case, detail=str(r.pk))
        return Response(self._data([r])[0])

    @extend_schema(
        summary="服务机构接收/拒绝/完成转介",
        request=inline_serializer(
            "RespondIn",
            {
                "action": serializers.ChoiceField(choices=["accept", "refuse", "done"]),
                "reason": serializers.CharField(required=False),
                "outcome": serializers.CharField(required=False),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def respond(self, request: Request, pk: Any = None) -> Response:
        r = selectors.get_referral(request.user, pk)
        body = request_body(request)
        r = services.referral_respond(
            actor=acting_user(request),
            referral_id=r.pk,
            action=str(body.get("action") or ""),
            reason=body.get("reason") or "",
            outcome=body.get("outcome") or "",
        )
        return Response(self._data([selectors.get_referral(request.user, r.pk)])[0])

    @extend_schema(
        summary="撤回转介（须说明理由）",
        request=inline_serializer("CloseIn", {"reason": serializers.CharField()}),
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: Any = None) -> Response:
        r = selectors.get_referral(request.user, pk)
        services.referral_close(
            actor=acting_user(request), referral_id=r.pk, reason=request_body(request).get("reason") or ""
        )
        return Response(self._data([selectors.get_referral(request.user, r.pk)])[0])
