"""Children pages: list and search, the file (一人一档), registration and editing, carer/guardian and
grandparents. Thin: parse, call a selector or a service, render (DESIGN principle 2)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from shouhu.core import codes
from shouhu.core.access import access_of, can, require, restrict
from shouhu.core.accesslog import record_read
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.jurisdiction import acting_user, client_ip, scoped
from shouhu.protection.models import Case
from shouhu.registry import rules, selectors, services
from shouhu.registry.duplicates import charge_identifier_search
from shouhu.registry.fields import full_id_numbers, full_phones, groups_for, groups_of
from shouhu.registry.models import (
    Child,
    Guardian,
    LeftBehindType,
)
from shouhu.web.forms import (
    GRANDPARENT_ROWS,
    ChildForm,
    ChildSearchForm,
    GrandparentForm,
    GuardianForm,
    ParentForm,
)
from shouhu.web.timeline import PARENT_RELATIONS, _label, timeline_entries

PAGE_SIZE = 25
YES_NO = {"yes": True, "no": False}
KEY_TARGET_REASONS = {
    "hardship": gettext_lazy("生活困难"),
    "disabled": gettext_lazy("残疾"),
    "girl": gettext_lazy("留守女童"),
    "unattended": gettext_lazy("无人监护"),
}


def duplicate_error(exc: services.DuplicateChild, request: HttpRequest) -> Any:
    """The duplicate message, with a link only when the existing file is in the user's scope (R11.1)."""
    message, existing = exc.explain(request.user, ip=client_ip(request))
    if existing is None:
        return message
    return format_html(
        '{} <a href="{}">{}</a>', message, reverse("web:child_detail", args=[existing.pk]), _("查看已有档案")
    )


def _editable_child(request: HttpRequest, pk: Any) -> Child:
    """404 when out of scope or unknown; 403 when the user may see the file but not change it. The form
    that follows is a read of the file: recorded (R11.2)."""
    child = selectors.get_child(request.user, pk)
    require(request.user, "child.edit", child, _("您可以查看该档案，但无权修改。"))
    if request.method == "GET":
        record_read(
            user=acting_user(request),
            action="form",
            child_id=child.pk,
            region_code=child.village_id,
            detail=(request.resolver_match.url_name or "") if request.resolver_match else "",
            ip=client_ip(request),
        )
    return child


def masked_or_kept(value: Any, current: Any, mask: Any) -> Any:
    """An identifier field of an edit form shows the mask (R11.3: masked by default); sent back
    unchanged, the number on file is kept."""
    if current and value and value == mask(current):
        return current
    return value


# --- list ------------------------------------------------------------------------------------------


def _filters(form: ChildSearchForm) -> selectors.ChildFilters:
    form.is_valid()  # invalid filters (e.g. a region out of scope) are simply left out
    data = form.cleaned_data
    return selectors.ChildFilters(
        q=(data.get("q") or "").strip(),
        region=data.get("region") or "",
        left_behind=YES_NO.get(data.get("left_behind") or ""),
        key_target=YES_NO.get(data.get("key_target") or ""),
        rating=data.get("rating") or "",
        schooling=data.get("schooling") or "",
        age_band=data.get("age_band") or "",
    )


def child_row(child: Child, groups: frozenset[str], today: date) -> dict[str, Any]:
    """One line of the list: identity always; the rest only where the reader's groups show it."""
    return {
        "child": child,
        "groups": groups,
        "age": rules.full_years(child.birth_date, today),
        "id_display": mask_id_number(child.id_number),  # masked on lists; revealed on the file
        "lb_type": LeftBehindType(child.lb_type).label if child.lb_type else "",
    }


@scoped("child.view")
@login_required
def child_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    today = timezone.localdate()
    form = ChildSearchForm(request.GET or None, regions=selectors.regions_for_filter(user))
    for name in list(selectors.FILTER_GROUPS):
        if name in form.fields and not selectors.filterable(user, name):
            del form.fields[name]  # a filter on a group the reader never sees
    filters = _filters(form) if request.GET else selectors.ChildFilters()
    refusal = None
    if filters.q and selectors.identifier_query(filters.q):
        refusal = charge_identifier_search(user, filters.q, ip=client_ip(request))
    qs = selectors.search_children(user, filters, today=today) if refusal is None else Child.objects.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    children = list(page.object_list)
    groups = groups_for(user, children)
    record_read(
        user=user,
        action="search" if filters.q else "list",
        count=len(children),
        query=request.GET,
        ip=client_ip(request),
    )
    context = {
        "form": form,
        "page": page,
        "rows": [child_row(c, groups[c.pk], today) for c in children],
        "querystring": query.urlencode(),
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
        "refusal": refusal,
        "can_create": can(user, "child.create"),
    }
    # Only htmx's swap of #results gets the partial; a history restore (back button, cache miss) gets the page.
    htmx = getattr(request, "htmx", None)
    partial = (
        htmx is not None and bool(htmx) and htmx.target == "results" and not htmx.history_restore_request
    )
    template = "web/children/_results.html" if partial else "web/children/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- the file --------------------------------------------------------------------------------------


def _person_display(p: Any, ids: bool, phones: bool) -> None:
    """The masks a page shows for a parent's or guardian's numbers (R11.3: masked by default; the
    reader who may see them reveals one at a time, logged)."""
    p.id_display = mask_id_number(p.id_number)
    p.phone_display = mask_phone(p.phone or None)
    p.reveal_id = ids and bool(p.id_number)
    p.reveal_phone = phones and bool(p.phone)


@scoped("child.view", obj="child")
@login_required
@never_cache
def child_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    user = acting_user(request)
    child = selectors.get_child(user, pk)
    groups = groups_of(user, child)
    record_read(
        user=user, action="view", child_id=child.pk, region_code=child.village_id, ip=client_ip(request)
    )
    today = timezone.localdate()
    ids, phones = full_id_numbers(groups), full_phones(groups)
    parents_list = list(child.parents.all())
    parents = {p.relation: p for p in parents_list}
    for p in parents_list:
        _person_display(p, ids and "family" in groups, phones)
    guardians = {g.role: g for g in child.guardians.all()}
    for g in guardians.values():
        _person_display(g, ids and "family" in groups, phones)
        g.relationship_label = codes.label("relationship", g.relationship)
    eligibility = None
    entrusted = guardians.get("entrusted")
    if entrusted is not None:
        eligibility = rules.guardian_eligibility(
            rules.GuardianFacts(
                birth_date=entrusted.birth_date,
                full_civil_capacity=entrusted.full_civil_capacity,
                no_violence_history=entrusted.no_violence_history,
                no_addiction=entrusted.no_addiction,
                no_prior_neglect=entrusted.no_prior_neglect,
            ),
            today,
        )
    grandparents = {(g.side, g.relation): g for g in child.grandparents.all()}
    suggested = rules.suggest_distress_categories(services.facts_of(child, parents_list), today)
    context = {
        "child": child,
        "groups": groups,
        "can_edit": can(user, "child.edit", child),
        "can_record_care": can(user, "care.record", child),
        "can_log_contact": can(user, "care.contact", child) or can(user, "care.record", child),
        "can_report": can(user, "report.create"),
        "age": rules.full_years(child.birth_date, today),
        "id_display": mask_id_number(child.id_number),
        "reveal_id": ids and bool(child.id_number),
        "contact_phone_display": mask_phone(child.village_contact_phone or None),
        "reveal_contact_phone": phones and bool(child.village_contact_phone),
        "parent_rows": [(rel, label, parents.get(rel)) for rel, label in PARENT_RELATIONS],
        "carer": guardians.get("carer"),
        "entrusted": entrusted,
        "eligibility": eligibility,
        "agreements": list(child.agreements.select_related("guardian")) if "family" in groups else [],
        # Only the cases this user may open, whatever the file (R11.1).
        "cases": list(
            restrict(Case.objects.filter(child=child), user, "case.view").order_by("-opened_at")[:10]
        ),
        "grandparent_rows": [(label, grandparents.get((side, rel))) for side, rel, label in GRANDPARENT_ROWS],
        "ethnicity": codes.label("ethnicity", child.ethnicity),
        "income_sources": [codes.label("income_source", c) for c in child.income_sources or []],
        "assistance": [codes.label("assistance", c) for c in child.assistance or []],
        "distress": [codes.label("distress_category", c) for c in child.distress_categories or []],
        "distress_suggested": [
            codes.label("distress_category", c)
            for c in suggested
            if c not in (child.distress_categories or [])
        ],
        "disability_type": codes.label("disability_type", child.disability_type)
        if child.disability_type
        else "",
        "disability_grade": codes.label("disability_grade", child.disability_grade)
        if child.disability_grade
        else "",
        "lb_type": LeftBehindType(child.lb_type).label if child.lb_type else "",
        "key_reasons": [KEY_TARGET_REASONS.get(r, r) for r in child.key_target_reasons or []],
        "periods": [
            {"period": p, "type": LeftBehindType(p.type).label if p.type else ""}
            for p in child.status_periods.order_by("-start")
        ]
        if "care" in groups
        else [],
        "timeline": timeline_entries(user, child, groups),
    }
    if context["can_edit"]:
        from shouhu.web.views_lifecycle import lifecycle_context

        context.update(lifecycle_context(user, child))
    return render(request, "web/children/detail.html", context)


# --- register and edit -----------------------------------------------------------------------------


def apply_service_errors(exc: ValidationError, form: Any, parent_forms: dict[str, Any]) -> None:
    """Map a service's {field: [messages]} onto the form fields; unknown keys become non-field errors."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, msgs in exc.message_dict.items():
        target, field = form, None
        if key.startswith("parents."):
            parts = key.split(".")
            sub = parent_forms.get(parts[1]) if len(parts) == 3 else None
            if sub is not None and parts[2] in sub.fields:
                target, field = sub, parts[2]
        elif key in form.fields:
            field = key
        for message in msgs:
            if field is None and target is form and key not in ("__all__", "parents"):
                message = f"{_label(key)}：{message}"
            target.add_error(field, message)


def _child_initial(child: Child, show_ids: bool) -> dict[str, Any]:
    initial = {f: getattr(child, f) for f in services.CHILD_FIELDS}
    initial.update(village=child.village_id, version=child.version, school=child.school_id or "")
    if show_ids:  # masked: sent back unchanged, the number on file is kept (`masked_or_kept`)
        initial.update(
            id_number=mask_id_number(child.id_number) or "",
            village_contact_phone=mask_phone(child.village_contact_phone or None) or "",
        )
    return initial


def _parent_initial(child: Child, show_ids: bool) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in child.parents.all():
        data = {f: getattr(p, f) for f in services.PARENT_FIELDS}
        if show_ids:
            data.update(id_number=mask_id_number(p.id_number) or "", phone=mask_phone(p.phone or None) or "")
        out[p.relation] = data
    return out


def _forms(
    request: HttpRequest,
    *,
    child: Child | None = None,
    show_ids: bool = True,
    bound: bool = True,
) -> tuple[ChildForm, dict[str, ParentForm]]:
    data = request.POST if bound and request.method == "POST" else None
    initial = _child_initial(child, show_ids) if child is not None else {}
    parent_initial = _parent_initial(child, show_ids) if child is not None else {}
    prefixes = access_of(request.user).prefixes("child.edit" if child is not None else "child.create")
    form = ChildForm(
        data, initial=initial, prefixes=prefixes, editing=child is not None, show_identifiers=show_ids
    )
    parent_forms = {
        rel: ParentForm(data, prefix=rel, initial=parent_initial.get(rel, {}), show_identifiers=show_ids)
        for rel, _label_ in PARENT_RELATIONS
    }
    return form, parent_forms


def _service_data(
    form: ChildForm, parent_forms: dict[str, ParentForm], child: Child | None
) -> dict[str, Any]:
    data = form.to_data()
    if child is not None and "id_number" in form.fields:
        data["id_number"] = masked_or_kept(data.get("id_number"), child.id_number, mask_id_number)
        data["village_contact_phone"] = masked_or_kept(
            data.get("village_contact_phone"), child.village_contact_phone, mask_phone
        )
    existing = {p.relation: p for p in child.parents.all()} if child is not None else {}
    parents = []
    for rel, pf in parent_forms.items():
        p = dict(pf.cleaned_data, relation=rel)
        old = existing.get(rel)
        if "id_number" not in pf.fields:  # identifiers hidden from this user: keep what is on file
            p.update(id_number=old.id_number if old else None, phone=old.phone if old else "")
        elif old is not None:
            p["id_number"] = masked_or_kept(p.get("id_number"), old.id_number, mask_id_number)
            p["phone"] = masked_or_kept(p.get("phone"), old.phone, mask_phone)
        parents.append(p)
    data["parents"] = parents
    return data


def _form_context(
    form: ChildForm, parent_forms: dict[str, ParentForm], child: Child | None
) -> dict[str, Any]:
    return {
        "form": form,
        "parent_forms": [(label, parent_forms[rel]) for rel, label in PARENT_RELATIONS],
        "child": child,
    }


@scoped("child.create")
@login_required
@never_cache
def child_create(request: HttpRequest) -> HttpResponse:
    form, parent_forms = _forms(request)
    if request.method == "POST":
        valid = form.is_valid() & all([pf.is_valid() for pf in parent_forms.values()])
        if valid:
            try:
                child = services.child_create(
                    actor=acting_user(request), data=_service_data(form, parent_forms, None)
                )
            except services.DuplicateChild as exc:
                form.add_error(None, duplicate_error(exc, request))
            except ValidationError as exc:
                apply_service_errors(exc, form, parent_forms)
            else:
                messages.success(request, _("已建立 %(name)s 的档案。") % {"name": child.name})
                return redirect("web:child_detail", pk=child.pk)
    return render(request, "web/children/form.html", _form_context(form, parent_forms, None))


@scoped("child.edit", obj="child")
@login_required
@never_cache
def child_edit(request: HttpRequest, pk: Any) -> HttpResponse:
    child = _editable_child(request, pk)
    show_ids = full_id_numbers(groups_of(request.user, child))
    form, parent_forms = _forms(request, child=child, show_ids=show_ids)
    if request.method == "POST":
        valid = form.is_valid() & all([pf.is_valid() for pf in parent_forms.values()])
        if valid:
            version = form.cleaned_data.get("version")
            try:
                services.child_update(
                    actor=acting_user(request),
                    child_id=child.pk,
                    data=_service_data(form, parent_forms, child),
                    version=version if version is not None else -1,
                    effective=form.cleaned_data.get("effective"),
                )
            except services.OutOfScope as exc:
                raise Http404("not found") from exc
            except services.StaleVersion as exc:
                messages.error(request, str(exc))
                child = selectors.get_child(request.user, child.pk)
                form, parent_forms = _forms(request, child=child, show_ids=show_ids, bound=False)
            except services.DuplicateChild as exc:
                form.add_error(None, duplicate_error(exc, request))
            except ValidationError as exc:
                apply_service_errors(exc, form, parent_forms)
            else:
                messages.success(request, _("档案已保存。"))
                return redirect("web:child_detail", pk=child.pk)
    return render(request, "web/children/form.html", _form_context(form, parent_forms, child))


# --- carer / entrusted guardian, grandparents ------------------------------------------------------


@scoped("child.edit", obj="child")
@login_required
@never_cache
def guardian_edit(request: HttpRequest, pk: Any, role: str) -> HttpResponse:
    if role not in Guardian.Role.values:
        raise Http404("not found")
    child = _editable_child(request, pk)
    show_ids = full_id_numbers(groups_of(request.user, child))
    current = child.guardians.filter(role=role).first()
    form = GuardianForm(
        request.POST or None, initial=GuardianForm.initial_from(current, show_identifiers=show_ids)
    )
    if not show_ids:
        del form.fields["id_number"]
        del form.fields["phone"]
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not show_ids:
            data.update(
                id_number=current.id_number if current else "", phone=current.phone if current else ""
            )
        elif current is not None:
            data["id_number"] = masked_or_kept(data.get("id_number"), current.id_number, mask_id_number)
            data["phone"] = masked_or_kept(data.get("phone"), current.phone, mask_phone)
        try:
            services.guardian_set(actor=acting_user(request), child=child, role=role, data=data)
        except ValidationError as exc:
            apply_service_errors(exc, form, {})
        else:
            messages.success(request, _("已保存%(role)s信息。") % {"role": Guardian.Role(role).label})
            return redirect("web:child_detail", pk=child.pk)
    return render(
        request,
        "web/children/guardian_form.html",
        {"form": form, "child": child, "role_label": Guardian.Role(role).label, "role": role},
    )


@scoped("child.edit", obj="child")
@login_required
@never_cache
def grandparents_edit(request: HttpRequest, pk: Any) -> HttpResponse:
    child = _editable_child(request, pk)
    existing = {(g.side, g.relation): g for g in child.grandparents.all()}
    data = request.POST if request.method == "POST" else None
    rows = []
    for side, relation, label in GRANDPARENT_ROWS:
        g = existing.get((side, relation))
        initial = {"name": g.name, "birth_date": g.birth_date, "deceased": g.deceased} if g else {}
        rows.append(
            (side, relation, label, GrandparentForm(data, prefix=f"{side}_{relation}", initial=initial))
        )
    if data is not None and all([f.is_valid() for *_rest, f in rows]):
        services.grandparents_set(
            actor=acting_user(request),
            child=child,
            rows=[
                {"side": side, "relation": relation, **f.cleaned_data} for side, relation, _label_, f in rows
            ],
        )
        messages.success(request, _("已保存祖辈信息。"))
        return redirect("web:child_detail", pk=child.pk)
    return render(
        request,
        "web/children/grandparents_form.html",
        {"child": child, "rows": [(label, f) for *_rest, label, f in rows]},
    )
