"""The care module's record for documents and attachments: a visit (R3.1, R3.2), with its printable
visit record sheet (走访记录表), pre-filled from the visit to be signed by the visitor and the carer.
Registered from `CareConfig.ready`; fetched through `Visit.objects.visible_to` (out of scope → 404)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.care.models import Visit
from shouhu.care.services import FINDING_FIELDS, may_edit
from shouhu.core.documents import kinds, owners
from shouhu.core.documents.kinds import BuildContext, DocumentKind
from shouhu.core.documents.owners import OwnerType
from shouhu.core.identity import mask_phone
from shouhu.core.jurisdiction import scope_of
from shouhu.registry.documents import child_basics, village_committee
from shouhu.registry.models import Rating


def _visit(user: Any, visit_id: str) -> Visit:
    return owners.guarded(
        lambda: (
            Visit.objects.visible_to(user)
            .select_related("child__village__parent", "child__school", "recorded_by")
            .get(pk=int(visit_id))
        )
    )


VISIT = owners.register(
    OwnerType(
        code="care.visit",
        label=_("走访记录"),
        fetch=_visit,
        child_id=lambda v: str(v.child_id),
        region_code=lambda v: v.child.village_id,
        url=lambda v: reverse("web:care_child", args=[v.child_id]) + f"#visit-{v.pk}",
        title=lambda v: str(
            _("%(name)s %(date)s 的走访") % {"name": v.child.name, "date": timezone.localdate(v.occurred_at)}
        ),
        may_attach=lambda user, v: may_edit(user, v.child),
        sees_identifiers=lambda user, v: scope_of(user).sees_identifiers_in(v.child.village_id),
        categories=("photo", "certificate", "other"),
    )
)


def visit_data(visit: Visit, ctx: BuildContext) -> dict[str, Any]:
    child = visit.child
    carer = child.guardians.filter(role="carer").first()
    phone = (carer.phone or "") if carer else ""
    return {
        "child": child_basics(child, ctx),
        "care_arrangement": str(child.get_care_arrangement_display()),
        "carer": {
            "name": carer.name,
            "phone": phone if ctx.reveal else (mask_phone(phone) or ""),
        }
        if carer
        else None,
        "occurred_at": timezone.localtime(visit.occurred_at),
        "kind": str(visit.get_kind_display()),
        "visitor_role": str(visit.get_visitor_role_display()),
        "visitor_name": visit.visitor_name,
        "findings": [
            {"label": str(label), "text": str(visit.findings.get(key, "") or "")}
            for key, label in FINDING_FIELDS.items()
        ],
        "living_alone": visit.living_alone,
        "rating": str(Rating(visit.guardianship_rating).label) if visit.guardianship_rating else "",
        "recorded_by": str(visit.recorded_by) if visit.recorded_by else "",
        "recorded_at": timezone.localtime(visit.recorded_at),
        "committee": village_committee(child),
        "visit_id": visit.pk,
    }


kinds.register(
    DocumentKind(
        code="care.visit_record",
        label=_("走访记录表"),
        owner_type=VISIT.code,
        template="care/documents/visit_record.html",
        build=visit_data,
        version=lambda v: f"visit-{v.pk}",
        description=_("走访人和监护人（照料人）签字后归档。"),
    )
)
