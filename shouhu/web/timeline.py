"""The child's timeline as readable rows: which events and which parts of them a reader sees is decided by
`registry.timeline` (visibility classes, field groups); this turns what is left into labelled
before → after changes for the file page."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.core import codes
from shouhu.core.models import Region
from shouhu.core.visibility import FAMILY, FILE, visibility_of
from shouhu.registry import selectors
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
from shouhu.registry.timeline import timeline_for
from shouhu.web.timeline_text import details

PAPER_VERBS = ("document.", "attachment.")
LIFECYCLE_VERBS = ("child.archived", "child.reactivated", "child.transferred", "child.merged")
PARENT_RELATIONS = (("father", gettext_lazy("父亲")), ("mother", gettext_lazy("母亲")))

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


def timeline_entries(user: Any, child: Child, groups: frozenset[str]) -> list[dict[str, Any]]:
    """The child's timeline as this reader may see it (registry.timeline), as readable rows."""
    entries = timeline_for(user, groups, selectors.events_of(child))
    codes_seen = {
        str(v)
        for e in entries
        for d in (e.before, e.after)
        if isinstance(d, dict)
        for k, v in d.items()
        if k == "village" and v
    }
    villages = (
        dict(Region.objects.filter(code__in=codes_seen).values_list("code", "name")) if codes_seen else {}
    )
    out = []
    for entry in entries:
        e = entry.event
        row: dict[str, Any] = {"event": e, "actor": e.actor if entry.show_actor else None, "changes": []}
        row.update(reasons=[], date=None, hidden_actor=not entry.show_actor)
        row["details"] = []
        if e.verb in ("child.status_entered", "child.status_exited") and isinstance(entry.after, dict):
            row["date"] = entry.after.get("date") or entry.after.get("since")
            row["reasons"] = entry.after.get("reasons") or []
        elif e.verb in LIFECYCLE_VERBS or visibility_of(e) not in (FILE, FAMILY):
            # care, alert and lifecycle events: labelled lines, never raw keys, ids or ISO stamps
            if not e.verb.startswith(PAPER_VERBS):
                row["details"] = details(e.verb, entry.after, villages)
        elif (
            e.verb not in ("child.created", "grandparents.set")
            and not e.verb.startswith(PAPER_VERBS)
            and visibility_of(e) in (FILE, FAMILY)
        ):
            # field-by-field changes of the file and the family; other events say it in their summary
            # (a document's or attachment's sealed facts — hashes, ids — are for verification, not reading)
            row["changes"] = _changes(entry.before, entry.after, villages)
        out.append(row)
    return out
