"""Reads of documents and attachments, always from a record the user was allowed to fetch (owners.py)."""

from __future__ import annotations

from typing import Any

from shouhu.core.documents import kinds, owners, sniff
from shouhu.core.documents.models import Attachment, AttachmentCategory, GeneratedDocument


def documents_of(user: Any, owner: owners.OwnerType, record: Any, owner_id: str) -> list[GeneratedDocument]:
    """The record's issued documents this user may open (copies with full identifiers only for those
    whose duty covers them)."""
    qs = GeneratedDocument.objects.filter(owner_type=owner.code, owner_id=owner_id).select_related(
        "issued_by"
    )
    if not owner.sees_identifiers(user, record):
        qs = qs.filter(identifiers_shown=False)
    return list(qs.order_by("-issued_at", "-id"))


def kind_label(code: str) -> Any:
    k = kinds.find(code)
    return k.label if k else code


def attachments_of(owner: owners.OwnerType, owner_id: str) -> list[Attachment]:
    return list(
        Attachment.objects.filter(owner_type=owner.code, owner_id=owner_id, removed_at__isnull=True)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


def category_choices(owner: owners.OwnerType) -> list[tuple[str, Any]]:
    """The owner's categories in its own order (the likeliest first), else all of them."""
    labels = dict(AttachmentCategory.choices)
    return [(c, labels[c]) for c in (owner.categories or tuple(AttachmentCategory.values)) if c in labels]


def panels(user: Any, owner_code: str, records: list[Any]) -> dict[str, dict[str, Any]]:
    """The documents-and-attachments block of each record's page, by record id: two queries whatever
    the number of records (the records were already fetched through the owner's scoped selector)."""
    from shouhu.core.documents.services import allowed_types, max_upload_bytes

    owner = owners.get(owner_code)
    ids = [str(r.pk) for r in records]
    docs: dict[str, list[GeneratedDocument]] = {i: [] for i in ids}
    for d in (
        GeneratedDocument.objects.filter(owner_type=owner.code, owner_id__in=ids)
        .select_related("issued_by")
        .order_by("-issued_at", "-id")
    ):
        docs[d.owner_id].append(d)
    atts: dict[str, list[Attachment]] = {i: [] for i in ids}
    for a in (
        Attachment.objects.filter(owner_type=owner.code, owner_id__in=ids, removed_at__isnull=True)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    ):
        atts[a.owner_id].append(a)
    types = allowed_types()
    common = {
        "owner": owner,
        "categories": category_choices(owner),
        "max_size": sniff.human_size(max_upload_bytes()),
        "types": sniff.allowed_labels(types),
        "accept": ",".join(sorted({sniff.TYPES[t][0] for t in types if t in sniff.TYPES})),
    }
    out: dict[str, dict[str, Any]] = {}
    for record, owner_id in zip(records, ids, strict=True):
        reveal = owner.sees_identifiers(user, record)
        out[owner_id] = {
            **common,
            "owner_id": owner_id,
            "kinds": [
                {"kind": k, "reason": k.unavailable(record)}
                for k in kinds.for_owner(owner.code)
                if k.may_generate(user, record)
            ],
            "documents": [
                {"doc": d, "label": kind_label(d.kind)}
                for d in docs[owner_id]
                if reveal or not d.identifiers_shown
            ],
            "attachments": atts[owner_id],
            "may_attach": owner.may_attach(user, record),
        }
    return out


def panel(user: Any, owner_code: str, record: Any) -> dict[str, Any]:
    return panels(user, owner_code, [record])[str(record.pk)]
