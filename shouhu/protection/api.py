"""REST API of the protection chain (API.md `/api/v1/reports/`, `/api/v1/cases/`; R5–R7).

Thin: serializers convert types, services decide and write, selectors scope every read. Out of scope
answers 404 like a missing record; an illegal or unauthorised transition answers 400 with the reason.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from shouhu.core.api import request_body
from shouhu.core.jurisdiction import acting_user
from shouhu.core.models import Event
from shouhu.protection import selectors, services
from shouhu.protection.models import (
    Case,
    CaseState,
    Referral,
    Report,
    Transition,
)

# --- serializers -----------------------------------------------------------------------------------


class ReportCreateSerializer(serializers.Serializer):
    child = serializers.CharField(required=False, allow_blank=True, help_text="儿童档案 id（已建档时）")
    child_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    village = serializers.CharField(
        required=False, allow_blank=True, max_length=12, help_text="12位村（居）代码"
    )
    child_age = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=17)
    situations = serializers.ListField(child=serializers.CharField(max_length=40), allow_empty=False)
    discovered_at = serializers.DateTimeField()
    description = serializers.CharField(max_length=5000)
    reporter_kind = serializers.ChoiceField(choices=["citizen", "organisation"], required=False)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, max_length=30)


class ReportProgressSerializer(serializers.ModelSerializer):
    """What a reporter sees of their own report: progress and the written acknowledgement, no case file."""

    case = serializers.CharField(source="case_id", read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True)
    state = serializers.CharField(source="case.state", read_only=True)
    state_label = serializers.CharField(source="case.get_state_display", read_only=True)
    village = serializers.CharField(source="village_id", read_only=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "case",
            "case_number",
            "state",
            "state_label",
            "child_name",
            "village",
            "situations",
            "discovered_at",
            "reported_at",
            "received_at",
            "acknowledged_at",
            "acknowledgement",
        ]


def _transition(t: Transition) -> dict[str, Any]:
    return {
        "from": t.from_state,
        "to": t.to_state,
        "at": serializers.DateTimeField().to_representation(t.at),
        "actor": t.actor.username if t.actor else None,
        "unit": t.unit.name if t.unit else None,
        "note": t.note,
        "data": t.data,
    }


def _dt(value: Any) -> Any:
    return serializers.DateTimeField().to_representation(value) if value else None


class CaseSerializer(serializers.ModelSerializer):
    child = serializers.CharField(source="child_id", read_only=True)
    village = serializers.CharField(source="village_id", read_only=True)
    station = serializers.CharField(source="station.name", read_only=True)
    allowed_transitions = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    holder = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "child",
            "village",
            "station",
            "state",
            "situations",
            "opened_at",
            "risk_level",
            "holder",
            "allowed_transitions",
            "deadlines",
            "timeline",
            "closed_at",
        ]

    def get_allowed_transitions(self, case: Case) -> list[str]:
        return selectors.allowed_transitions(self.context["request"].user, case)

    def get_deadlines(self, case: Case) -> list[dict[str, Any]]:
        return [
            {"step": d.step, "label": d.label, "due": _dt(d.due), "done_at": _dt(d.done_at), "met": d.met}
            for d in selectors.case_deadlines(case, lims=self.context.get("limits"))
        ]

    def get_timeline(self, case: Case) -> list[dict[str, Any]]:
        return [_transition(t) for t in case.transitions.all()]

    def get_holder(self, case: Case) -> str | None:
        h = selectors.holder(case, self.context.get("townships"))
        return h.name if h else None


class CaseDetailSerializer(CaseSerializer):
    """The case file: for police, civil affairs and the village's worker (reporter identity excepted)."""

    detail = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "plan", "detail"]

    def get_detail(self, case: Case) -> dict[str, Any]:
        user = self.context["request"].user
        identity = selectors.sees_reporter(user, case)
        return {
            "reports": [
                {
                    "id": str(r.pk),
                    "reporter_kind": r.reporter_kind,
                    "mandated": r.mandated,
                    **(
                        {
                            "reporter": r.reporter.username if r.reporter else None,
                            "reporter_unit": r.reporter_unit.name if r.reporter_unit else None,
                            "reporter_name": r.reporter_name,
                            "reporter_phone": r.reporter_phone,
                            "anonymous": r.anonymous,
                        }
                        if identity
                        else {}
                    ),
                    "situations": r.situations,
                    "description": r.description,
                    "discovered_at": _dt(r.discovered_at),
                    "reported_at": _dt(r.reported_at),
                    "received_at": _dt(r.received_at),
                    "acknowledged_at": _dt(r.acknowledged_at),
                }
                for r in case.reports.select_related("reporter", "reporter_unit")
            ],
            "checklist": [
                {"code": m.code, "name": m.name_zh, "done": done} for m, done in selectors.checklist(case)
            ],
            "placements": [
                {
                    "id": p.pk,
                    "place_kind": p.place_kind,
                    "place": p.place,
                    "start": _dt(p.start),
                    "end": _dt(p.end),
                    "notified": p.notified,
                }
                for p in case.placements.all()
            ],
            "searches": [
                {"started_at": _dt(s.started_at), "ended_at": _dt(s.ended_at), "outcome": s.outcome}
                for s in case.searches.all()
            ],
            "assessments": [
                {
                    "at": _dt(a.at),
                    "participants": a.participants,
                    "safety": a.safety,
                    "guardianship": a.guardianship,
                    "physical_health": a.physical_health,
                    "mental_health": a.mental_health,
                    "risk_level": a.risk_level,
                    "reasons": a.risk_reasons,
                    "summary": a.summary,
                }
                for a in case.assessments.all()
            ],
            "referrals": [
                ReferralSerializer(r).data for r in case.referrals.select_related("service_kind", "provider")
            ],
            "follow_ups": [
                {"at": _dt(f.at), "note": f.note, "next_due": f.next_due} for f in case.follow_ups.all()
            ],
            "guardian_measures": [
                {
                    "id": m.pk,
                    "guardian_name": m.guardian_name,
                    "conduct": m.conduct,
                    "kind": m.kind,
                    "decided_on": m.decided_on,
                    "outcome": m.outcome,
                    "corrected": m.corrected,
                }
                for m in case.guardian_measures.all()
            ],
            "petitions": [
                {
                    "id": p.pk,
                    "petitioner": p.petitioner,
                    "guardian_name": p.guardian_name,
                    "grounds": p.grounds,
                    "court": p.court,
                    "filed_on": p.filed_on,
                    "hearing_on": p.hearing_on,
                    "decided_on": p.decided_on,
                    "decision": p.decision,
                    "new_guardian_name": p.new_guardian_name,
                }
                for p in case.petitions.all()
            ],
            "station_changes": [
                {
                    "from": c.from_station.name if c.from_station else None,
                    "to": c.to_station.name,
                    "at": _dt(c.at),
                    "reason": c.reason,
                }
                for c in case.station_changes.select_related("from_station", "to_station")
            ],
            "events": [
                {"at": _dt(e.occurred_at), "verb": e.verb, "summary": e.summary}
                for e in Event.objects.filter(
                    subject_type="protection.case", subject_id=str(case.pk)
                ).order_by("seq")
            ],
        }


class ReferralSerializer(serializers.ModelSerializer):
    """What a provider needs: the service, the child's name and village, the need, the due date."""

    case = serializers.CharField(source="case_id", read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True)
    child_name = serializers.CharField(source="case.child.name", read_only=True)
    village = serializers.CharField(source="case.village_id", read_only=True)
    service_kind = serializers.CharField(source="service_kind_id", read_only=True)
    service_kind_label = serializers.CharField(source="service_kind.name_zh", read_only=True)
    provider = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "case",
            "case_number",
            "child_name",
            "village",
            "service_kind",
            "service_kind_label",
            "provider",
            "need",
            "due_date",
            "state",
            "reason",
            "outcome",
            "created_at",
            "answered_at",
            "done_at",
        ]


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=CaseState.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


# --- views -----------------------------------------------------------------------------------------


def _ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/v1/reports/`: submit a report; list and read one's own reports' progress (R5)."""

    shouhu_access = "scoped"
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
        report = services.report_submit(actor=acting_user(request), data=s.validated_data, ip=_ip(request))
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

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return self._render(self._case(pk))

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
    serializer_class = ReferralSerializer

    def get_queryset(self) -> QuerySet[Referral]:
        return selectors.visible_referrals(self.request.user).order_by("due_date", "created_at")

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(ReferralSerializer(selectors.get_referral(request.user, pk)).data)

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
        return Response(ReferralSerializer(selectors.get_referral(request.user, r.pk)).data)

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
        return Response(ReferralSerializer(selectors.get_referral(request.user, r.pk)).data)
