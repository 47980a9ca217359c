"""One tap reveals one identifier (R11.3, issue 9 part 4): pages show ID numbers and phones masked, a
reader who may see one in full reveals it, and every reveal is an access record (`reveal`).

Works with htmx (the masked value is swapped for the number in place) and without JavaScript (a small
page shows the number with a link back to the file)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.core.accesslog import record_read
from shouhu.core.jurisdiction import acting_user, client_ip, scoped
from shouhu.registry import selectors
from shouhu.registry.fields import full_id_numbers, full_phones, groups_of
from shouhu.registry.models import Child

PEOPLE = ("father", "mother", "carer", "entrusted")


def _allowed(field: str, groups: frozenset[str]) -> bool:
    who, _dot, what = field.rpartition(".")
    if what == "id_number":
        return full_id_numbers(groups) and (not who or "family" in groups)
    if what == "phone":
        return full_phones(groups) and ("family" in groups or "contacts" in groups)
    if field == "village_contact_phone":
        return full_phones(groups) and "contacts" in groups
    return False


def _value(child: Child, field: str) -> str | None:
    if field in ("id_number", "village_contact_phone"):
        return getattr(child, field) or None
    who, _dot, what = field.partition(".")
    if who not in PEOPLE or what not in ("id_number", "phone"):
        return None
    person: Any = (
        child.parents.filter(relation=who).first()
        if who in ("father", "mother")
        else child.guardians.filter(role=who).first()
    )
    return (getattr(person, what) or None) if person is not None else None


@scoped("child.view", obj="child")
@login_required
@require_POST
@never_cache
def child_reveal(request: HttpRequest, pk: Any) -> HttpResponse:
    user = acting_user(request)
    child = selectors.get_child(user, pk)  # 404 out of scope
    field = request.POST.get("field", "")
    valid = field in ("id_number", "village_contact_phone") or (
        field.partition(".")[0] in PEOPLE and field.partition(".")[2] in ("id_number", "phone")
    )
    if not valid:
        return HttpResponseBadRequest(_("请选择要查看的号码。"))
    if not _allowed(field, groups_of(user, child)):
        raise PermissionDenied(_("您的角色不能查看该完整号码。"))
    value = _value(child, field)
    if value is None:
        return HttpResponseBadRequest(_("该号码尚未登记。"))
    record_read(
        user=user,
        action="reveal",
        child_id=child.pk,
        region_code=child.village_id,
        identifiers=True,
        detail=field,
        ip=client_ip(request),
    )
    # Issue 16: a phone number, once shown, is one tap to call.
    tel = "".join(ch for ch in value if ch.isdigit() or ch == "+") if field.endswith("phone") else ""
    if getattr(request, "htmx", False):
        if tel:
            return HttpResponse(
                format_html('<a class="font-monospace revealed" href="tel:{}">{}</a>', tel, value)
            )
        return HttpResponse(format_html('<span class="font-monospace revealed">{}</span>', value))
    return render(
        request, "web/children/revealed.html", {"child": child, "value": value, "field": field, "tel": tel}
    )
