"""Every write of documents and attachments (DESIGN principle 2): keyword-only, one transaction, an event
in the sealed chain with the owner's visibility class; every generation and every read of their contents
leaves a sealed access record (`core.accesslog`, R11.2).

Who may do what is asked of the one access model only: the kind's or the owner's capabilities through
`can()` (held nowhere: 403 before any record is looked up, so a 403 reveals nothing), the record through
the owner's `fetch` (404 out of reach, like missing), then the capability on that record (403).

Rendering happens before the transaction opens: a PDF takes a fraction of a second to lay out, and the
write lock (SQLite takes it at BEGIN) is held only for the few rows written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shouhu.core.access import can
from shouhu.core.accesslog import record_read
from shouhu.core.documents import kinds, owners, sniff, storage, vcode
from shouhu.core.documents.models import Attachment, AttachmentCategory, GeneratedDocument
from shouhu.core.documents.render import DOCUMENT_LANGUAGE, qr_data_uri, render_pdf
from shouhu.core.events import EventSpec, record_events
from shouhu.core.models import AccessLog, User
from shouhu.core.policy import param

VERIFY_PATH = "verify/"


def _fitted_version(version: str) -> str:
    """A kind's data version as stored (40 characters): a longer one is replaced by its digest, so it still
    changes exactly when the data does (PostgreSQL refuses an over-long value; SQLite would keep it)."""
    return version if len(version) <= 40 else hashlib.sha256(version.encode()).hexdigest()[:40]


def data_digest(data: dict[str, Any]) -> str:
    """SHA-256 of the printed data in a canonical JSON form (sorted keys, dates as ISO strings)."""
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def issuer_of(kind: kinds.DocumentKind, record: Any, user: User) -> str:
    if kind.issuer is not None:
        name = kind.issuer(record, user)
        if name:
            return name[:200]
    if user.organisation_id is not None and user.organisation is not None:
        return user.organisation.name
    return _("守护平台")


def verify_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/{VERIFY_PATH}{code}/"


def _access(
    user: User,
    action: str,
    *,
    child_id: str,
    region_code: str,
    detail: str,
    ip: str | None,
    child_data: bool = True,
    identifiers: bool = False,
) -> None:
    """One sealed access record (R11.2): a file read when the document or attachment is about a child."""
    record_read(
        user=user,
        action=action,
        count=1 if child_id and child_data else 0,
        child_id=child_id,
        region_code=region_code,
        identifiers=identifiers,
        detail=detail,
        ip=ip,
    )


def may_issue(kind: kinds.DocumentKind, user: Any, owner: owners.OwnerType, record: Any) -> bool:
    """May `user` issue `kind` about this record (already fetched with its view capability)?"""
    if kind.may_generate is not None:
        return bool(kind.may_generate(user, record))
    subject = owner.subject(record)
    return any(can(user, c, subject) for c in kind.capability)


def may_open(
    user: Any, owner: owners.OwnerType, record: Any, doc: GeneratedDocument, groups: frozenset[str]
) -> bool:
    """A copy opens only for a reader who sees everything it printed: its field groups, and full
    identifiers when it printed them (R11.1, R11.3)."""
    if not set(doc.groups or []) <= groups:
        return False
    return not doc.identifiers_shown or bool(owner.sees_identifiers(user, record))


def _unique_code() -> str:
    for _attempt in range(5):
        code = vcode.new_code()
        if not GeneratedDocument.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not draw an unused verification code")  # 75 random bits: never in practice


def document_generate(
    *, actor: User, kind: str, owner_id: Any, base_url: str, ip: str | None = None
) -> GeneratedDocument:
    """Render the kind's template for the record and issue it: stored encrypted, sealed in the event
    chain (who, when, kind, record, data version and hash, the PDF's SHA-256, the verification code) and
    an access record. 403 when the user's role may not issue the kind at all, 404 when the record is
    missing or out of reach, 403 when it may be seen but not issued by this user."""
    k = kinds.get(kind)
    if not any(can(actor, c) for c in k.capability):
        raise PermissionDenied(_("您的角色不能出具这份文书。"))
    owner, record = owners.fetch(actor, k.owner_type, owner_id)
    if not may_issue(k, actor, owner, record):
        raise PermissionDenied(_("您可以查看该记录，但无权出具这份文书。"))
    reason = k.unavailable(record)
    if reason:
        raise ValidationError({"kind": [reason]})
    now = timezone.now()
    reveal = bool(owner.sees_identifiers(actor, record))
    # Only the parts of the file this user may see are printed (R11.1: left out, not blanked).
    groups = frozenset(k.groups & owner.groups(actor, record))
    with translation.override(DOCUMENT_LANGUAGE):  # printed in Chinese whatever the interface language
        data = k.build(record, kinds.BuildContext(user=actor, reveal=reveal, now=now, groups=groups))
        label = str(k.label)
    digest = data_digest(data)
    code = _unique_code()
    issuer = issuer_of(k, record, actor)
    url = verify_url(base_url, code)
    meta = {
        "label": label,
        "code": code,
        "code_grouped": vcode.grouped(code),
        "verify_url": url,
        "verify_page": verify_url(base_url, "").rstrip("/") + "/",
        "qr": qr_data_uri(url),
        "issuer": issuer,
        "issued_at": timezone.localtime(now),
        "issued_by": actor.full_name or actor.username,
        "data_version": _fitted_version(str(k.version(record))),
        "data_hash": digest,
    }
    pdf, pages = render_pdf(k.template, {"data": data, "doc": meta})
    sha = hashlib.sha256(pdf).hexdigest()
    child_id, region = owner.child_id(record), owner.region_code(record)
    with transaction.atomic():
        doc = GeneratedDocument.objects.create(
            code=code,
            kind=k.code,
            owner_type=owner.code,
            owner_id=str(record.pk),
            child_id=child_id,
            region_code=region,
            issuer=issuer,
            issued_at=now,
            issued_by=actor,
            data_version=str(meta["data_version"]),
            data_hash=digest,
            sha256=sha,
            size=len(pdf),
            pages=pages,
            identifiers_shown=reveal,
            groups=sorted(groups),
            content=storage.store(pdf),
        )
        record_events([generated_event(doc, actor, owner, record)])
        _access(
            actor,
            AccessLog.Action.GENERATE,
            child_id=child_id,
            region_code=region,
            detail=f"{k.code} {code}",
            ip=ip,
            child_data=k.contains_child_data,
            identifiers=reveal,
        )
    return doc


def sealed_facts(doc: GeneratedDocument) -> dict[str, Any]:
    """What the event seals about a document; verification compares the row with it."""
    return {
        "code": doc.code,
        "kind": doc.kind,
        "owner_type": doc.owner_type,
        "owner_id": doc.owner_id,
        "issuer": doc.issuer,
        "issued_at": doc.issued_at.isoformat(),
        "issued_by": doc.issued_by_id,
        "data_version": doc.data_version,
        "data_hash": doc.data_hash,
        "sha256": doc.sha256,
        "size": doc.size,
        "pages": doc.pages,
        "identifiers_shown": doc.identifiers_shown,
        "groups": list(doc.groups or []),
    }


def _event_payload(owner: owners.OwnerType, record: Any, facts: dict[str, Any]) -> dict[str, Any]:
    """What an event about a record's document or attachment seals: the facts, and for the protection
    classes the case it belongs to (the timeline shows it only to readers of that case)."""
    case = owner.case_id(record)
    return {**facts, "case": case} if case else facts


def generated_event(doc: GeneratedDocument, actor: User, owner: owners.OwnerType, record: Any) -> EventSpec:
    k = kinds.find(doc.kind)
    return EventSpec(
        verb="document.generated",
        subject_type="core.document",
        subject_id=str(doc.pk),
        actor=actor,
        child_id=doc.child_id,
        region_code=doc.region_code,
        summary=_("生成文书：%(kind)s（验证码 %(code)s）")
        % {"kind": k.label if k else doc.kind, "code": vcode.grouped(doc.code)},
        after=_event_payload(owner, record, sealed_facts(doc)),
        occurred_at=doc.issued_at,
        visibility=owner.event_visibility(),
    )


def _document_for(actor: User, document_id: Any) -> tuple[GeneratedDocument, owners.OwnerType, Any]:
    """The document, if the actor may see its record and everything it printed; else 404 like missing
    (the answer must not tell what an id belongs to)."""
    doc = owners.guarded(lambda: GeneratedDocument.objects.select_related("issued_by").get(pk=document_id))
    owner, record = owners.fetch(actor, doc.owner_type, doc.owner_id)
    if not may_open(actor, owner, record, doc, owner.groups(actor, record)):
        raise Http404("not found")
    return doc, owner, record


def document_get(*, actor: User, document_id: Any) -> GeneratedDocument:
    return _document_for(actor, document_id)[0]


def document_download(
    *, actor: User, document_id: Any, ip: str | None = None
) -> tuple[GeneratedDocument, bytes]:
    """The issued PDF, byte for byte; logged as an access when it prints child data."""
    doc, _owner, _record = _document_for(actor, document_id)
    data = storage.load_by_id(doc.content_id)
    k = kinds.find(doc.kind)
    _access(
        actor,
        AccessLog.Action.DOCUMENT,
        child_id=doc.child_id,
        region_code=doc.region_code,
        detail=f"{doc.kind} {doc.code}",
        ip=ip,
        child_data=k is None or k.contains_child_data,
        identifiers=doc.identifiers_shown,
    )
    return doc, data


# --- attachments -------------------------------------------------------------------------------------


def max_upload_bytes() -> int:
    return int(param("attachment_max_bytes"))


def allowed_types() -> list[str]:
    return [str(t) for t in param("attachment_types")]


def attachment_add(
    *,
    actor: User,
    owner_type: str,
    owner_id: Any,
    category: str,
    filename: str,
    data: bytes,
    note: str = "",
) -> Attachment:
    """Attach a file to a record: type decided by content, size limited, stored encrypted; an event.
    The file is checked (images decoded and re-encoded) before the write transaction opens."""
    owner = owners.get(owner_type)
    if not any(can(actor, c) for c in owner.attach):
        raise PermissionDenied(_("您的角色不能给这类记录上传附件。"))
    owner, record = owners.fetch(actor, owner_type, owner_id)
    if not owner.may_attach(actor, record):
        raise PermissionDenied(_("您可以查看该记录，但无权上传附件。"))
    errors: dict[str, list[str]] = {}
    if (
        category not in AttachmentCategory.values
        or (owner.categories and category not in owner.categories)
        or not owner.sees_category(actor, record, category)
    ):
        errors["category"] = [_("请选择附件类别。")]
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    if len(note) > 200:
        errors["note"] = [_("说明最多 200 字。")]
    try:
        checked = sniff.check(data, allowed=allowed_types(), max_bytes=max_upload_bytes())
    except ValidationError as exc:
        errors.update(exc.message_dict)
        checked = None
    if errors or checked is None:
        raise ValidationError(errors)
    with transaction.atomic():
        return _attachment_write(actor, owner, record, category, name, note, checked)


def _attachment_write(
    actor: User,
    owner: owners.OwnerType,
    record: Any,
    category: str,
    name: str,
    note: str,
    checked: sniff.Checked,
) -> Attachment:
    att = Attachment.objects.create(
        owner_type=owner.code,
        owner_id=str(record.pk),
        child_id=owner.child_id(record),
        region_code=owner.region_code(record),
        category=category,
        filename=name or f"{category}.{checked.file_type}",
        note=note.strip(),
        file_type=checked.file_type,
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=hashlib.sha256(checked.data).hexdigest(),
        uploaded_by=actor,
        content=storage.store(checked.data),
    )
    record_events(
        [
            EventSpec(
                verb="attachment.added",
                subject_type="core.attachment",
                subject_id=str(att.pk),
                actor=actor,
                child_id=att.child_id,
                region_code=att.region_code,
                summary=_("上传附件：%(category)s") % {"category": att.get_category_display()},
                # No file name: it may name people, and the chain keeps what it seals forever.
                after=_event_payload(
                    owner,
                    record,
                    {
                        "owner_type": att.owner_type,
                        "owner_id": att.owner_id,
                        "category": att.category,
                        "file_type": att.file_type,
                        "size": att.size,
                        "sha256": att.sha256,
                    },
                ),
                occurred_at=att.uploaded_at,
                visibility=owner.event_visibility(att.category),
            )
        ]
    )
    return att


def _attachment_for(actor: User, attachment_id: Any) -> tuple[Attachment, owners.OwnerType, Any]:
    """The attachment, if the actor may see its record and its category; else 404 like missing."""
    att = owners.guarded(lambda: Attachment.objects.get(pk=attachment_id, removed_at__isnull=True))
    owner, record = owners.fetch(actor, att.owner_type, att.owner_id)
    if not owner.sees_category(actor, record, att.category):
        raise Http404("not found")
    return att, owner, record


def attachment_get(*, actor: User, attachment_id: Any) -> Attachment:
    return _attachment_for(actor, attachment_id)[0]


def attachment_download(
    *, actor: User, attachment_id: Any, ip: str | None = None
) -> tuple[Attachment, bytes]:
    """The file's bytes for a user who may see its record (else 404); every download is logged."""
    att, _owner, _record = _attachment_for(actor, attachment_id)
    data = storage.load_by_id(att.content_id)
    _access(
        actor,
        AccessLog.Action.DOWNLOAD,
        child_id=att.child_id,
        region_code=att.region_code,
        detail=f"{att.owner_type} {att.category} {att.pk}",
        ip=ip,
    )
    return att, data


@transaction.atomic
def attachment_remove(*, actor: User, attachment_id: Any, reason: str) -> Attachment:
    """Withdraw a file uploaded by mistake: its encrypted content is deleted (a wrong child's photo must
    really go), the row and the sealed event say who removed what and why."""
    att, owner, record = _attachment_for(actor, attachment_id)
    if not owner.may_attach(actor, record):
        raise PermissionDenied(_("您可以查看该记录，但无权删除附件。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写删除原因。")]})
    stored_id = att.content_id
    att.removed_at, att.removed_by, att.content = timezone.now(), actor, None
    att.save(update_fields=["removed_at", "removed_by", "content"])
    if stored_id is not None:
        from shouhu.core.documents.models import StoredFile

        StoredFile.objects.filter(pk=stored_id).delete()
    record_events(
        [
            EventSpec(
                verb="attachment.removed",
                subject_type="core.attachment",
                subject_id=str(att.pk),
                actor=actor,
                child_id=att.child_id,
                region_code=att.region_code,
                summary=_("删除附件：%(category)s") % {"category": att.get_category_display()},
                before={"sha256": att.sha256, "size": att.size},
                after=_event_payload(owner, record, {"reason": reason[:200]}),
                visibility=owner.event_visibility(att.category),
            )
        ]
    )
    return att


@dataclass(frozen=True)
class Upload:
    """What a view hands over: the browser's file name and the bytes (read once, already size-capped)."""

    filename: str
    data: bytes


def read_upload(uploaded: Any) -> Upload:
    """Read an UploadedFile, refusing before reading one byte too many (the limit is policy data)."""
    limit = max_upload_bytes()
    if uploaded is None:
        raise ValidationError({"file": [_("请选择要上传的文件。")]})
    if uploaded.size is not None and uploaded.size > limit:
        raise ValidationError(
            {
                "file": [
                    _("文件过大（%(size)s），上限为 %(limit)s。请压缩或分拆后上传。")
                    % {"size": sniff.human_size(uploaded.size), "limit": sniff.human_size(limit)}
                ]
            }
        )
    return Upload(filename=getattr(uploaded, "name", "") or "", data=uploaded.read(limit + 1))
