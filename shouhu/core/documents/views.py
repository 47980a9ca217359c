"""Web pages of documents and attachments: generate, download, upload, remove (from a record's page),
and the public verify page.

Each view is `@scoped` with the capabilities of the records documents belong to (any of them: the
record named in the URL decides which one counts); the services then ask the kind's or the owner's
capability (held nowhere: 403), fetch the record (out of reach: 404, exactly like missing) and check the
action on it (403). Downloads are never cached and open in a sandbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.core.access import can
from shouhu.core.documents import kinds, owners, services, sniff, vcode
from shouhu.core.documents.owners import RECORD_CAPABILITIES
from shouhu.core.documents.verify import verify
from shouhu.core.jurisdiction import acting_user, client_ip, public, scoped


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _back(request: HttpRequest, fallback: str = "/") -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = fallback
    return redirect(target)


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for msgs in exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]:
        for m in msgs:
            messages.error(request, m)


def file_response(data: bytes, content_type: str, filename: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "private, no-store"
    # Opened in the browser, a file can run nothing and reach nothing of the site.
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def document_filename(doc: Any) -> str:
    k = kinds.find(doc.kind)
    return f"{k.label if k else doc.kind}-{doc.code}.pdf"


@scoped(RECORD_CAPABILITIES)
@login_required
@require_POST
def document_generate(request: HttpRequest, kind: str, owner_id: str) -> HttpResponse:
    try:
        doc = services.document_generate(
            actor=acting_user(request),
            kind=kind,
            owner_id=owner_id,
            base_url=base_url(request),
            ip=client_ip(request),
        )
    except ValidationError as exc:
        _flash(request, exc)
        return _back(request)
    messages.success(request, _("已生成文书，验证码 %(code)s。") % {"code": vcode.grouped(doc.code)})
    return redirect("web:document_download", pk=doc.pk)


@scoped(RECORD_CAPABILITIES)
@login_required
@never_cache
def document_download(request: HttpRequest, pk: Any) -> HttpResponse:
    doc, data = services.document_download(actor=acting_user(request), document_id=pk, ip=client_ip(request))
    return file_response(data, "application/pdf", document_filename(doc), inline=True)


@scoped(RECORD_CAPABILITIES)
@login_required
@require_POST
def attachment_upload(request: HttpRequest, owner_type: str, owner_id: str) -> HttpResponse:
    user = acting_user(request)
    owner = owners.get(owner_type)  # an unknown record type: 404 like a missing record
    if not any(can(user, c) for c in owner.attach):
        raise PermissionDenied("forbidden")  # the role adds no attachments to such records anywhere
    owners.fetch(user, owner_type, owner_id)  # 404 out of reach or missing, before anything is read
    try:
        upload = services.read_upload(request.FILES.get("file"))
        att = services.attachment_add(
            actor=user,
            owner_type=owner_type,
            owner_id=owner_id,
            category=request.POST.get("category", ""),
            filename=upload.filename,
            data=upload.data,
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(
            request,
            _("已上传附件（%(type)s，%(size)s）。")
            % {"type": sniff.TYPES[att.file_type][1], "size": sniff.human_size(att.size)},
        )
    return _back(request)


@scoped(RECORD_CAPABILITIES)
@login_required
@never_cache
def attachment_download(request: HttpRequest, pk: Any) -> HttpResponse:
    att, data = services.attachment_download(
        actor=acting_user(request), attachment_id=pk, ip=client_ip(request)
    )
    inline = att.file_type in ("pdf", "jpg", "png", "webp")
    name = att.filename
    if not name.lower().endswith(f".{att.file_type}"):
        name = f"{name.rsplit('.', 1)[0] if '.' in name else name}.{att.file_type}"
    return file_response(data, att.content_type, name, inline=inline)


@scoped(RECORD_CAPABILITIES)
@login_required
@require_POST
def attachment_remove(request: HttpRequest, pk: Any) -> HttpResponse:
    try:
        services.attachment_remove(
            actor=acting_user(request), attachment_id=pk, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("已删除附件。"))
    return _back(request)


# --- public verification -------------------------------------------------------------------------------

VERIFY_MAX_BYTES = 5 * 1024 * 1024  # an issued PDF is well under 1 MB


def _record_link(request: HttpRequest, doc: Any) -> dict[str, str] | None:
    """For a logged-in user who may see the record: its page and the document itself. Nobody else
    learns anything about the record."""
    if doc is None or not request.user.is_authenticated:
        return None
    try:
        owner, record = owners.fetch(request.user, doc.owner_type, doc.owner_id)
        services.document_get(actor=acting_user(request), document_id=doc.pk)
    except (PermissionDenied, Http404):
        return None
    return {"url": owner.url(record), "title": owner.title(record)}


@public
@never_cache
def verify_page(request: HttpRequest, code: str = "") -> HttpResponse:
    """Anyone may check a code: the answer says only whether it is genuine, the kind, the issuing unit
    and the date — never a child's data."""
    code = code or request.GET.get("code", "") or request.POST.get("code", "")
    verdict = None
    error = ""
    if code:
        pdf = None
        upload = request.FILES.get("file") if request.method == "POST" else None
        if upload is not None:
            if upload.size and upload.size > VERIFY_MAX_BYTES:
                error = _("文件过大，无法比对。")
            else:
                pdf = upload.read()
        verdict = verify(code, pdf)
    context = {
        "code": code,
        "verdict": verdict,
        "error": error,
        "link": _record_link(request, verdict.document if verdict and verdict.status == "genuine" else None),
    }
    response = render(request, "documents/verify.html", context)
    # The code is in the URL: it never goes to another site (no-referrer would break the form's CSRF check).
    response["Referrer-Policy"] = "same-origin"
    return response
