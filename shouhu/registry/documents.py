"""The registry's records for documents and attachments, and its documents (R1.1, R1.4, R11.6):

- owner types `registry.child` (the file) and `registry.agreement` (the entrusted-guardianship
  agreement), fetched through `selectors.get_child` so that out of scope answers 404;
- the one-person-one-file record (一人一档) of a child;
- the entrusted-guardianship confirmation (委托监护确认书) and the guardian's notice of duty
  (监护责任告知书) of an agreement, pre-filled to be printed and signed.

Registered from `RegistryConfig.ready`.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.documents import kinds, owners
from shouhu.core.documents.kinds import BuildContext, DocumentKind
from shouhu.core.documents.owners import OwnerType
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.jurisdiction import scope_of
from shouhu.core.models import Code, Organisation, OrganisationKind
from shouhu.registry import rules, selectors
from shouhu.registry.models import Agreement, Child, Guardian, LeftBehindType

KEY_REASONS = {"hardship": "生活困难", "disabled": "残疾", "girl": "留守女童", "unattended": "无人监护"}


# --- owner types ---------------------------------------------------------------------------------------


def _agreement(user: Any, agreement_id: str) -> Agreement:
    return owners.guarded(
        lambda: Agreement.objects.select_related("guardian", "child__village__parent", "child__school").get(
            pk=int(agreement_id), child__in=selectors.visible_children(user)
        )
    )


CHILD = owners.register(
    OwnerType(
        code="registry.child",
        label=_("儿童档案"),
        fetch=lambda user, pk: selectors.get_child(user, pk),
        child_id=lambda child: str(child.pk),
        region_code=lambda child: child.village_id,
        url=lambda child: reverse("web:child_detail", args=[child.pk]),
        title=lambda child: str(_("%(name)s 的档案") % {"name": child.name}),
        may_attach=lambda user, child: scope_of(user).may_edit_in(child.village_id),
        sees_identifiers=lambda user, child: scope_of(user).sees_identifiers_in(child.village_id),
        categories=("photo", "certificate", "school_report", "court_decision", "other"),
    )
)

AGREEMENT = owners.register(
    OwnerType(
        code="registry.agreement",
        label=_("委托监护协议"),
        fetch=_agreement,
        child_id=lambda a: str(a.child_id),
        region_code=lambda a: a.child.village_id,
        url=lambda a: reverse("web:child_detail", args=[a.child_id]) + "#care",
        title=lambda a: str(
            _("%(name)s 的委托监护协议（%(start)s 至 %(end)s）")
            % {"name": a.child.name, "start": a.valid_from, "end": a.valid_to}
        ),
        may_attach=lambda user, a: scope_of(user).may_edit_in(a.child.village_id),
        sees_identifiers=lambda user, a: scope_of(user).sees_identifiers_in(a.child.village_id),
        categories=("signed_agreement", "certificate", "other"),
    )
)


# --- shared pieces -------------------------------------------------------------------------------------


def _id(value: str | None, reveal: bool) -> str:
    if not value:
        return ""
    return value if reveal else (mask_id_number(value) or "")


def _phone(value: str | None, reveal: bool) -> str:
    if not value:
        return ""
    return value if reveal else (mask_phone(value) or "")


def _codes(list_name: str, values: list[str]) -> list[str]:
    """Chinese names of code-list entries, in the list's order (documents are printed in Chinese)."""
    names = dict(Code.objects.filter(list=list_name, code__in=values).values_list("code", "name_zh"))
    return [names.get(v, v) for v in values]


def _code(list_name: str, value: str) -> str:
    return _codes(list_name, [value])[0] if value else ""


def village_committee(child: Child) -> str:
    """The child's village (residents') committee: the unit that issues and verifies the family's papers."""
    org = Organisation.objects.filter(
        region_id=child.village_id, kind=OrganisationKind.VILLAGE_COMMITTEE
    ).first()
    if org is not None:
        return org.name
    village = child.village
    township = village.parent.name if village.parent else ""
    suffix = "居民委员会" if village.kind == "community" else "村民委员会"
    return f"{township}{village.name}{suffix}"


def child_basics(child: Child, ctx: BuildContext) -> dict[str, Any]:
    today = timezone.localdate(ctx.now)
    village = child.village
    return {
        "name": child.name,
        "sex": str(child.get_sex_display()),
        "birth_date": child.birth_date,
        "age": rules.full_years(child.birth_date, today),
        "ethnicity": _code("ethnicity", child.ethnicity),
        "id_number": _id(child.id_number, ctx.reveal) or ("未登记户口" if not child.hukou_registered else ""),
        "hukou": ("农村户籍" if child.hukou_rural else "非农村户籍")
        + (f" · {child.hukou_place}" if child.hukou_place else ""),
        "township": village.parent.name if village.parent else "",
        "village": village.name,
        "address": child.address,
        "school": child.school.name if child.school else "",
        "schooling": str(child.get_schooling_display()),
        "boarding": child.boarding,
    }


def _guardian(g: Guardian | None, ctx: BuildContext) -> dict[str, Any] | None:
    if g is None:
        return None
    ok, problems = rules.guardian_eligibility(
        rules.GuardianFacts(
            birth_date=g.birth_date,
            full_civil_capacity=g.full_civil_capacity,
            no_violence_history=g.no_violence_history,
            no_addiction=g.no_addiction,
            no_prior_neglect=g.no_prior_neglect,
        ),
        timezone.localdate(ctx.now),
    )
    return {
        "name": g.name,
        "relationship": _code("relationship", g.relationship),
        "birth_date": g.birth_date,
        "id_number": _id(g.id_number, ctx.reveal),
        "phone": _phone(g.phone, ctx.reveal),
        "address": g.address,
        "checks": [
            {"label": str(getattr(Guardian._meta.get_field(f), "verbose_name", f)), "value": getattr(g, f)}
            for f in ("full_civil_capacity", "no_violence_history", "no_addiction", "no_prior_neglect")
        ],
        "checked_on": g.checked_on,
        "eligible": ok,
        "problems": list(problems),
    }


# --- 一人一档 -----------------------------------------------------------------------------------------


def child_file_data(child: Child, ctx: BuildContext) -> dict[str, Any]:
    parents = []
    for p in child.parents.all():
        if p.deceased:
            state = "已去世"
        elif p.away_for_work:
            where = (
                f"境外 {p.work_country}"
                if p.abroad
                else " ".join(x for x in (_code("province", p.work_province), p.work_city) if x)
            )
            state = (
                "外出务工"
                + (f"（{p.away_since:%Y-%m-%d} 起）" if p.away_since else "")
                + (f" · {where}" if where else "")
            )
        else:
            state = "在家"
        parents.append(
            {
                "relation": str(p.get_relation_display()),
                "name": p.name,
                "birth_date": p.birth_date,
                "id_number": _id(p.id_number, ctx.reveal),
                "phone": _phone(p.phone, ctx.reveal),
                "state": state,
                "capacity": "有监护能力"
                if p.guardianship_capacity
                else "无监护能力"
                + (f"（{_code('incapacity_reason', p.incapacity_reason)}）" if p.incapacity_reason else ""),
            }
        )
    guardians = {g.role: g for g in child.guardians.all()}
    household = child.household
    return {
        "child": child_basics(child, ctx),
        "health": str(child.get_health_display())
        + (
            f" · {_code('disability_type', child.disability_type)} {_code('disability_grade', child.disability_grade)}"
            if child.disability_type
            else ""
        )
        + (f" · {child.illness}" if child.illness else ""),
        "care_arrangement": str(child.get_care_arrangement_display()),
        "rating": str(child.get_guardianship_rating_display()) if child.guardianship_rating else "未评估",
        "parents": parents,
        "carer": _guardian(guardians.get(Guardian.Role.CARER), ctx),
        "entrusted": _guardian(guardians.get(Guardian.Role.ENTRUSTED), ctx),
        "grandparents": [
            {
                "label": f"{g.get_side_display()}·{g.get_relation_display()}",
                "name": g.name,
                "birth_year": g.birth_date.year if g.birth_date else None,
                "deceased": g.deceased,
            }
            for g in child.grandparents.all()
        ],
        "income_sources": _codes("income_source", list(child.income_sources or [])),
        "assistance": _codes("assistance", list(child.assistance or [])),
        "distress": _codes("distress_category", list(child.distress_categories or [])),
        "left_behind": child.lb_status,
        "lb_type": str(LeftBehindType(child.lb_type).label) if child.lb_type else "",
        "lb_since": child.lb_since,
        "lb_reasons": list(child.lb_reasons or []),
        "key_target": child.key_target,
        "key_reasons": [KEY_REASONS.get(r, r) for r in child.key_target_reasons or []],
        "periods": [
            {
                "start": p.start,
                "end": p.end,
                "left_behind": p.left_behind,
                "type": str(LeftBehindType(p.type).label) if p.type else "",
            }
            for p in child.status_periods.order_by("start")
        ],
        "agreements": [
            {
                "guardian": a.guardian.name,
                "principals": a.principals,
                "signed_on": a.signed_on,
                "valid_from": a.valid_from,
                "valid_to": a.valid_to,
                "verified_on": a.verified_on,
            }
            for a in child.agreements.select_related("guardian")
        ],
        "household": {
            "head_name": household.head_name,
            "address": household.address,
            "plan": [
                {"measure": i.measure, "owner": i.owner, "due_date": i.due_date, "done_on": i.done_on}
                for i in household.plan_items.all()
            ],
        }
        if household
        else None,
        "village_contact": " ".join(
            x for x in (child.village_contact_name, _phone(child.village_contact_phone, ctx.reveal)) if x
        ),
        "notes": child.notes,
        "provisional": child.is_provisional,
        "version": child.version,
        "updated_at": timezone.localtime(child.updated_at),
    }


kinds.register(
    DocumentKind(
        code="registry.child_file",
        label=_("一人一档"),
        owner_type=CHILD.code,
        template="registry/documents/child_file.html",
        build=child_file_data,
        version=lambda child: str(child.version),
        description=_("儿童档案全部登记信息，供归档和核对。"),
    )
)


# --- 委托监护确认书、监护责任告知书 -----------------------------------------------------------------------


def agreement_data(agreement: Agreement, ctx: BuildContext) -> dict[str, Any]:
    child = agreement.child
    return {
        "child": child_basics(child, ctx),
        "guardian": _guardian(agreement.guardian, ctx),
        "principals": agreement.principals,
        "parents": [
            {
                "relation": str(p.get_relation_display()),
                "name": p.name,
                "phone": _phone(p.phone, ctx.reveal),
                "work": " ".join(
                    x for x in (_code("province", p.work_province), p.work_city, p.work_country) if x
                ),
            }
            for p in child.parents.all()
            if p.name
        ],
        "signed_on": agreement.signed_on,
        "valid_from": agreement.valid_from,
        "valid_to": agreement.valid_to,
        "responsibilities": _codes("agreement_responsibility", list(agreement.responsibilities or [])),
        "negatives": _codes("agreement_negative", list(agreement.negatives or [])),
        "notice_school_on": agreement.notice_school_on,
        "notice_village_on": agreement.notice_village_on,
        "verified_on": agreement.verified_on,
        "verified_by": agreement.verified_by,
        "committee": village_committee(child),
        "agreement_id": agreement.pk,
    }


def _agreement_issuer(agreement: Agreement, user: Any) -> str:
    return village_committee(agreement.child)


def _may_issue_family_papers(user: Any, agreement: Agreement) -> bool:
    """Papers the village committee issues to the family: those who may edit the file."""
    return scope_of(user).may_edit_in(agreement.child.village_id)


kinds.register(
    DocumentKind(
        code="registry.entrustment_confirmation",
        label=_("委托监护确认书"),
        owner_type=AGREEMENT.code,
        template="registry/documents/entrustment_confirmation.html",
        build=agreement_data,
        issuer=_agreement_issuer,
        may_generate=_may_issue_family_papers,
        description=_("父母、受委托监护人签字，村（居）委会核实盖章。"),
    )
)

kinds.register(
    DocumentKind(
        code="registry.guardian_notice",
        label=_("监护责任告知书"),
        owner_type=AGREEMENT.code,
        template="registry/documents/guardian_notice.html",
        build=agreement_data,
        issuer=_agreement_issuer,
        may_generate=_may_issue_family_papers,
        description=_("向受委托监护人和父母告知监护责任和负面清单，签字确认。"),
    )
)
