"""Output shapes of the services API (API.md "Services (R8)"): needs with their allowed transitions,
deadlines and timeline; providers by their organisation id; programmes; activity sessions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shouhu.services import selectors
from shouhu.services.models import Need, Programme, Provider, Session


class ProviderSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True, help_text="the organisation id")
    name = serializers.CharField(source="organisation.name", read_only=True)
    region = serializers.CharField(source="organisation.region_id", read_only=True)
    villages = serializers.SerializerMethodField()
    service_types = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = [
            "id",
            "name",
            "region",
            "category",
            "villages",
            "service_types",
            "capacity",
            "hotline",
            "contact",
            "status",
            "decision_note",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_villages(self, p: Provider) -> list[str]:
        return sorted(v.code for v in p.villages.all())

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_service_types(self, p: Provider) -> list[str]:
        return sorted(t.code for t in p.service_types.all())


class ProgrammeSerializer(serializers.ModelSerializer):
    provider = serializers.IntegerField(source="provider_id", read_only=True)
    service_type = serializers.CharField(source="service_type_id", read_only=True)
    village = serializers.CharField(source="village_id", read_only=True)
    enrolled = serializers.SerializerMethodField()

    class Meta:
        model = Programme
        fields = [
            "id",
            "provider",
            "name",
            "service_type",
            "village",
            "key_times",
            "venue_kind",
            "venue",
            "schedule",
            "capacity",
            "active",
            "enrolled",
        ]

    def get_enrolled(self, p: Programme) -> int:
        return sum(1 for e in p.enrolments.all() if e.until is None)


class StepSerializer(serializers.Serializer):
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", default=None)
    note = serializers.CharField()
    provider = serializers.IntegerField(source="provider_id", allow_null=True)


class DeadlineSerializer(serializers.Serializer):
    target = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    due = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    met = serializers.BooleanField(allow_null=True)


class NeedSerializer(serializers.ModelSerializer):
    child = serializers.CharField(source="child_id", read_only=True)
    child_name = serializers.CharField(source="child.name", read_only=True)
    village = serializers.CharField(source="child.village_id", read_only=True)
    type = serializers.CharField(source="type_id", read_only=True)
    provider = serializers.IntegerField(source="provider_id", read_only=True, allow_null=True)
    programme = serializers.IntegerField(source="programme_id", read_only=True, allow_null=True)
    visit = serializers.IntegerField(source="visit_id", read_only=True, allow_null=True)
    allowed_transitions = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    class Meta:
        model = Need
        fields = [
            "id",
            "child",
            "child_name",
            "village",
            "type",
            "urgency",
            "source",
            "visit",
            "note",
            "state",
            "provider",
            "programme",
            "created_at",
            "allowed_transitions",
            "deadlines",
            "timeline",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, n: Need) -> list[str]:
        return selectors.allowed_transitions(self.context["request"].user, n)

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, n: Need) -> Any:
        return DeadlineSerializer(selectors.deadlines(n), many=True).data

    @extend_schema_field(StepSerializer(many=True))
    def get_timeline(self, n: Need) -> Any:
        return StepSerializer(n.steps.all(), many=True).data


class SessionSerializer(serializers.ModelSerializer):
    programme = serializers.IntegerField(source="programme_id", read_only=True)
    programme_name = serializers.CharField(source="programme.name", read_only=True)
    volunteer = serializers.CharField(source="volunteer.username", read_only=True, default=None)
    attendance = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "programme",
            "programme_name",
            "starts_at",
            "hours",
            "topic",
            "volunteer",
            "taken_at",
            "attendance",
        ]

    @extend_schema_field(
        serializers.ListField(
            child=serializers.DictField(), help_text="child, name, present, hours, feedback"
        )
    )
    def get_attendance(self, s: Session) -> list[dict[str, Any]]:
        return [
            {
                "child": str(a.child_id),
                "name": a.child.name,
                "present": a.present,
                "hours": str(a.hours),
                "feedback": a.feedback,
            }
            for a in s.attendance.all()
        ]
