"""Serializers of the protection API (API.md `/api/v1/reports/`, `/api/v1/cases/`, `/api/v1/referrals/`):
types in and out only; what a reader may see of a case is decided before (selectors) and in the
reporter-identity check below (`case.reporter`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from shouhu.core.models import Event
from shouhu.protection import selectors
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
    """What a reporter sees of their own report: its own number and progress (`reported` → `received` →
    `concluded`, from the moment it was made) and the written acknowledgement — never the case's state
    or number, which would tell whether a case was already open (issue 9 part 8)."""

    case = serializers.CharField(source="case_id", read_only=True)
    number = serializers.CharField(read_only=True)
    state = serializers.CharField(
        source="progress",
        read_only=True,
        help_text="reported（等待受理）| received（已受理）| concluded（已办结）",
    )
    state_label = serializers.CharField(source="progress_label", read_only=True)
    village = serializers.CharField(source="village_id", read_only=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "case",
            "number",
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
    brief = serializers.SerializerMethodField(
        help_text="服务机构所需信息：姓名、年龄、风险等级、转介事项；接收后至完成前另含住址和监护人联系方式"
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "case",
            "case_number",
            "child_name",
            "brief",
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

    def get_brief(self, r: Referral) -> dict[str, Any] | None:
        return self.context.get("briefs", {}).get(r.pk)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=CaseState.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
