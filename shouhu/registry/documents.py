"""The registry's records for documents and attachments, and its documents (R1.1, R1.4, R11.6):

- owner types `registry.child` (the file, seen with `child.view`) and `registry.agreement` (the
  entrusted-guardianship agreement, part of the family group: `child.family`), fetched through
  `restrict` so that out of reach answers 404; attachments are added by those who may edit the file
  (`child.edit`), and an attachment's category may need a field group of its own (a court decision or a
  certificate speaks of the family, its health or income: a school does not see it);
- the one-person-one-file record (一人一档) of a child, printed with only the field groups the user sees
  (`registry/fields.py`) and ID numbers and phones masked unless the user holds `child.identifiers`;
- the entrusted-guardianship confirmation (委托监护确认书) and the guardian's notice of duty
  (监护责任告知书) of an agreement, pre-filled to be printed and signed: issued by those who may edit
  the file (`child.edit`).

Registered from `RegistryConfig.ready`.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.access import get_or_404
from shouhu.core.capabilities import GROUPS
from shouhu.core.documents import kinds, owners
from shouhu.core.documents.kinds import BuildContext, DocumentKind
from shouhu.core.documents.owners import OwnerType
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.models import Code, Organisation, OrganisationKind
from shouhu.core.visibility import FAMILY, FILE
from shouhu.registry import rules, selectors
from shouhu.registry.fields import (
    CARE,
    CONTACTS,
    HEALTH,
    IDENTITY,
    INCOME,
    SCHOOLING,
    full_id_numbers,
    groups_of,
)
from shouhu.registry.fields import FAMILY as FAMILY_GROUP
from shouhu.registry.models import Agreement, Child, Guardian, LeftBehindType

KEY_REASONS = {"hardship": "生活困难", "disabled": "残疾", "girl": "留守女童", "unattended": "无人监护"}


# --- owner types ---------------------------------------------------------------------------------------


def _groups(user: Any, child: Child) -> frozenset[str]:
    return groups_of(user, child)


def _full_identifiers(user: Any, child: Child) -> bool:
    """ID numbers and phones printed in full (and copies printed so opened) only with child.identifiers."""
    return full_id_numbers(groups_of(user, child))


def _agreement(user: Any, agreement_id: str) -> Agreement:
    return get_or_404(
        Agreement.objects.select_related("guardian", "child__village__parent", "child__school"),
        user,
        "child.family",
        pk=agreement_id,
    )


# What an attachment of each category on the file needs beyond seeing the file: a court decision speaks of
# the guardianship, a certificate or anything else may speak of the family, its health or its income.
FILE_CATEGORY_GROUPS = {
    "school_report": frozenset({SCHOOLING}),
    "court_decision": frozenset({FAMILY_GROUP}),
    "certificate": frozenset({FAMILY_GROUP, HEALTH, INCOME}),
    "other": frozenset({FAMILY_GROUP, HEALTH, INCOME}),
}

CHILD = owners.register(
    OwnerType(
        code="registry.child",
        label=_("儿童档案"),
        view=("child.view",),
        fetch=lambda user, pk: selectors.get_child(user, pk),
        subject=lambda child: child,
        child_id=lambda child: str(child.pk),
        region_code=lambda child: child.village_id,
        url=lambda child: reverse("web:child_detail", args=[child.pk]),
        title=lambda child: str(_("%(name)s 的档案") % {"name": child.name}),
        attach=("child.edit",),
        sees_identifiers=_full_identifiers,
        groups=_groups,
        categories=("photo", "certificate", "school_report", "court_decision", "other"),
        category_groups=FILE_CATEGORY_GROUPS,
        visibility=FILE,
        category_visibility={c: FAMILY for c, g in FILE_CATEGORY_GROUPS.items() if FAMILY_GROUP in g},
    )
)

AGREEMENT = owners.register(
    OwnerType(
        code="registry.agreement",
        label=_("委托监护协议"),
        view=("child.family",),
        fetch=_agreement,
        subject=lambda a: a.child,
        child_id=lambda a: str(a.child_id),
        region_code=lambda a: a.child.village_id,
        url=lambda a: reverse("web:child_detail", args=[a.child_id]) + "#care",
        title=lambda a: str(
            _("%(name)s 的委托监护协议（%(start)s 至 %(end)s）")
            % {"name": a.child.name, "start": a.valid_from, "end": a.valid_to}
        ),
        attach=("child.edit",),
        sees_identifiers=lambda user, a: _full_identifiers(user, a.child),
        groups=lambda user, a: _groups(user, a.child),
        categories=("signed_agreement", "certificate", "other"),
        visibility=FAMILY,
    )
)

# The parts of the file a document about a child may print; ID numbers and phones are shown masked
# with them (in full only with child.identifiers, which `reveal` says).
PRINTABLE = frozenset(GROUPS) - {"identifiers", "protection"}


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
    """Who the child is (identity), and where they live and study when the user sees those groups."""
    today = timezone.localdate(ctx.now)
    village = child.village
    out: dict[str, Any] = {
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
    }
    if ctx.shows(CONTACTS):
        out["address"] = child.address
    if ctx.shows(SCHOOLING):
        out.update(
            school=child.school.name if child.school else "",
            schooling=str(child.get_schooling_display()),
            boarding=child.boarding,
        )
    return out


def _guardian(g: Guardian | None, ctx: BuildContext) -> dict[str, Any] | None:
    """A guardian as the user may see them: the whole record with the family group, else (contacts)
    who they are and how to reach them."""
    if g is None:
        return None
    contact = {
        "name": g.name,
        "relationship": _code("relationship", g.relationship),
        "phone": _phone(g.phone, ctx.reveal),
    }
    if not ctx.shows(FAMILY_GROUP):
        return contact
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
        **contact,
        "birth_date": g.birth_date,
        "id_number": _id(g.id_number, ctx.reveal),
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

NUMERALS = "一二三四五六七八九十"
# The file's sections in print order, each with the groups that show it (any of them).
SECTIONS: list[tuple[str, str, frozenset[str]]] = [
    ("basic", "基本情况", frozenset({IDENTITY})),
    ("parents", "父母情况", frozenset({FAMILY_GROUP, CONTACTS})),
    ("care", "监护与照料", frozenset({FAMILY_GROUP, CARE, CONTACTS})),
    ("grandparents", "祖辈", frozenset({FAMILY_GROUP})),
    ("economy", "家庭经济与救助", frozenset({INCOME, FAMILY_GROUP})),
    ("status", "留守状态与重点对象", frozenset({CARE, SCHOOLING})),
]


def _parent(p: Any, ctx: BuildContext) -> dict[str, Any]:
    row = {"relation": str(p.get_relation_display()), "name": p.name, "phone": _phone(p.phone, ctx.reveal)}
    if not ctx.shows(FAMILY_GROUP):
        return row  # contacts: who the parents are and how to reach them
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
    return {
        **row,
        "birth_date": p.birth_date,
        "id_number": _id(p.id_number, ctx.reveal),
        "state": state,
        "capacity": "有监护能力"
        if p.guardianship_capacity
        else "无监护能力"
        + (f"（{_code('incapacity_reason', p.incapacity_reason)}）" if p.incapacity_reason else ""),
    }


def _family(child: Child, ctx: BuildContext) -> dict[str, Any]:
    household = child.household
    return {
        "grandparents": [
            {
                "label": f"{g.get_side_display()}·{g.get_relation_display()}",
                "name": g.name,
                "birth_year": g.birth_date.year if g.birth_date else None,
                "deceased": g.deceased,
            }
            for g in child.grandparents.all()
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
    }


def _care(child: Child) -> dict[str, Any]:
    return {
        "care_arrangement": str(child.get_care_arrangement_display()),
        "rating": str(child.get_guardianship_rating_display()) if child.guardianship_rating else "未评估",
        "distress": _codes("distress_category", list(child.distress_categories or [])),
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
        "notes": child.notes,
    }


def child_file_data(child: Child, ctx: BuildContext) -> dict[str, Any]:
    """The file as this user may see it: each field group's part only when `ctx.groups` holds it (left
    out, not blanked), and the sections numbered as printed."""
    data: dict[str, Any] = {
        "child": child_basics(child, ctx),
        "provisional": child.is_provisional,
        "version": child.version,
        "updated_at": timezone.localtime(child.updated_at),
    }
    if ctx.shows(HEALTH):
        data["health"] = (
            str(child.get_health_display())
            + (
                f" · {_code('disability_type', child.disability_type)} {_code('disability_grade', child.disability_grade)}"
                if child.disability_type
                else ""
            )
            + (f" · {child.illness}" if child.illness else "")
        )
    if ctx.shows(FAMILY_GROUP) or ctx.shows(CONTACTS):
        data["parents"] = [_parent(p, ctx) for p in child.parents.all()]
        guardians = {g.role: g for g in child.guardians.all()}
        data["carer"] = _guardian(guardians.get(Guardian.Role.CARER), ctx)
        data["entrusted"] = _guardian(guardians.get(Guardian.Role.ENTRUSTED), ctx)
    if ctx.shows(CONTACTS):
        data["village_contact"] = " ".join(
            x for x in (child.village_contact_name, _phone(child.village_contact_phone, ctx.reveal)) if x
        )
    if ctx.shows(FAMILY_GROUP):
        data.update(_family(child, ctx))
    if ctx.shows(INCOME):
        data["income_sources"] = _codes("income_source", list(child.income_sources or []))
        data["assistance"] = _codes("assistance", list(child.assistance or []))
    if ctx.shows(CARE) or ctx.shows(SCHOOLING):  # the census marking is part of the school's work too
        data.update(
            left_behind=child.lb_status,
            lb_type=str(LeftBehindType(child.lb_type).label) if child.lb_type else "",
            lb_since=child.lb_since,
        )
    if ctx.shows(CARE):
        data.update(_care(child))
    sections = [(key, title) for key, title, shown_by in SECTIONS if shown_by & ctx.groups]
    data["headings"] = {key: f"{NUMERALS[i]}、{title}" for i, (key, title) in enumerate(sections)}
    # The paper says what it leaves out, so that nobody takes a partial copy for the whole file.
    data["omitted"] = [str(GROUPS[g]) for g in GROUPS if g in PRINTABLE and g not in ctx.groups]
    return data


kinds.register(
    DocumentKind(
        code="registry.child_file",
        label=_("一人一档"),
        owner_type=CHILD.code,
        template="registry/documents/child_file.html",
        build=child_file_data,
        version=lambda child: str(child.version),
        capability=("child.view",),
        groups=PRINTABLE,
        description=_("儿童档案中本人有权查看的登记信息，供归档和核对。"),
    )
)


# --- 委托监护确认书、监护责任告知书 -----------------------------------------------------------------------

AGREEMENT_GROUPS = frozenset({IDENTITY, CONTACTS, SCHOOLING, FAMILY_GROUP})


def agreement_data(agreement: Agreement, ctx: BuildContext) -> dict[str, Any]:
    """Printed by those who may edit the file (all of its groups): the family's papers to sign."""
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


kinds.register(
    DocumentKind(
        code="registry.entrustment_confirmation",
        label=_("委托监护确认书"),
        owner_type=AGREEMENT.code,
        template="registry/documents/entrustment_confirmation.html",
        build=agreement_data,
        issuer=_agreement_issuer,
        capability=("child.edit",),  # papers the village committee issues to the family
        groups=AGREEMENT_GROUPS,
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
        capability=("child.edit",),
        groups=AGREEMENT_GROUPS,
        description=_("向受委托监护人和父母告知监护责任和负面清单，签字确认。"),
    )
)
