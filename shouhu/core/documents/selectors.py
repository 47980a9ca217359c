"""Reads of documents and attachments, always from a record the user was allowed to fetch (owners.py),
and only the rows that reader may open: documents that print no more than the reader sees, attachments
whose category the reader's field groups cover."""

from __future__ import annotations

from typing import Any

from shouhu.core.capabilities import GROUPS
from shouhu.core.documents import kinds, owners, sniff
from shouhu.core.documents.models import Attachment, AttachmentCategory, GeneratedDocument


def documents_of(user: Any, owner: owners.OwnerType, record: Any, owner_id: str) -> list[GeneratedDocument]:
    """The record's issued documents this user may open (a copy that printed more field groups or full
    identifiers than this reader sees is left out)."""
    from shouhu.core.documents.services import may_open

    groups = owner.groups(user, record)
    qs = GeneratedDocument.objects.filter(owner_type=owner.code, owner_id=owner_id).select_related(
        "issued_by"
    )
    return [d for d in qs.order_by("-issued_at", "-id") if may_open(user, owner, record, d, groups)]


def kind_label(code: str) -> Any:
    k = kinds.find(code)
    return k.label if k else code


def omitted_groups(doc: GeneratedDocument) -> list[Any]:
    """The field groups its kind prints that this copy left out (its issuer did not see them), as labels."""
    k = kinds.find(doc.kind)
    printed = set(doc.groups or [])
    return [label for g, label in GROUPS.items() if k is not None and g in k.groups and g not in printed]


def attachments_of(user: Any, owner: owners.OwnerType, record: Any, owner_id: str) -> list[Attachment]:
    """The record's attachments whose category this reader's field groups cover."""
    groups = owner.groups(user, record)
    rows = (
        Attachment.objects.filter(owner_type=owner.code, owner_id=owner_id, removed_at__isnull=True)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )
    return [a for a in rows if owner.sees_category(user, record, a.category, groups)]


def category_choices(owner: owners.OwnerType, groups: frozenset[str] | None = None) -> list[tuple[str, Any]]:
    """The owner's categories in its own order (the likeliest first), else all of them; with `groups`,
    only those the uploader could see again (an upload must not vanish from its uploader's page)."""
    labels = dict(AttachmentCategory.choices)
    codes = owner.categories or tuple(AttachmentCategory.values)
    return [
        (c, labels[c])
        for c in codes
        if c in labels and (groups is None or owner.category_groups.get(c, frozenset()) <= groups)
    ]


def panels(user: Any, owner_code: str, records: list[Any]) -> dict[str, dict[str, Any]]:
    """The documents-and-attachments block of each record's page, by record id: two queries whatever
    the number of records (the records were already fetched through the owner's scoped selector)."""
    from shouhu.core.documents.services import allowed_types, max_upload_bytes, may_issue, may_open

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
        "max_size": sniff.human_size(max_upload_bytes()),
        "types": sniff.allowed_labels(types),
        "accept": ",".join(sorted({sniff.TYPES[t][0] for t in types if t in sniff.TYPES})),
    }
    out: dict[str, dict[str, Any]] = {}
    for record, owner_id in zip(records, ids, strict=True):
        groups = owner.groups(user, record)
        out[owner_id] = {
            **common,
            "owner_id": owner_id,
            "categories": category_choices(owner, groups),
            "kinds": [
                {"kind": k, "reason": k.unavailable(record)}
                for k in kinds.for_owner(owner.code)
                if may_issue(k, user, owner, record)
            ],
            "documents": [
                {"doc": d, "label": kind_label(d.kind), "omitted": omitted_groups(d)}
                for d in docs[owner_id]
                if may_open(user, owner, record, d, groups)
            ],
            "attachments": [
                a for a in atts[owner_id] if owner.sees_category(user, record, a.category, groups)
            ],
            "may_attach": owner.may_attach(user, record),
        }
    return out


def panel(user: Any, owner_code: str, record: Any) -> dict[str, Any]:
    return panels(user, owner_code, [record])[str(record.pk)]
