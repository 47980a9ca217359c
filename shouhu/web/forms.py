"""Web forms: they only convert types and lay fields out; validation lives in registry.validation and
the services (DESIGN principle 2). Service errors are mapped back onto these fields by the views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shouhu.core import codes
from shouhu.core.identity import mask_id_number, mask_phone
from shouhu.core.models import Organisation, OrganisationKind, Region
from shouhu.registry.models import CareArrangement, Grandparent, Health, Rating, Schooling, Sex

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

BLANK = [("", "—")]
YES_NO_UNKNOWN = [("", _("未核实")), ("yes", _("是")), ("no", _("否"))]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _code_choices(list_name: str, *, blank: bool = True) -> Any:
    """Lazy: code lists are data (read when the form is built, in the active language)."""

    def build() -> list[tuple[str, str]]:
        return (BLANK if blank else []) + codes.choices(list_name)

    return build


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's choice field `name`, typed as one, so its choices can be set when the form is built."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a ChoiceField")
    return field


def _yes_no_unknown(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def style(fields: Iterable[forms.BoundField] | dict[str, forms.Field]) -> None:
    """Bootstrap classes on widgets (no template tag library needed)."""
    items = fields.values() if isinstance(fields, dict) else fields
    for field in items:
        # A BoundField has no widget of its own: style the widget of the field it wraps.
        widget = field.field.widget if isinstance(field, forms.BoundField) else field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


class StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self.fields)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field in self.fields:
            attrs = self.fields[field].widget.attrs
            attrs["class"] = attrs.get("class", "") + " is-invalid"
            attrs["aria-invalid"] = "true"


def school_choices(prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """Schools and kindergartens in (or serving) the regions the user edits, and county-level ones."""
    q = Q(region__kind="county")
    for prefix in prefixes:
        q |= Q(region__pk__startswith=prefix[:9])
    schools = Organisation.objects.filter(
        q, kind__in=[OrganisationKind.SCHOOL, OrganisationKind.KINDERGARTEN]
    )
    return [(str(o.pk), o.name) for o in schools.order_by("region_id", "name")]


def village_choices(prefixes: tuple[str, ...]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Villages (grouped by township) where the user may create or edit files."""
    if not prefixes:
        return []
    q = Q(pk__in=[])
    for p in prefixes:
        q |= Q(code__startswith=p)
    groups: dict[str, list[tuple[str, str]]] = {}
    for v in (
        Region.objects.filter(q, kind__in=["village", "community"]).select_related("parent").order_by("code")
    ):
        groups.setdefault(v.parent.name if v.parent else "", []).append((v.code, v.name))
    return list(groups.items())


class ChildForm(StyledForm):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("性别"), choices=BLANK + list(Sex.choices), required=False)
    birth_date = forms.DateField(
        label=_("出生日期"),
        widget=DateInput(),
        required=False,
        help_text=_("按户口簿填写，格式 2015-06-01。"),
    )
    ethnicity = forms.ChoiceField(
        label=_("民族"), choices=_code_choices("ethnicity", blank=False), initial="01"
    )
    hukou_registered = forms.BooleanField(label=_("已登记户口"), required=False, initial=True)
    id_number = forms.CharField(
        label=_("公民身份号码"),
        max_length=40,
        required=False,
        help_text=_("18位，末位可以是X；未登记户口的儿童可不填。"),
    )
    hukou_rural = forms.BooleanField(label=_("农村户籍"), required=False, initial=True)
    hukou_place = forms.CharField(label=_("户籍地"), max_length=200, required=False)
    village = forms.ChoiceField(
        label=_("所在村（居）"),
        choices=[],
        required=False,
        # Issue 16 part 4: app.js adds a township picker and a search over the township groups.
        widget=forms.Select(attrs={"data-village-picker": ""}),
    )
    address = forms.CharField(label=_("现居住地址"), max_length=200, required=False)
    school = forms.ChoiceField(
        label=_("就读学校/幼儿园"), choices=[], required=False, help_text=_("学校可据此查看本校学生的档案。")
    )
    health = forms.ChoiceField(label=_("健康状况"), choices=Health.choices, initial=Health.HEALTHY)
    disability_type = forms.ChoiceField(
        label=_("残疾类别"),
        choices=_code_choices("disability_type"),
        required=False,
        help_text=_("健康状况为“残疾”时填写。"),
    )
    disability_grade = forms.ChoiceField(
        label=_("残疾等级"), choices=_code_choices("disability_grade"), required=False
    )
    illness = forms.CharField(
        label=_("疾病名称"), max_length=100, required=False, help_text=_("健康状况为“患病”时填写。")
    )
    schooling = forms.ChoiceField(
        label=_("就学情况"), choices=BLANK + list(Schooling.choices), required=False
    )
    boarding = forms.BooleanField(label=_("寄宿"), required=False)
    care_arrangement = forms.ChoiceField(
        label=_("实际照料方式"), choices=BLANK + list(CareArrangement.choices), required=False
    )
    guardianship_rating = forms.ChoiceField(
        label=_("监护情况评估"), choices=[("", _("未评估")), *Rating.choices], required=False
    )
    moved_with_parents = forms.BooleanField(label=_("随父母外出生活（流动儿童）"), required=False)
    income_sources = forms.MultipleChoiceField(
        label=_("家庭经济来源"),
        choices=_code_choices("income_source", blank=False),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    assistance = forms.MultipleChoiceField(
        label=_("享受救助帮扶情况"),
        choices=_code_choices("assistance", blank=False),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    distress_categories = forms.MultipleChoiceField(
        label=_("困境儿童类别"),
        choices=_code_choices("distress_category", blank=False),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("由儿童主任核实后勾选；系统会根据情况给出建议。"),
    )
    village_contact_name = forms.CharField(label=_("村（居）委会联系人"), max_length=50, required=False)
    village_contact_phone = forms.CharField(
        label=_("村（居）委会联系电话"),
        max_length=30,
        required=False,
        help_text=_("手机11位；固定电话带区号，如 023-59221234。"),
    )
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    effective = forms.DateField(
        label=_("变化日期"),
        widget=DateInput(),
        required=False,
        help_text=_("父母外出或返乡等情况发生变化的日期；不填则按今天记录。"),
    )

    def __init__(
        self,
        *args: Any,
        prefixes: tuple[str, ...],
        editing: bool = False,
        show_identifiers: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "village").choices = [("", "—"), *village_choices(prefixes)]
        choice_field(self, "school").choices = [("", "—"), *school_choices(prefixes)]
        if not editing:
            del self.fields["effective"]
            del self.fields["version"]
        if not show_identifiers:
            del self.fields["id_number"]
            del self.fields["village_contact_phone"]

    def to_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("version", "effective")}
        data["school"] = int(data["school"]) if data.get("school") else None
        return data


class ParentForm(StyledForm):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    birth_date = forms.DateField(label=_("出生日期"), widget=DateInput(), required=False)
    id_number = forms.CharField(label=_("公民身份号码"), max_length=40, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    away_for_work = forms.BooleanField(label=_("外出务工"), required=False)
    away_since = forms.DateField(label=_("外出时间"), widget=DateInput(), required=False)
    work_province = forms.ChoiceField(label=_("务工省份"), choices=_code_choices("province"), required=False)
    work_city = forms.CharField(label=_("务工市（县）"), max_length=50, required=False)
    abroad = forms.BooleanField(label=_("境外务工"), required=False)
    work_country = forms.CharField(label=_("务工国家/地区"), max_length=50, required=False)
    guardianship_capacity = forms.BooleanField(
        label=_("有监护能力"),
        required=False,
        initial=True,
        help_text=_("因重病、重残等不能履行监护职责的，取消勾选并选择原因。"),
    )
    incapacity_reason = forms.ChoiceField(
        label=_("无监护能力原因"), choices=_code_choices("incapacity_reason"), required=False
    )
    deceased = forms.BooleanField(label=_("已去世"), required=False)

    def __init__(self, *args: Any, show_identifiers: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not show_identifiers:
            del self.fields["id_number"]
            del self.fields["phone"]


class GuardianForm(StyledForm):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    relationship = forms.ChoiceField(
        label=_("与儿童关系"), choices=_code_choices("relationship"), required=False
    )
    birth_date = forms.DateField(label=_("出生日期"), widget=DateInput(), required=False)
    id_number = forms.CharField(label=_("公民身份号码"), max_length=40, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    address = forms.CharField(label=_("住址"), max_length=200, required=False)
    full_civil_capacity = forms.TypedChoiceField(
        label=_("具有完全民事行为能力"),
        choices=YES_NO_UNKNOWN,
        coerce=_yes_no_unknown,
        empty_value=None,
        required=False,
    )
    no_violence_history = forms.TypedChoiceField(
        label=_("无性侵害、虐待、遗弃、拐卖、暴力伤害等违法犯罪记录"),
        choices=YES_NO_UNKNOWN,
        coerce=_yes_no_unknown,
        empty_value=None,
        required=False,
    )
    no_addiction = forms.TypedChoiceField(
        label=_("无吸毒、酗酒、赌博等恶习"),
        choices=YES_NO_UNKNOWN,
        coerce=_yes_no_unknown,
        empty_value=None,
        required=False,
    )
    no_prior_neglect = forms.TypedChoiceField(
        label=_("未曾拒不履行或长期怠于履行监护、照护职责"),
        choices=YES_NO_UNKNOWN,
        coerce=_yes_no_unknown,
        empty_value=None,
        required=False,
    )
    checked_on = forms.DateField(
        label=_("核实日期"),
        widget=DateInput(),
        required=False,
        help_text=_("村（居）委会核实以上四项情况的日期（未成年人保护法第二十二条）。"),
    )

    CHECKS = ("full_civil_capacity", "no_violence_history", "no_addiction", "no_prior_neglect")

    @staticmethod
    def initial_from(g: Any, *, show_identifiers: bool) -> dict[str, Any]:
        if g is None:
            return {}
        out = {f: getattr(g, f) for f in ("name", "relationship", "birth_date", "address", "checked_on")}
        for f in GuardianForm.CHECKS:
            value = getattr(g, f)
            out[f] = "" if value is None else ("yes" if value else "no")
        if show_identifiers:  # masked; sent back unchanged, the number on file is kept
            out["id_number"] = mask_id_number(g.id_number) or ""
            out["phone"] = mask_phone(g.phone or None) or ""
        return out


class GrandparentForm(StyledForm):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    birth_date = forms.DateField(label=_("出生日期"), widget=DateInput(), required=False)
    deceased = forms.BooleanField(label=_("已去世"), required=False)


GRANDPARENT_ROWS = [
    (Grandparent.Side.PATERNAL, Grandparent.Relation.GRANDFATHER, _("祖父")),
    (Grandparent.Side.PATERNAL, Grandparent.Relation.GRANDMOTHER, _("祖母")),
    (Grandparent.Side.MATERNAL, Grandparent.Relation.GRANDFATHER, _("外祖父")),
    (Grandparent.Side.MATERNAL, Grandparent.Relation.GRANDMOTHER, _("外祖母")),
]


class ChildSearchForm(forms.Form):
    """The list's GET filters; values become selectors.ChildFilters in the view."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("姓名、拼音首字母、身份证号或电话"),
                "type": "search",
                "autocomplete": "off",
            }
        ),
    )
    region = forms.ChoiceField(label=_("乡镇/村（居）"), required=False, choices=[])
    left_behind = forms.ChoiceField(
        label=_("农村留守儿童"), required=False, choices=[("", _("全部")), ("yes", _("是")), ("no", _("否"))]
    )
    key_target = forms.ChoiceField(
        label=_("重点对象"), required=False, choices=[("", _("全部")), ("yes", _("是")), ("no", _("否"))]
    )
    rating = forms.ChoiceField(
        label=_("监护情况评估"),
        required=False,
        choices=[("", _("全部")), *Rating.choices, ("none", _("未评估"))],
    )
    schooling = forms.ChoiceField(
        label=_("就学情况"), required=False, choices=[("", _("全部")), *Schooling.choices]
    )
    age_band = forms.ChoiceField(
        label=_("年龄段"),
        required=False,
        choices=[("", _("全部")), ("0-5", _("0–5周岁")), ("6-13", _("6–13周岁")), ("14-15", _("14–15周岁"))],
    )

    def __init__(self, *args: Any, regions: Iterable[Region] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, _StrOrPromise]] = [("", _("全部"))]
        for r in regions:
            label = (
                r.name
                if r.kind not in ("village", "community")
                else f"{r.parent.name if r.parent else ''} · {r.name}"
            )
            choices.append((r.code, label))
        choice_field(self, "region").choices = choices
        style(self.fields)
