"""Every write of the services module (DESIGN principle 2): keyword-only, atomic, each recording an
event. Providers and programmes (R8.1, R8.2); needs and their workflow (R8.3); sessions and attendance
are in activities.py; parents and poverty (R9.1, R9.2) in source.py."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.access import can
from shouhu.core.events import record_event
from shouhu.core.models import Organisation, OrganisationKind, Region, User
from shouhu.core.visibility import ADMIN, CARE
from shouhu.core.workflow import WorkflowError
from shouhu.registry.models import Child
from shouhu.services import selectors
from shouhu.services.models import (
    Enrolment,
    KeyTime,
    Need,
    NeedSource,
    NeedState,
    NeedStep,
    Programme,
    Provider,
    ProviderCategory,
    ProviderStatus,
    ServiceType,
    Urgency,
    VenueKind,
)
from shouhu.services.workflow import NEED_WORKFLOW

# The organisation kind a newly registered provider's organisation gets (core.OrganisationKind).
ORG_KIND_OF = {
    ProviderCategory.SOCIAL_WORK: OrganisationKind.SOCIAL_WORK,
    ProviderCategory.UNION: OrganisationKind.MASS_ORGANISATION,
    ProviderCategory.YOUTH_LEAGUE: OrganisationKind.MASS_ORGANISATION,
    ProviderCategory.WOMENS_FEDERATION: OrganisationKind.MASS_ORGANISATION,
    ProviderCategory.DISABLED_FEDERATION: OrganisationKind.MASS_ORGANISATION,
    ProviderCategory.GUANGONGWEI: OrganisationKind.MASS_ORGANISATION,
}


def _bad(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _choice(value: Any, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise _bad(
            field,
            _("“%(v)s”不是有效的选项。可选：%(all)s。") % {"v": value, "all": "、".join(choices.values)},
        )
    return str(value)


def _types(codes: Any, field: str = "service_types") -> list[ServiceType]:
    if not isinstance(codes, list | tuple) or not codes:
        raise _bad(field, _("请至少选择一项服务。"))
    found = {t.code: t for t in ServiceType.objects.filter(code__in=[str(c) for c in codes], active=True)}
    missing = [str(c) for c in codes if str(c) not in found]
    if missing:
        raise _bad(field, _("没有这些服务类别：%(c)s。") % {"c": "、".join(missing)})
    return list(found.values())


def _villages(codes: Any, actor: User) -> list[Region]:
    if not isinstance(codes, list | tuple) or not codes:
        raise _bad("villages", _("请至少选择一个服务村（居）。"))
    rows = {r.code: r for r in Region.objects.filter(code__in=[str(c) for c in codes])}
    bad = [str(c) for c in codes if str(c) not in rows or not rows[str(c)].is_village_level]
    if bad:
        raise _bad("villages", _("这些不是村（居）的区划代码：%(c)s。") % {"c": "、".join(bad)})
    return list(rows.values())


def _count(value: Any, field: str) -> int:
    try:
        n = int(value if value not in (None, "") else 0)
    except (TypeError, ValueError):
        raise _bad(field, _("请填写不小于 0 的整数。")) from None
    if n < 0:
        raise _bad(field, _("请填写不小于 0 的整数。"))
    return n


# --- providers (R8.1) ------------------------------------------------------------------------------


@transaction.atomic
def provider_register(*, actor: User, data: dict[str, Any]) -> Provider:
    """The county office registers a provider (pending until approved): an existing organisation
    (`organisation`: id) or a new one (`name`, based in `region`, default the county)."""
    if not can(actor, "service.manage") or not can(actor, "service.approve"):
        raise _bad("detail", _("只有县民政局登记服务机构。"))
    category = _choice(data.get("category"), ProviderCategory, "category")
    org_id, name = data.get("organisation"), str(data.get("name") or "").strip()
    if org_id:
        org = Organisation.objects.filter(pk=org_id if str(org_id).isdigit() else 0).first()
        if org is None:
            raise _bad("organisation", _("没有这个单位。"))
        if Provider.objects.filter(pk=org.pk).exists():
            raise _bad("organisation", _("该单位已登记为服务机构。"))
    elif name:
        if Organisation.objects.filter(name=name).exists():
            raise _bad("name", _("已有同名单位，请选择该单位。"))
        region = Region.objects.filter(code=str(data.get("region") or "")).first()
        if region is None:
            raise _bad("region", _("请填写机构所在区划的代码。"))
        if not can(actor, "service.manage", region.code):
            raise _bad("region", _("该区划不在您的辖区内。"))
        kind = ORG_KIND_OF.get(ProviderCategory(category), OrganisationKind.OTHER)
        org = Organisation.objects.create(
            name=name, kind=kind, region=region, phone=str(data.get("phone") or "")
        )
    else:
        raise _bad("name", _("请填写机构名称或选择已有单位。"))
    types, villages = _types(data.get("service_types")), _villages(data.get("villages"), actor)
    provider = Provider.objects.create(
        organisation=org,
        category=category,
        capacity=_count(data.get("capacity"), "capacity"),
        hotline=str(data.get("hotline") or "")[:20],
        contact=str(data.get("contact") or "")[:50],
        registered_by=actor,
    )
    provider.service_types.set(types)
    provider.villages.set(villages)
    record_event(
        verb="service.provider_registered",
        subject_type="services.provider",
        subject_id=str(provider.pk),
        actor=actor,
        region_code=org.region_id,
        summary=f"登记服务机构 {org.name}",
        after={
            "category": category,
            "villages": sorted(v.code for v in villages),
            "types": sorted(t.code for t in types),
        },
        visibility=ADMIN,
    )
    return provider


@transaction.atomic
def provider_decide(*, actor: User, provider: Provider, status: str, note: str = "") -> Provider:
    """The county office approves, refuses or suspends a provider; only approved ones are matched."""
    if not can(actor, "service.approve", provider):
        raise _bad("detail", _("您无权审核该服务机构。"))
    status = _choice(status, ProviderStatus, "status")
    if status == ProviderStatus.PENDING:
        raise _bad("status", _("请选择通过、不通过或暂停。"))
    if status != ProviderStatus.APPROVED and not note.strip():
        raise _bad("note", _("不通过或暂停须写明理由。"))
    before = provider.status
    provider.status, provider.decision_note = status, note[:300]
    provider.decided_at, provider.decided_by = timezone.now(), actor
    provider.save(update_fields=["status", "decision_note", "decided_at", "decided_by"])
    record_event(
        verb="service.provider_decided",
        subject_type="services.provider",
        subject_id=str(provider.pk),
        actor=actor,
        region_code=provider.organisation.region_id,
        summary=f"审核服务机构 {provider}：{provider.get_status_display()}",
        before={"status": before},
        after={"status": status, "note": note},
        visibility=ADMIN,
    )
    return provider


# --- programmes (R8.2) -----------------------------------------------------------------------------


@transaction.atomic
def programme_create(*, actor: User, provider: Provider, data: dict[str, Any]) -> Programme:
    """A provider (or the county office) sets up a programme in a village it serves."""
    if not can(actor, "service.manage", provider):
        raise _bad("detail", _("您无权为该服务机构登记项目。"))
    name = str(data.get("name") or "").strip()
    if not name:
        raise _bad("name", _("请填写项目名称。"))
    stype = _types([data.get("service_type")], "service_type")[0]
    village = provider.villages.filter(code=str(data.get("village") or "")).first()
    if village is None:
        raise _bad("village", _("请选择本机构服务的村（居）。"))
    times = data.get("key_times") or []
    if not isinstance(times, list) or any(t not in KeyTime.values for t in times):
        raise _bad("key_times", _("开展时段可选：%(all)s。") % {"all": "、".join(KeyTime.values)})
    venue_kind = _choice(data.get("venue_kind") or VenueKind.CHILDREN_HOME, VenueKind, "venue_kind")
    programme = Programme.objects.create(
        provider=provider,
        name=name[:100],
        service_type=stype,
        village=village,
        key_times=list(times),
        venue_kind=venue_kind,
        venue=str(data.get("venue") or "")[:100],
        schedule=str(data.get("schedule") or "")[:200],
        capacity=_count(data.get("capacity"), "capacity"),
    )
    record_event(
        verb="service.programme_created",
        subject_type="services.programme",
        subject_id=str(programme.pk),
        actor=actor,
        region_code=village.code,
        summary=f"登记服务项目 {programme}",
        after={"provider": provider.pk, "type": stype.code, "times": times},
        visibility=ADMIN,
    )
    return programme


@transaction.atomic
def enrol(*, actor: User, programme: Programme, child_id: Any) -> Enrolment:
    """A child joins a programme: one the user may reach for it (selectors.enrolment_candidates)."""
    if not can(actor, "service.manage", programme) and not can(actor, "service.need", programme):
        raise _bad("detail", _("您无权为该项目登记参加儿童。"))
    child = selectors.enrolment_candidates(actor, programme).filter(pk=_uuid(child_id)).first()
    if child is None:
        raise _bad("child", _("该儿童不在本项目可服务的儿童之中。"))
    if programme.capacity and programme.enrolments.filter(until__isnull=True).count() >= programme.capacity:
        raise _bad("child", _("项目名额已满（%(n)s 人）。") % {"n": programme.capacity})
    row, created = Enrolment.objects.get_or_create(
        programme=programme, child=child, defaults={"created_by": actor}
    )
    if created:
        record_event(
            verb="service.enrolled",
            subject_type="services.programme",
            subject_id=str(programme.pk),
            actor=actor,
            child_id=str(child.pk),
            region_code=child.village_id,
            summary=f"参加服务项目 {programme.name}",
            visibility=CARE,
        )
    return row


def _uuid(value: Any) -> Any:
    import uuid

    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


# --- needs (R8.3) ----------------------------------------------------------------------------------


@transaction.atomic
def need_record(*, actor: User, child: Child, data: dict[str, Any]) -> Need:
    """A need for a service, recorded with one tap during a visit or from an assessment, the school or
    the parent's request: structured (type, urgency, source), opened in the workflow's first state."""
    if not can(actor, "service.need", child):
        raise _bad("detail", _("您无权为该儿童登记服务需求。"))
    stype = _types([data.get("type")], "type")[0]
    source = _choice(data.get("source") or NeedSource.VISIT, NeedSource, "source")
    urgency = _choice(data.get("urgency") or Urgency.NORMAL, Urgency, "urgency")
    visit_id = data.get("visit")
    if visit_id:
        from shouhu.care.models import Visit

        visit = Visit.objects.filter(pk=visit_id if str(visit_id).isdigit() else 0, child=child).first()
        if visit is None:
            raise _bad("visit", _("该儿童没有这次走访记录。"))
    duplicate = Need.objects.filter(child=child, type=stype, state__in=NEED_WORKFLOW.open_states).exists()
    if duplicate:
        raise _bad("type", _("该儿童已有一项尚未办结的“%(t)s”需求。") % {"t": stype.name_zh})
    now = timezone.now()
    need = Need.objects.create(
        child=child,
        type=stype,
        source=source,
        urgency=urgency,
        visit_id=int(visit_id) if visit_id else None,
        note=str(data.get("note") or "")[:500],
        created_by=actor,
        created_at=now,
        state_at=now,
    )
    NeedStep.objects.create(need=need, to_state=NeedState.OPEN, at=now, actor=actor, note=need.note)
    record_event(
        verb="service.need_recorded",
        subject_type="services.need",
        subject_id=str(need.pk),
        actor=actor,
        child_id=str(child.pk),
        region_code=child.village_id,
        summary=f"登记服务需求：{stype.name_zh}（{need.get_source_display()}）",
        after={"type": stype.code, "source": source, "urgency": urgency},
        visibility=CARE,
        occurred_at=now,
    )
    return need


def may_step(user: User, need: Need, capabilities: tuple[str, ...]) -> bool:
    return any(can(user, c, need) for c in capabilities)


@transaction.atomic
def need_transition(
    *, actor: User, need: Need, to: str, note: str = "", provider: Any = None, programme: Any = None
) -> Need:
    """Move a need one step of the workflow table (workflow.py): offered to a matching provider,
    accepted (optionally into one of its programmes), delivered, closed, or ended unmet."""
    need = (
        Need.objects.select_for_update(of=("self",))
        .select_related("child", "type", "provider")
        .get(pk=need.pk)
    )
    step = NEED_WORKFLOW.check(
        need.state, str(to or ""), may=lambda caps: may_step(actor, need, caps), note=note
    )
    target_provider = need.provider
    if step.target == NeedState.OFFERED:
        target_provider = _matching_provider(need, provider)
    if step.target == NeedState.OPEN:
        target_provider = None
    chosen = None
    if step.target == NeedState.ACCEPTED and programme:
        chosen = Programme.objects.filter(
            pk=programme if str(programme).isdigit() else 0, provider=need.provider, active=True
        ).first()
        if chosen is None:
            raise WorkflowError("programme", _("请选择本机构进行中的服务项目。"))
    before_state: str = need.state
    before = {"state": before_state, "provider": need.provider_id}
    now = timezone.now()
    need.state, need.state_at, need.provider = step.target, now, target_provider
    if chosen is not None:
        need.programme = chosen
    need.version += 1
    need.save(update_fields=["state", "state_at", "provider", "programme", "version"])
    NeedStep.objects.create(
        need=need,
        from_state=before_state,
        to_state=step.target,
        at=now,
        actor=actor,
        note=note[:500],
        provider=target_provider,
    )
    if chosen is not None:
        Enrolment.objects.get_or_create(programme=chosen, child=need.child, defaults={"created_by": actor})
    record_event(
        verb=f"service.need_{step.target}",
        subject_type="services.need",
        subject_id=str(need.pk),
        actor=actor,
        child_id=str(need.child_id),
        region_code=need.child.village_id,
        summary=f"服务需求 {need.type.name_zh}：{step.label}"
        + (f"（{target_provider}）" if target_provider and step.target == NeedState.OFFERED else ""),
        before=before,
        after={"state": step.target, "provider": need.provider_id, "note": note},
        visibility=CARE,
        occurred_at=now,
    )
    return need


def _matching_provider(need: Need, provider: Any) -> Provider:
    if provider in (None, ""):
        raise WorkflowError("provider", _("请选择服务机构。"))
    matches = {m.provider_id: m for m in selectors.matches_for(need)}
    pid = int(provider) if str(provider).isdigit() else -1
    if pid not in matches:
        names = "、".join(m.name for m in matches.values()) or _("暂无（请联系县民政局登记服务机构）")
        raise WorkflowError(
            "provider",
            _("该机构不能承接这项需求（须已审核、服务本村、提供该项服务且尚有名额）。可选：%(n)s。")
            % {"n": names},
        )
    return Provider.objects.get(pk=pid)
