"""Readable details of the timeline's care, alert and lifecycle events (issue 12 part 7; R11.5).

The file's own field changes are rendered by `timeline._changes`; the other events carried their raw
payload (keys, dicts, ISO stamps, ids). Here each kind becomes labelled Chinese lines: a visit's
findings under their headings, a contact's parent and channel, an alert's meaning, local dates and
times. Keys that only machines need (alert keys, record ids) are never shown.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.care.models import Admonition, AlertKind, CareAssignment, ParentContact, Visit
from shouhu.care.services import FINDING_FIELDS
from shouhu.core.models import Region
from shouhu.registry.models import ArchiveReason, Rating

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID_LIKE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-|^[a-z_]+:[0-9a-f-]+")

PARENT = {"father": gettext_lazy("父亲"), "mother": gettext_lazy("母亲")}
LABELS: dict[str, Any] = {
    "parent": gettext_lazy("父/母"),
    "channel": gettext_lazy("方式"),
    "facilitated_by": gettext_lazy("协助方"),
    "occurred_at": gettext_lazy("时间"),
    "kind": gettext_lazy("类型"),
    "visitor_role": gettext_lazy("走访人身份"),
    "rating": gettext_lazy("本次监护情况评估"),
    "person_name": gettext_lazy("结对人"),
    "organisation": gettext_lazy("单位"),
    "starts_on": gettext_lazy("开始日期"),
    "ends_on": gettext_lazy("结束日期"),
    "by_body": gettext_lazy("实施单位"),
    "guardian_name": gettext_lazy("被劝诫人"),
    "reason": gettext_lazy("原因"),
    "serious": gettext_lazy("情节严重"),
    "on": gettext_lazy("日期"),
    "note": gettext_lazy("说明"),
    "village": gettext_lazy("接收村（居）"),
    "name": gettext_lazy("姓名"),
    "state": gettext_lazy("档案状态"),
}
# What each verb's `kind` means (a contact has a channel, a visit a kind, an assignment a way …).
KIND_CHOICES: dict[str, dict[str, Any]] = {
    "care.visit_logged": dict(Visit.Kind.choices),
    "care.assignment_added": dict(CareAssignment.Kind.choices),
    "care.assignment_ended": dict(CareAssignment.Kind.choices),
    "care.admonition_recorded": dict(Admonition.Kind.choices),
}
VALUE_CHOICES: dict[str, dict[str, Any]] = {
    "parent": PARENT,
    "channel": dict(ParentContact.Channel.choices),
    "facilitated_by": dict(ParentContact.Facilitator.choices),
    "visitor_role": dict(Visit.VisitorRole.choices),
    "rating": dict(Rating.choices),
    "by_body": dict(Admonition.Body.choices),
    "reason": dict(ArchiveReason.choices),
    "state": {"active": gettext_lazy("在册"), "archived": gettext_lazy("已归档")},
}
# Never shown: machine keys, ids and the texts the summary already says.
HIDDEN = {"key", "message", "id", "duplicate", "merged_into", "moved", "subject", "case"}


def when(value: Any) -> str:
    """A date or date-time as the county reads it: 2026-03-04 10:00 (local time), 2026-03-04."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if _ISO_DATETIME.match(text):
        parsed = parse_datetime(text)
        if parsed is not None:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")
    if _ISO_DATE.match(text) and parse_date(text):
        return text
    return text


def _value(verb: str, key: str, value: Any, villages: dict[str, str]) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if key == "kind":
        if verb.startswith("alert."):
            return str(dict(AlertKind.choices).get(value, value))
        return str(KIND_CHOICES.get(verb, {}).get(value, value))
    if key == "village":
        return villages.get(str(value), str(value))
    if key in VALUE_CHOICES:
        return str(VALUE_CHOICES[key].get(value, value))
    return when(value)


def details(verb: str, after: Any, villages: dict[str, str] | None = None) -> list[dict[str, str]]:
    """Labelled lines for one event's payload; [] when the event's summary says it all."""
    if not isinstance(after, dict):
        return []
    villages = villages or {}
    rows: list[dict[str, str]] = []
    for key, value in after.items():
        if key in HIDDEN or key in ("type", "left_behind", "since", "date", "reasons"):
            continue
        if key == "findings" and isinstance(value, dict):
            for fkey, text in value.items():
                if fkey == "living_alone":
                    rows.append({"label": _("发现儿童单独居住/无人监护"), "value": _("是")})
                elif fkey in FINDING_FIELDS:
                    rows.append({"label": str(FINDING_FIELDS[fkey]), "value": str(text)})
            continue
        if key not in LABELS:
            continue  # an internal key: better left out than shown raw
        text = _value(verb, key, value, villages)
        if _ID_LIKE.match(text):
            continue
        rows.append({"label": str(LABELS[key]), "value": text})
    return rows


def village_names(payloads: list[Any]) -> dict[str, str]:
    codes = {str(p["village"]) for p in payloads if isinstance(p, dict) and p.get("village")}
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
