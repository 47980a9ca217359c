"""Children pages: list and search, the file (一人一档), registration and editing, carer/guardian and
grandparents. Thin: parse, call a selector or a service, render (DESIGN principle 2)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Field
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
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.jurisdiction import Scope, acting_user, scope_of, scoped
from shouhu.core.models import Region
from shouhu.protection import selectors as protection_selectors
from shouhu.registry import rules, selectors, services
from shouhu.registry.models import (
    CareArrangement,
    Child,
    Guardian,
    Health,
    LeftBehindType,
    Parent,
    Rating,
    Schooling,
    Sex,
)
from shouhu.web.forms import (
    GRANDPARENT_ROWS,
    ChildForm,
    ChildSearchForm,
    GrandparentForm,
    GuardianForm,
    ParentForm,
)

PAGE_SIZE = 25
YES_NO = {"yes": True, "no": False}
KEY_TARGET_REASONS = {
    "hardship": gettext_lazy("生活困难"),
    "disabled": gettext_lazy("残疾"),
    "girl": gettext_lazy("留守女童"),
    "unattended": gettext_lazy("无人监护"),
}
PARENT_RELATIONS = (("father", gettext_lazy("父亲")), ("mother", gettext_lazy("母亲")))


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def duplicate_error(exc: services.DuplicateChild, user: Any) -> Any:
    """The duplicate message, with a link only when the existing file is in the user's scope (R11.1)."""
    message, existing = exc.explain(user)
    if existing is None:
        return message
    return format_html(
        '{} <a href="{}">{}</a>', message, reverse("web:child_detail", args=[existing.pk]), _("查看已有档案")
    )


def _editable_child(request: HttpRequest, pk: Any) -> Child:
    """404 when out of scope or unknown; 403 when the user may see the file but not change it."""
    child = selectors.get_child(request.user, pk)
    if not scope_of(request.user).may_edit_in(child.village_id):
        raise PermissionDenied(_("您可以查看该档案，但无权修改。"))
    return child


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


def child_row(child: Child, scope: Scope, today: date) -> dict[str, Any]:
    return {
        "child": child,
        "age": rules.full_years(child.birth_date, today),
        "id_display": child.id_number
        if scope.sees_identifiers_in(child.village_id)
        else mask_id_number(child.id_number),
        "lb_type": LeftBehindType(child.lb_type).label if child.lb_type else "",
    }


@scoped
@login_required
def child_list(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    today = timezone.localdate()
    form = ChildSearchForm(request.GET or None, regions=selectors.regions_for_filter(scope))
    filters = _filters(form) if request.GET else selectors.ChildFilters()
    qs = selectors.search_children(request.user, filters, today=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [child_row(c, scope, today) for c in page.object_list],
        "querystring": query.urlencode(),
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
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

CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "sex": dict(Sex.choices),
    "health": dict(Health.choices),
    "schooling": dict(Schooling.choices),
    "care_arrangement": dict(CareArrangement.choices),
    "guardianship_rating": dict(Rating.choices),
    "type": dict(LeftBehindType.choices),
    "lb_type": dict(LeftBehindType.choices),
    "relation": dict(Parent.Relation.choices),
    "role": dict(Guardian.Role.choices),
}
CODE_FIELDS = {
    "ethnicity": "ethnicity",
    "income_sources": "income_source",
    "assistance": "assistance",
    "distress_categories": "distress_category",
    "work_province": "province",
    "disability_type": "disability_type",
    "disability_grade": "disability_grade",
    "incapacity_reason": "incapacity_reason",
    "relationship": "relationship",
}
EXTRA_LABELS = {
    "village": gettext_lazy("所在村（居）"),
    "parents": gettext_lazy("父母"),
    "left_behind": gettext_lazy("农村留守儿童"),
    "type": gettext_lazy("留守类型"),
    "since": gettext_lazy("开始日期"),
    "date": gettext_lazy("日期"),
    "reasons": gettext_lazy("依据"),
}


def _label(field: str) -> str:
    for model in (Child, Parent, Guardian):
        try:
            model_field = model._meta.get_field(field)
        except FieldDoesNotExist:
            continue
        # A reverse relation ("parents", "guardians") has no verbose_name: fall through to EXTRA_LABELS.
        if isinstance(model_field, Field):
            return str(model_field.verbose_name)
    return str(EXTRA_LABELS.get(field, field))


def _display(field: str, value: Any, villages: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field == "village":
        return villages.get(value, value)
    if field in CODE_FIELDS:
        values = value if isinstance(value, list) else [value]
        return "、".join(codes.label(CODE_FIELDS[field], str(v)) for v in values)
    if field in CHOICE_LABELS:
        return str(CHOICE_LABELS[field].get(value, value))
    if isinstance(value, list):
        return "；".join(str(v) for v in value)
    return str(value)


def _changes(before: Any, after: Any, villages: dict[str, str], prefix: str = "") -> list[dict[str, str]]:
    """The changed fields of an event, as readable before → after rows (identifiers already masked)."""
    if not isinstance(after, dict):
        return []
    before = before if isinstance(before, dict) else {}
    rows: list[dict[str, str]] = []
    for key, new in after.items():
        old = before.get(key)
        if key == "parents" and isinstance(new, list):
            old_by = {p.get("relation"): p for p in old or [] if isinstance(p, dict)}
            new_by = {p.get("relation"): p for p in new if isinstance(p, dict)}
            for relation, label in PARENT_RELATIONS:
                rows += _changes(old_by.get(relation), new_by.get(relation) or {}, villages, f"{label}·")
            continue
        if key == "relation" or old == new:
            continue
        rows.append(
            {
                "field": prefix + _label(key),
                "before": _display(key, old, villages),
                "after": _display(key, new, villages),
            }
        )
    return rows


def timeline_entries(child: Child) -> list[dict[str, Any]]:
    events = list(selectors.timeline(child))
    codes_seen = {
        str(v)
        for e in events
        for d in (e.before, e.after)
        if isinstance(d, dict)
        for k, v in d.items()
        if k == "village" and v
    }
    villages = (
        dict(Region.objects.filter(code__in=codes_seen).values_list("code", "name")) if codes_seen else {}
    )
    out = []
    for e in events:
        entry: dict[str, Any] = {"event": e, "changes": [], "reasons": [], "date": None}
        if e.verb in ("child.status_entered", "child.status_exited") and isinstance(e.after, dict):
            entry["date"] = e.after.get("date") or e.after.get("since")
            entry["reasons"] = e.after.get("reasons") or []
        elif e.verb not in ("child.created", "grandparents.set") and not e.verb.startswith(
            ("document.", "attachment.")  # their sealed facts (hashes, ids) are for verification, not reading
        ):
            entry["changes"] = _changes(e.before, e.after, villages)
        out.append(entry)
    return out


@scoped
@login_required
@never_cache
def child_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    child = selectors.get_child(request.user, pk)
    services.log_access(user=acting_user(request), action="view", child=child, ip=client_ip(request))
    scope = scope_of(request.user)
    today = timezone.localdate()
    show_ids = scope.sees_identifiers_in(child.village_id)
    parents_list = list(child.parents.all())
    parents = {p.relation: p for p in parents_list}
    for p in parents_list:
        p.id_display = p.id_number if show_ids else mask_id_number(p.id_number)
        p.phone_display = p.phone if show_ids else mask_phone(p.phone or None)
    guardians = {g.role: g for g in child.guardians.all()}
    for g in guardians.values():
        g.id_display = g.id_number if show_ids else mask_id_number(g.id_number)
        g.phone_display = g.phone if show_ids else mask_phone(g.phone or None)
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
        "can_edit": scope.may_edit_in(child.village_id),
        "age": rules.full_years(child.birth_date, today),
        "id_display": child.id_number if show_ids else mask_id_number(child.id_number),
        "contact_phone_display": (
            child.village_contact_phone if show_ids else mask_phone(child.village_contact_phone or None)
        ),
        "parent_rows": [(label, parents.get(rel)) for rel, label in PARENT_RELATIONS],
        "carer": guardians.get("carer"),
        "entrusted": entrusted,
        "eligibility": eligibility,
        "agreements": list(child.agreements.select_related("guardian")),
        # Only the cases this user's protection scope reaches (R11.1).
        "cases": list(
            protection_selectors.visible_cases(request.user).filter(child=child).order_by("-opened_at")[:10]
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
        ],
        "timeline": timeline_entries(child),
    }
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
    if show_ids:
        initial.update(
            id_number=child.id_number or "", village_contact_phone=child.village_contact_phone or ""
        )
    return initial


def _parent_initial(child: Child, show_ids: bool) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in child.parents.all():
        data = {f: getattr(p, f) for f in services.PARENT_FIELDS}
        if show_ids:
            data.update(id_number=p.id_number or "", phone=p.phone or "")
        out[p.relation] = data
    return out


def _forms(
    request: HttpRequest,
    scope: Scope,
    *,
    child: Child | None = None,
    show_ids: bool = True,
    bound: bool = True,
) -> tuple[ChildForm, dict[str, ParentForm]]:
    data = request.POST if bound and request.method == "POST" else None
    initial = _child_initial(child, show_ids) if child is not None else {}
    parent_initial = _parent_initial(child, show_ids) if child is not None else {}
    form = ChildForm(data, initial=initial, scope=scope, editing=child is not None, show_identifiers=show_ids)
    parent_forms = {
        rel: ParentForm(data, prefix=rel, initial=parent_initial.get(rel, {}), show_identifiers=show_ids)
        for rel, _label_ in PARENT_RELATIONS
    }
    return form, parent_forms


def _service_data(
    form: ChildForm, parent_forms: dict[str, ParentForm], child: Child | None
) -> dict[str, Any]:
    data = form.to_data()
    existing = {p.relation: p for p in child.parents.all()} if child is not None else {}
    parents = []
    for rel, pf in parent_forms.items():
        p = dict(pf.cleaned_data, relation=rel)
        if "id_number" not in pf.fields:  # identifiers hidden from this user: keep what is on file
            old = existing.get(rel)
            p.update(id_number=old.id_number if old else None, phone=old.phone if old else "")
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


@scoped
@login_required
@never_cache
def child_create(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if not scope.can_create_children:
        raise PermissionDenied(_("您的角色不能登记儿童。"))
    form, parent_forms = _forms(request, scope)
    if request.method == "POST":
        valid = form.is_valid() & all([pf.is_valid() for pf in parent_forms.values()])
        if valid:
            try:
                child = services.child_create(
                    actor=acting_user(request), data=_service_data(form, parent_forms, None)
                )
            except services.DuplicateChild as exc:
                form.add_error(None, duplicate_error(exc, request.user))
            except ValidationError as exc:
                apply_service_errors(exc, form, parent_forms)
            else:
                messages.success(request, _("已建立 %(name)s 的档案。") % {"name": child.name})
                return redirect("web:child_detail", pk=child.pk)
    return render(request, "web/children/form.html", _form_context(form, parent_forms, None))


@scoped
@login_required
@never_cache
def child_edit(request: HttpRequest, pk: Any) -> HttpResponse:
    child = _editable_child(request, pk)
    scope = scope_of(request.user)
    show_ids = scope.sees_identifiers_in(child.village_id)
    form, parent_forms = _forms(request, scope, child=child, show_ids=show_ids)
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
                form, parent_forms = _forms(request, scope, child=child, show_ids=show_ids, bound=False)
            except services.DuplicateChild as exc:
                form.add_error(None, duplicate_error(exc, request.user))
            except ValidationError as exc:
                apply_service_errors(exc, form, parent_forms)
            else:
                messages.success(request, _("档案已保存。"))
                return redirect("web:child_detail", pk=child.pk)
    return render(request, "web/children/form.html", _form_context(form, parent_forms, child))


# --- carer / entrusted guardian, grandparents ------------------------------------------------------


@scoped
@login_required
@never_cache
def guardian_edit(request: HttpRequest, pk: Any, role: str) -> HttpResponse:
    if role not in Guardian.Role.values:
        raise Http404("not found")
    child = _editable_child(request, pk)
    show_ids = scope_of(request.user).sees_identifiers_in(child.village_id)
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


@scoped
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
