"""The file's lifecycle in the API (API.md: `POST /api/v1/children/{id}/archive/`, `reactivate/`,
`transfer/`, `merge/`; R1.11). Thin: parse, call `registry.lifecycle`, answer 200 with the file or 400
with the reason; a file out of the user's reach answers 404 like a missing one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from shouhu.core.jurisdiction import acting_user
from shouhu.registry import lifecycle
from shouhu.registry.models import ArchiveReason
from shouhu.registry.services import OutOfScope


class ArchiveSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ArchiveReason.choices)
    on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300)


class TransferSerializer(serializers.Serializer):
    village = serializers.RegexField(r"^\d{12}$", help_text=gettext_lazy("接收村（居）委会的12位区划代码"))
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class MergeSerializer(serializers.Serializer):
    duplicate = serializers.CharField(help_text=gettext_lazy("并入本档案的重复档案编号"))
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class LifecycleActions:
    """Mixed into `ChildViewSet`: archive, reactivate, transfer and merge a file."""

    capabilities = dict.fromkeys(["archive", "reactivate", "transfer", "merge"], "child.edit")

    def _lifecycle(self, request: Request, pk: Any, serializer_class: type, call: Any) -> Response:
        child = self._visible(pk)  # type: ignore[attr-defined]
        s = serializer_class(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            child = call(acting_user(request), child.pk, dict(s.validated_data))
        except OutOfScope as exc:
            raise NotFound() from exc
        except DjangoValidationError as exc:
            raise ValidationError(getattr(exc, "message_dict", {"detail": exc.messages})) from exc
        return self._render(child)  # type: ignore[attr-defined, no-any-return]

    @extend_schema(summary="归档儿童档案", request=ArchiveSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: Any = None) -> Response:
        return self._lifecycle(
            request,
            pk,
            ArchiveSerializer,
            lambda actor, cid, d: lifecycle.child_archive(
                actor=actor, child_id=cid, reason=d["reason"], on=d.get("on"), note=d.get("note", "")
            ),
        )

    @extend_schema(summary="恢复已归档的档案", request=NoteSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: Any = None) -> Response:
        return self._lifecycle(
            request,
            pk,
            NoteSerializer,
            lambda actor, cid, d: lifecycle.child_reactivate(actor=actor, child_id=cid, note=d["note"]),
        )

    @extend_schema(summary="档案转移到另一村（居）", request=TransferSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, pk: Any = None) -> Response:
        return self._lifecycle(
            request,
            pk,
            TransferSerializer,
            lambda actor, cid, d: lifecycle.child_transfer(
                actor=actor, child_id=cid, village=d["village"], note=d.get("note", "")
            ),
        )

    @extend_schema(summary="合并重复档案（重复档案并入本档案）", request=MergeSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: Any = None) -> Response:
        return self._lifecycle(
            request,
            pk,
            MergeSerializer,
            lambda actor, cid, d: lifecycle.child_merge(
                actor=actor, child_id=cid, duplicate_id=d["duplicate"], note=d.get("note", "")
            ),
        )
