"""Forms of the care pages: types only; the services validate (DESIGN principle 2)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.care.models import Admonition, CareAssignment, GuidanceSession, ParentContact, Visit
from shouhu.registry.models import Rating

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
D = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class FieldForm(forms.Form):
    """A form for the phone (issue 16): Bootstrap classes on every widget, so text areas fit a 360 px
    screen and selects and inputs are 44 px touch targets (app.css); a field with an error says so to
    screen readers; and an idempotency key the browser replaces with its own (offline.js), so that a
    post sent twice makes one record."""

    client_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client_key"].initial = uuid.uuid4
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def add_error(self, field: str | None, error: Any) -> None:
        if field in self.fields and self.fields[field].widget.is_hidden:
            field = None  # nothing to point at: the summary shows it above the form
        super().add_error(field, error)
        if field in self.fields:
            attrs = self.fields[field].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["class"] = attrs.get("class", "") + " is-invalid"


class ContactForm(FieldForm):
    parent = forms.ChoiceField(
        label=_("父/母"), choices=[("father", _("父亲")), ("mother", _("母亲"))], widget=forms.RadioSelect
    )
    channel = forms.ChoiceField(
        label=_("方式"), choices=ParentContact.Channel.choices, widget=forms.RadioSelect, initial="phone"
    )
    facilitated_by = forms.ChoiceField(
        label=_("协助方"),
        choices=ParentContact.Facilitator.choices,
        widget=forms.RadioSelect,
        initial="village",
    )
    occurred_at = forms.DateTimeField(
        label=_("联系时间"), widget=DT, initial=_now, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=200)


class VisitForm(FieldForm):
    # The file's version when the form was shown: a visit that would change a file that changed
    # meanwhile is not saved silently (services.FileChanged).
    base_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    occurred_at = forms.DateTimeField(
        label=_("走访时间"), widget=DT, initial=_now, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    kind = forms.ChoiceField(label=_("类型"), choices=Visit.Kind.choices, initial="routine")
    visitor_role = forms.ChoiceField(label=_("走访人身份"), choices=Visit.VisitorRole.choices)
    visitor_name = forms.CharField(label=_("走访人"), required=False, max_length=50)
    living_alone = forms.BooleanField(label=_("发现儿童单独居住或无人监护"), required=False)
    safety_hazards = forms.CharField(
        label=_("安全隐患"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    living_conditions = forms.CharField(
        label=_("生活状况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    study = forms.CharField(label=_("学习情况"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    health = forms.CharField(label=_("身体健康"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    psychology = forms.CharField(
        label=_("心理状况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    guardian_performance = forms.CharField(
        label=_("监护人履责情况"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    needs = forms.CharField(label=_("发现的需求"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    guardianship_rating = forms.ChoiceField(
        label=_("本次监护情况评估"), required=False, choices=[("", _("不变")), *Rating.choices]
    )

    FINDINGS = (
        "safety_hazards",
        "living_conditions",
        "study",
        "health",
        "psychology",
        "guardian_performance",
        "needs",
    )

    def service_data(self) -> dict:
        cd = self.cleaned_data
        return {
            "occurred_at": cd["occurred_at"],
            "kind": cd["kind"],
            "visitor_role": cd["visitor_role"],
            "visitor_name": cd["visitor_name"],
            "guardianship_rating": cd["guardianship_rating"],
            "living_alone": cd["living_alone"],
            "findings": {k: cd[k] for k in self.FINDINGS if cd.get(k)},
            "client_key": cd.get("client_key"),
            "base_version": cd.get("base_version"),
        }


class AssignmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("方式"), choices=CareAssignment.Kind.choices)
    person_name = forms.CharField(label=_("姓名"), max_length=50)
    organisation = forms.CharField(label=_("单位"), required=False, max_length=100)
    starts_on = forms.DateField(label=_("开始日期"), widget=D, initial=timezone.localdate)


class AdmonitionForm(forms.Form):
    kind = forms.ChoiceField(label=_("措施"), choices=Admonition.Kind.choices)
    by_body = forms.ChoiceField(label=_("实施单位"), choices=Admonition.Body.choices)
    guardian_name = forms.CharField(label=_("被劝诫人"), max_length=50)
    reason = forms.CharField(label=_("事由"), max_length=300)
    serious = forms.BooleanField(label=_("情节严重"), required=False)
    occurred_at = forms.DateTimeField(
        label=_("时间"), widget=DT, initial=_now, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )


class SessionForm(forms.Form):
    village = forms.ChoiceField(label=_("村（居）"))
    kind = forms.ChoiceField(label=_("类型"), choices=GuidanceSession.Kind.choices)
    held_on = forms.DateField(label=_("日期"), widget=D, initial=timezone.localdate)
    topic = forms.CharField(label=_("主题"), max_length=200)
    held_by = forms.CharField(label=_("主讲/组织"), max_length=100)
    attendance = forms.IntegerField(label=_("参加人数"), min_value=0, initial=0)

    def __init__(self, *args: Any, villages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        village = self.fields["village"]
        assert isinstance(village, forms.ChoiceField)  # declared above
        village.choices = villages


class ResolveForm(forms.Form):
    note = forms.CharField(label=_("处理情况"), max_length=300)
