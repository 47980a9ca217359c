"""The care module's record for documents and attachments: a visit (R3.1, R3.2), with its printable
visit record sheet (走访记录表), pre-filled from the visit to be signed by the visitor and the carer.

A visit is part of the child's care group: fetched with `restrict(…, "child.care")` (out of reach →
404), photos added by those who record care (`care.record`), the sheet issued by them too, printing
only the field groups the user sees. Registered from `CareConfig.ready`."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.care.models import Visit
from shouhu.care.services import FINDING_FIELDS
from shouhu.core.access import get_or_404
from shouhu.core.documents import kinds, owners
from shouhu.core.documents.kinds import BuildContext, DocumentKind
from shouhu.core.documents.owners import OwnerType
from shouhu.core.identity import mask_phone
from shouhu.core.visibility import CARE
from shouhu.registry.documents import FILE_CATEGORY_GROUPS, child_basics, village_committee
from shouhu.registry.fields import CARE as CARE_GROUP
from shouhu.registry.fields import CONTACTS, FAMILY, IDENTITY, SCHOOLING, full_id_numbers, groups_of
from shouhu.registry.models import Rating


def _visit(user: Any, visit_id: str) -> Visit:
    return get_or_404(
        Visit.objects.select_related("child__village__parent", "child__school", "recorded_by"),
        user,
        "child.care",
        pk=visit_id,
    )


VISIT = owners.register(
    OwnerType(
        code="care.visit",
        label=_("走访记录"),
        view=("child.care",),
        fetch=_visit,
        subject=lambda v: v.child,
        child_id=lambda v: str(v.child_id),
        region_code=lambda v: v.child.village_id,
        url=lambda v: reverse("web:care_child", args=[v.child_id]) + f"#visit-{v.pk}",
        title=lambda v: str(
            _("%(name)s %(date)s 的走访") % {"name": v.child.name, "date": timezone.localdate(v.occurred_at)}
        ),
        attach=("care.record",),
        sees_identifiers=lambda user, v: full_id_numbers(groups_of(user, v.child)),
        groups=lambda user, v: groups_of(user, v.child),
        categories=("photo", "certificate", "other"),
        # a certificate or anything else may speak of the family, its health or income (as on the file)
        category_groups={c: FILE_CATEGORY_GROUPS[c] for c in ("certificate", "other")},
        visibility=CARE,
    )
)


def visit_data(visit: Visit, ctx: BuildContext) -> dict[str, Any]:
    """The sheet as the user may see it (issued by those who record care, who see all of it)."""
    child = visit.child
    carer = child.guardians.filter(role="carer").first()
    phone = (carer.phone or "") if carer else ""
    out: dict[str, Any] = {}
    if ctx.shows(FAMILY) or ctx.shows(CONTACTS):
        out["carer"] = (
            {"name": carer.name, "phone": phone if ctx.reveal else (mask_phone(phone) or "")}
            if carer
            else None
        )
    return {
        **out,
        "child": child_basics(child, ctx),
        "care_arrangement": str(child.get_care_arrangement_display()),
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
        capability=("care.record",),
        groups=frozenset({IDENTITY, CONTACTS, SCHOOLING, FAMILY, CARE_GROUP}),
        description=_("走访人和监护人（照料人）签字后归档。"),
    )
)
