"""Police find a child to start a case (R11.1, issue 9 part 2): by the full ID number or the exact name
in the station's area, without browsing the township's files.

Each look-up is an identifier look-up: logged with what was asked and how many matched, and counted
against `identifier_lookups_per_day`. A match shows only what starting a report needs (name, sex, age,
village); the file opens once the station holds a case about the child."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from shouhu.core.access import restrict
from shouhu.core.accesslog import lookups_left, record_lookup
from shouhu.core.crypto import blind_index
from shouhu.core.identity import IdentityError, normalize_id_number, validate_id_number
from shouhu.core.jurisdiction import acting_user, client_ip, scoped
from shouhu.registry import rules
from shouhu.registry.duplicates import SEARCH_KIND, search_budget_message
from shouhu.registry.models import Child
from shouhu.registry.validation import clean_name

MAX_MATCHES = 20


class LookupForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("身份证号码或儿童完整姓名"),
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )

    def clean_q(self) -> tuple[str, str]:
        text = (self.cleaned_data.get("q") or "").strip()
        number = normalize_id_number(text)
        if number[:1].isdigit():
            try:
                return "id", validate_id_number(number)
            except IdentityError as exc:
                raise forms.ValidationError(exc.message) from exc
        name = clean_name(text)
        if len(name) < 2:
            raise forms.ValidationError(_("请填写儿童的完整姓名（至少两个字），或18位身份证号码。"))
        return "name", name


@scoped("child.lookup")
@login_required
@never_cache
def child_lookup(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = LookupForm(request.GET or None)
    matches: list[dict[str, Any]] | None = None
    refusal = None
    if request.GET and form.is_valid():
        kind, value = form.cleaned_data["q"]
        if lookups_left(user, SEARCH_KIND) <= 0:
            refusal = search_budget_message()
        else:
            qs = restrict(Child.objects.select_related("village__parent"), user, "child.lookup")
            qs = (
                qs.filter(id_number_index=blind_index("id", value)) if kind == "id" else qs.filter(name=value)
            )
            found = list(qs.order_by("village_id", "birth_date")[: MAX_MATCHES + 1])
            record_lookup(
                user=user,
                kind=SEARCH_KIND,
                count=len(found),
                query=value,
                child_id=found[0].pk if len(found) == 1 else "",
                ip=client_ip(request),
            )
            today = timezone.localdate()
            matches = [
                {"child": c, "age": rules.full_years(c.birth_date, today)} for c in found[:MAX_MATCHES]
            ]
    return render(
        request,
        "web/children/lookup.html",
        {
            "form": form,
            "matches": matches,
            "more": matches is not None and len(matches) >= MAX_MATCHES,
            "refusal": refusal,
            "left": lookups_left(user, SEARCH_KIND),
        },
    )
