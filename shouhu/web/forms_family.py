"""Forms for the agreement (R1.4) and the household plan (R1.5): type conversion only; the rules are
in shouhu.registry.family."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shouhu.core import codes
from shouhu.web.forms import choice_field

# ISO dates (issue 16): a date input rejects the localised 2026/12/02, so the field would show empty.
DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
TEXT = forms.TextInput(attrs={"class": "form-control"})


class AgreementForm(forms.Form):
    principals = forms.CharField(label=_("委托方（父母）姓名"), max_length=100, widget=TEXT)
    signed_on = forms.DateField(label=_("签订日期"), widget=DATE)
    valid_from = forms.DateField(label=_("生效日期"), widget=DATE)
    valid_to = forms.DateField(label=_("到期日期"), widget=DATE)
    responsibilities = forms.MultipleChoiceField(
        label=_("责任清单"), required=False, widget=forms.CheckboxSelectMultiple
    )
    negatives = forms.MultipleChoiceField(
        label=_("负面清单"), required=False, widget=forms.CheckboxSelectMultiple
    )
    notice_school_on = forms.DateField(
        label=_("书面告知学校日期"),
        required=False,
        widget=DATE,
        help_text=_("未成年人保护法第二十三条：及时告知学校、村（居）委会"),
    )
    notice_village_on = forms.DateField(label=_("书面告知村（居）委会日期"), required=False, widget=DATE)
    verified_on = forms.DateField(label=_("村（居）委会核实日期"), required=False, widget=DATE)
    verified_by = forms.CharField(label=_("核实人"), max_length=50, required=False, widget=TEXT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "responsibilities").choices = codes.choices("agreement_responsibility")
        choice_field(self, "negatives").choices = codes.choices("agreement_negative")


class HouseholdForm(forms.Form):
    head_name = forms.CharField(label=_("户主姓名"), max_length=50, widget=TEXT)
    address = forms.CharField(label=_("住址"), max_length=200, required=False, widget=TEXT)


class MemberForm(forms.Form):
    name = forms.CharField(label=_("成员姓名"), max_length=50, widget=TEXT)
    relationship = forms.ChoiceField(
        label=_("与户主关系"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "relationship").choices = [("", "—"), *codes.choices("relationship")]


class PlanItemForm(forms.Form):
    measure = forms.CharField(label=_("帮扶措施"), max_length=300, widget=TEXT)
    owner = forms.CharField(label=_("责任人/单位"), max_length=100, widget=TEXT)
    due_date = forms.DateField(label=_("完成时限"), required=False, widget=DATE)
