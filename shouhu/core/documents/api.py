"""REST API of documents and attachments (R11.6), scoped like the records they belong to:

- `GET  /api/v1/documents/?owner_type=&owner=`  a record's issued documents; `POST` `{"kind", "owner"}`
  generates one (201); `GET /documents/{id}/` its metadata, `GET /documents/{id}/pdf/` the PDF;
- `GET  /api/v1/documents/kinds/[?owner_type=]`  the kinds of documents and the record type each is about;
- `GET  /api/v1/documents/verify/{code}/`  public: genuine or not, kind, issuing unit, date — nothing else;
- `GET  /api/v1/attachments/?owner_type=&owner=`  a record's attachments; `POST` (multipart: owner_type,
  owner, category, file, note) uploads one (201); `GET /attachments/{id}/`, `GET /attachments/{id}/content/`,
  `POST /attachments/{id}/remove/` `{"reason"}`.

Every scoped view declares the capabilities of the records documents belong to (any of them); the
record decides which counts: a role that may not issue the kind or attach to such records anywhere gets
403 before any record is looked up, a record missing or out of reach answers 404 (a document or an
attachment whose record or category the reader may not see: 404 too), and a record seen without the
right to act on it 403. Listing a record's documents or attachments leaves an access record.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhu.core.access import can
from shouhu.core.accesslog import record_read
from shouhu.core.api import Pagination, request_body
from shouhu.core.api_input import JSONParser
from shouhu.core.documents import kinds, owners, selectors, services
from shouhu.core.documents.models import Attachment, AttachmentCategory, GeneratedDocument
from shouhu.core.documents.owners import RECORD_CAPABILITIES
from shouhu.core.documents.verify import verify
from shouhu.core.documents.views import client_ip, document_filename, file_response
from shouhu.core.jurisdiction import acting_user
from shouhu.core.models import AccessLog


class DocumentSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner_id", read_only=True)
    kind_label = serializers.SerializerMethodField()
    issued_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    download = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedDocument
        fields = [
            "id",
            "kind",
            "kind_label",
            "owner_type",
            "owner",
            "code",
            "issuer",
            "issued_at",
            "issued_by",
            "data_version",
            "data_hash",
            "sha256",
            "size",
            "pages",
            "identifiers_shown",
            "groups",
            "download",
        ]
        read_only_fields = fields

    def get_kind_label(self, doc: GeneratedDocument) -> str:
        return str(selectors.kind_label(doc.kind))

    def get_download(self, doc: GeneratedDocument) -> str:
        return reverse("api-document-pdf", args=[doc.pk])


class AttachmentSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner_id", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    download = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "owner_type",
            "owner",
            "category",
            "filename",
            "note",
            "file_type",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, att: Attachment) -> str:
        return reverse("api-attachment-content", args=[att.pk])


OWNER_PARAMS = [
    OpenApiParameter(
        "owner_type",
        str,
        required=True,
        description="registry.child, registry.agreement, care.visit, protection.case, protection.petition, protection.report",
    ),
    OpenApiParameter("owner", str, required=True, description="the record's id"),
]


def _owner_from_query(request: Request, what: str) -> tuple[owners.OwnerType, Any]:
    """The record named by `?owner_type=&owner=` (404 out of reach); its listing is an access record."""
    owner_type = request.query_params.get("owner_type", "")
    owner_id = request.query_params.get("owner", "")
    if not owner_type or not owner_id:
        raise serializers.ValidationError({"detail": ["请同时给出 owner_type 和 owner（记录的 id）。"]})
    user = acting_user(request)
    owner, record = owners.fetch(user, owner_type, owner_id)
    child_id = owner.child_id(record)
    record_read(
        user=user,
        action=AccessLog.Action.API_READ,
        count=1 if child_id else 0,
        child_id=child_id,
        region_code=owner.region_code(record),
        query=request.query_params,
        detail=f"{what} {owner.code}",
        ip=client_ip(request),
    )
    return owner, record


def _forbidden(exc: DjangoPermissionDenied) -> PermissionDenied:
    return PermissionDenied(str(exc) or None)


class DocumentListCreate(APIView):
    shouhu_access = "scoped"
    shouhu_capability = RECORD_CAPABILITIES
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        parameters=OWNER_PARAMS, responses=DocumentSerializer(many=True), summary="一条记录已出具的文书"
    )
    def get(self, request: Request) -> Response:
        owner, record = _owner_from_query(request, "documents")
        docs = selectors.documents_of(acting_user(request), owner, record, str(record.pk))
        paginator = Pagination()
        page = paginator.paginate_queryset(docs, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(DocumentSerializer(page, many=True).data)

    @extend_schema(
        request=inline_serializer(
            "DocumentGenerate", {"kind": serializers.CharField(), "owner": serializers.CharField()}
        ),
        responses={201: DocumentSerializer},
        summary="生成文书（PDF）",
    )
    def post(self, request: Request) -> Response:
        body = request_body(request)
        kind, owner_id = str(body.get("kind") or ""), str(body.get("owner") or "")
        errors = {}
        if not kind:
            errors["kind"] = ["请给出文书类别（见 /api/v1/documents/kinds/）。"]
        if not owner_id:
            errors["owner"] = ["请给出记录的 id。"]
        if errors:
            raise serializers.ValidationError(errors)
        try:
            doc = services.document_generate(
                actor=acting_user(request),
                kind=kind,
                owner_id=owner_id,
                base_url=request.build_absolute_uri("/"),
                ip=client_ip(request),
            )
        except DjangoPermissionDenied as exc:
            raise _forbidden(exc) from exc
        return Response(DocumentSerializer(doc).data, status=status.HTTP_201_CREATED)


class DocumentDetail(APIView):
    shouhu_access = "scoped"
    shouhu_capability = RECORD_CAPABILITIES

    @extend_schema(responses=DocumentSerializer, summary="文书信息")
    def get(self, request: Request, pk: Any) -> Response:
        return Response(
            DocumentSerializer(services.document_get(actor=acting_user(request), document_id=pk)).data
        )


class DocumentPdf(APIView):
    shouhu_access = "scoped"
    shouhu_capability = RECORD_CAPABILITIES

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY}, summary="下载文书 PDF（记入访问日志）"
    )
    def get(self, request: Request, pk: Any) -> Any:
        doc, data = services.document_download(
            actor=acting_user(request), document_id=pk, ip=client_ip(request)
        )
        return file_response(data, "application/pdf", document_filename(doc), inline=False)


class DocumentKinds(APIView):
    shouhu_access = "scoped"
    shouhu_capability = RECORD_CAPABILITIES

    @extend_schema(
        parameters=[OpenApiParameter("owner_type", str, required=False)],
        responses=inline_serializer(
            "DocumentKind",
            {
                "code": serializers.CharField(),
                "label": serializers.CharField(),
                "owner_type": serializers.CharField(),
                "description": serializers.CharField(),
            },
            many=True,
        ),
        summary="文书类别",
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("owner_type", "")
        rows = [
            {
                "code": k.code,
                "label": str(k.label),
                "owner_type": k.owner_type,
                "description": str(k.description),
            }
            for k in kinds.all_kinds()
            if not wanted or k.owner_type == wanted
        ]
        return Response(rows)


class DocumentVerify(APIView):
    """Public: whether a code is genuine, the document's kind, issuing unit and date — never child data."""

    shouhu_access = "public"
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        responses=inline_serializer(
            "DocumentVerdict",
            {
                "code": serializers.CharField(),
                "status": serializers.ChoiceField(choices=["genuine", "malformed", "unknown", "altered"]),
                "genuine": serializers.BooleanField(),
                "kind": serializers.CharField(allow_null=True),
                "kind_label": serializers.CharField(allow_null=True),
                "issuer": serializers.CharField(allow_null=True),
                "issued_on": serializers.DateField(allow_null=True),
            },
        ),
        summary="核验文书验证码（公开）",
    )
    def get(self, request: Request, code: str) -> Response:
        v = verify(code)
        ok = v.status == "genuine"
        return Response(
            {
                "code": v.code,
                "status": v.status,
                "genuine": ok,
                "kind": v.document.kind if ok and v.document else None,
                "kind_label": str(v.kind_label) if ok else None,
                "issuer": v.issuer if ok else None,
                "issued_on": v.issued_on.isoformat() if ok and v.issued_on else None,
            }
        )


class AttachmentListCreate(APIView):
    shouhu_access = "scoped"
    shouhu_capability = RECORD_CAPABILITIES
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        parameters=OWNER_PARAMS, responses=AttachmentSerializer(many=True), summary="一条记录的附件"
    )
    def get(self, request: Request) -> Response:
        owner, record = _owner_from_query(request, "attachments")
        rows = selectors.attachments_of(acting_user(request), owner, record, str(record.pk))
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(AttachmentSerializer(page, many=True).data)

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "AttachmentUpload",
                {
                    "owner_type": serializers.CharField(),
                    "owner": serializers.CharField(),
                    "category": serializers.ChoiceField(choices=AttachmentCategory.choices),
                    "file": serializers.FileField(),
                    "note": serializers.CharField(required=False),
                },
            )
        },
        responses={201: AttachmentSerializer},
        summary="上传附件（按内容识别类型，限制大小，加密保存）",
    )
    def post(self, request: Request) -> Response:
        data: Any = request.data
        owner_type, owner_id = str(data.get("owner_type") or ""), str(data.get("owner") or "")
        if not owner_type or not owner_id:
            raise serializers.ValidationError({"detail": ["请同时给出 owner_type 和 owner（记录的 id）。"]})
        owner = owners.get(owner_type)  # an unknown record type: 404 like a missing record
        if not any(can(request.user, c) for c in owner.attach):
            raise PermissionDenied()  # the role adds no attachments to such records anywhere
        owners.fetch(acting_user(request), owner_type, owner_id)  # 404 first, whatever the body holds
        try:
            upload = services.read_upload(request.FILES.get("file"))
            att = services.attachment_add(
                actor=acting_user(request),
                owner_type=owner_type,
                owner_id=owner_id,
                category=str(data.get("category") or ""),
                filename=upload.filename,
                data=upload.data,
                note=str(data.get("note") or ""),
            )
        except DjangoPermissionDenied as exc:
            raise _forbidden(exc) from exc
        return Response(AttachmentSerializer(att).data, status=status.HTTP_201_CREATED)


class AttachmentDetail(APIView):
    shouhu_access = "scoped"
    shouhu_capability = RECORD_CAPABILITIES

    @extend_schema(responses=AttachmentSerializer, summary="附件信息")
    def get(self, request: Request, pk: Any) -> Response:
        return Response(
            AttachmentSerializer(services.attachment_get(actor=acting_user(request), attachment_id=pk)).data
        )


class AttachmentContent(APIView):
    shouhu_access = "scoped"
    shouhu_capability = RECORD_CAPABILITIES

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, summary="下载附件（记入访问日志）"
    )
    def get(self, request: Request, pk: Any) -> Any:
        att, data = services.attachment_download(
            actor=acting_user(request), attachment_id=pk, ip=client_ip(request)
        )
        return file_response(data, att.content_type, att.filename, inline=False)


class AttachmentRemove(APIView):
    shouhu_access = "scoped"
    shouhu_capability = RECORD_CAPABILITIES

    @extend_schema(
        request=inline_serializer("AttachmentRemoveRequest", {"reason": serializers.CharField()}),
        responses={200: AttachmentSerializer},
        summary="删除误传的附件（删除文件内容，保留记录和原因）",
    )
    def post(self, request: Request, pk: Any) -> Response:
        body = request_body(request)
        try:
            att = services.attachment_remove(
                actor=acting_user(request), attachment_id=pk, reason=str(body.get("reason") or "")
            )
        except DjangoPermissionDenied as exc:
            raise _forbidden(exc) from exc
        return Response(AttachmentSerializer(att).data)
