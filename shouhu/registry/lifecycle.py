"""The file's lifecycle (动态管理, R1.11; API.md archive, reactivate, transfer, merge; issue 12 part 1).

Every move is one atomic service that records an event on the file's timeline. An archived file leaves
the lists, raises no alerts and is read-only until reactivated; a transferred file takes its history to
the new village (the old village's users lose it, the new one's gain it: reach follows `village`); a
merged duplicate gives every record it holds to the file kept, and is archived as `duplicate` with
`merged_into`, its own timeline shown on the kept file's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.access import can, restrict
from shouhu.core.dispatch import FILE_STATE_CHANGED, publish
from shouhu.core.events import record_events
from shouhu.core.models import Region, User
from shouhu.registry.duplicates import similar_names
from shouhu.registry.models import (
    ArchiveReason,
    Child,
    FileState,
    Grandparent,
    Guardian,
    Parent,
    ParentFact,
    StatusPeriod,
)
from shouhu.registry.services import OutOfScope, child_event

NOTE_MAX = 300


def _editable(actor: User, child_id: Any, *, lock: bool = True) -> Child:
    qs = Child.objects.select_for_update() if lock else Child.objects.all()
    child = qs.filter(pk=child_id).first() if _valid_uuid(child_id) else None
    if child is None or not can(actor, "child.edit", child):
        raise OutOfScope()
    return child


def _valid_uuid(value: Any) -> bool:
    try:
        models.UUIDField().to_python(value)
    except ValidationError:
        return False
    return True


def _note(value: Any) -> str:
    return str(value or "").strip()[:NOTE_MAX]


def _after_change(child: Child, actor: User | None) -> None:
    """Care follows the file at once (alerts closed on archive, moved with a transfer)."""
    publish(FILE_STATE_CHANGED, child=child, actor=actor)


@transaction.atomic
def child_archive(
    *,
    actor: User,
    child_id: Any,
    reason: str,
    on: date | None = None,
    note: str = "",
    today: date | None = None,
) -> Child:
    """Archive a file with a reason (R1.11). Its history stays; it leaves lists and alerts."""
    today = today or timezone.localdate()
    child = _editable(actor, child_id)
    errors: dict[str, list[str]] = {}
    if reason not in ArchiveReason.values:
        errors["reason"] = [
            _(
                "请选择归档原因：moved_away（迁出）、deceased（死亡）、aged_out（年龄超出）、duplicate（重复）或 other（其他）。"
            )
        ]
    on = on or today
    if on > today:
        errors["on"] = [_("归档日期不能晚于今天。")]
    elif on < child.birth_date:
        errors["on"] = [_("归档日期不能早于出生日期。")]
    if reason == ArchiveReason.OTHER and not _note(note):
        errors["note"] = [_("归档原因为“其他”时，请填写说明。")]
    if child.state == FileState.ARCHIVED:
        errors["state"] = [_("该档案已归档。")]
    if errors:
        raise ValidationError(errors)
    return _archive(actor, child, reason, on, _note(note))


def _archive(actor: User | None, child: Child, reason: str, on: date, note: str, **extra: Any) -> Child:
    before = {"state": child.state}
    child.state, child.archived_reason, child.archived_on, child.archive_note = (
        FileState.ARCHIVED,
        reason,
        on,
        note,
    )
    for k, v in extra.items():
        setattr(child, k, v)
    child.version += 1
    child.updated_at = timezone.now()
    child.save()
    after = {"state": child.state, "reason": reason, "on": on, "note": note}
    if child.merged_into_id:
        after["merged_into"] = str(child.merged_into_id)
    summary = _("档案归档：%(r)s") % {"r": ArchiveReason(reason).label}
    record_events([child_event("child.archived", child, actor, summary, before, after)])
    _after_change(child, actor)
    return child


@transaction.atomic
def child_reactivate(*, actor: User, child_id: Any, note: str) -> Child:
    """Bring an archived file back (R1.11), with a note saying why; it is editable and followed again."""
    child = _editable(actor, child_id)
    errors: dict[str, list[str]] = {}
    if child.state != FileState.ARCHIVED:
        errors["state"] = [_("该档案在册，无需恢复。")]
    if not _note(note):
        errors["note"] = [_("请填写恢复档案的原因。")]
    if child.merged_into_id:
        errors["state"] = [_("该档案已并入另一份档案，不能恢复；请打开合并后的档案。")]
    if errors:
        raise ValidationError(errors)
    before = {"state": child.state, "reason": child.archived_reason, "on": child.archived_on}
    child.state, child.archived_reason, child.archived_on, child.archive_note = FileState.ACTIVE, "", None, ""
    child.version += 1
    child.updated_at = timezone.now()
    child.save()
    record_events(
        [
            child_event(
                "child.reactivated",
                child,
                actor,
                _("恢复档案"),
                before,
                {"state": child.state, "note": _note(note)},
            )
        ]
    )
    _after_change(child, actor)
    return child


@transaction.atomic
def child_transfer(*, actor: User, child_id: Any, village: Any, note: str = "") -> Child:
    """Move the file to another village or township (R1.11). The actor needs the file and the right to
    register children in the receiving village; the history travels with the file."""
    child = _editable(actor, child_id)
    code = village.code if isinstance(village, Region) else str(village or "").strip()
    target = Region.objects.filter(code=code).first()
    if child.state != FileState.ACTIVE:
        raise ValidationError({"state": [_("该档案已归档，请先恢复再转移。")]})
    if target is None or not target.is_village_level:
        raise ValidationError({"village": [_("请填写接收村（居）委会的12位区划代码。")]})
    if target.code == child.village_id:
        raise ValidationError({"village": [_("档案已在该村（居），无需转移。")]})
    if not can(actor, "child.create", target.code):
        raise ValidationError(
            {"village": [_("您无权把档案转入该村（居）：跨乡镇转移请由县民政局办理，或由接收地办理。")]}
        )
    before = {"village": child.village_id}
    child.village = target
    child.version += 1
    child.updated_at = timezone.now()
    child.save()
    summary = _("档案转移至%(v)s") % {"v": target.name}
    record_events(
        [
            child_event(
                "child.transferred",
                child,
                actor,
                summary,
                before,
                {"village": target.code, "note": _note(note)},
            )
        ]
    )
    _after_change(child, actor)
    return child


# --- merge -----------------------------------------------------------------------------------------

# Rows whose place is decided here, not moved wholesale: a file keeps its own parents, status history …
_OWN = {Parent, Grandparent, Guardian, ParentFact, StatusPeriod}
# Rows that follow the file's current facts and are rebuilt by the scan (an alert's key names its file).
_REBUILT = {"care.alert"}


def _move_rows(keep: Child, dup: Child) -> dict[str, int]:
    """Every row that points at the duplicate now points at the kept file; a row that would break a
    uniqueness rule there (the kept file already holds one) stays with the archived duplicate."""
    moved: dict[str, int] = {}
    # Parents, grandparents and guardians the kept file lacks come over with their dated facts.
    have = set(keep.parents.values_list("relation", flat=True))
    rels = [r for r in dup.parents.values_list("relation", flat=True) if r not in have]
    moved["parents"] = Parent.objects.filter(child=dup, relation__in=rels).update(child=keep)
    ParentFact.objects.filter(child=dup, relation__in=rels).update(child=keep)
    have_g = set(keep.guardians.values_list("role", flat=True))
    moved["guardians"] = Guardian.objects.filter(child=dup).exclude(role__in=have_g).update(child=keep)
    if not keep.grandparents.exists():
        moved["grandparents"] = Grandparent.objects.filter(child=dup).update(child=keep)
    for rel in Child._meta.get_fields(include_hidden=True):
        field = getattr(rel, "field", None)
        model = rel.related_model
        if not (rel.one_to_many and isinstance(field, models.ForeignKey)) or not isinstance(model, type):
            continue
        if model in _OWN or model is Child or model._meta.label_lower in _REBUILT:
            continue
        fname = field.name
        qs = model._default_manager.filter(**{fname: dup})
        try:
            with transaction.atomic():
                n = qs.update(**{fname: keep})
        except IntegrityError:
            n = 0
            for pk in list(qs.values_list("pk", flat=True)):
                try:
                    with transaction.atomic():
                        n += model._default_manager.filter(pk=pk).update(**{fname: keep})
                except IntegrityError:
                    continue
        if n:
            moved[model._meta.label_lower] = n
    return moved


@transaction.atomic
def child_merge(*, actor: User, child_id: Any, duplicate_id: Any, note: str = "") -> Child:
    """Fold a duplicate file into this one (R1.7, R1.11): its records move here, it is archived as
    `duplicate` with `merged_into`, and its timeline shows on this file."""
    if str(child_id) == str(duplicate_id):
        raise ValidationError({"duplicate": [_("不能把档案与自身合并。")]})
    keep = _editable(actor, child_id)
    if not _valid_uuid(duplicate_id):
        raise ValidationError({"duplicate": [_("请填写要并入的重复档案的编号。")]})
    dup = Child.objects.select_for_update().filter(pk=duplicate_id).first()
    if dup is None or not can(actor, "child.edit", dup):
        raise ValidationError({"duplicate": [_("找不到该档案，或您无权修改它。")]})
    if keep.state != FileState.ACTIVE or dup.state != FileState.ACTIVE:
        raise ValidationError({"duplicate": [_("只能合并两份在册档案；已归档的请先恢复。")]})
    moved = _move_rows(keep, dup)
    if not keep.id_number and dup.id_number:  # the duplicate's ID number completes the kept file
        number, index = dup.id_number, dup.id_number_index
        Child.objects.filter(pk=dup.pk).update(id_number=None, id_number_index=None)
        dup.id_number = dup.id_number_index = None
        keep.id_number, keep.id_number_index = number, index
        moved["id_number"] = 1
    if keep.household_id is None and dup.household_id is not None:
        keep.household_id = dup.household_id
    keep.version += 1
    keep.updated_at = timezone.now()
    keep.save()
    summary = _("合并重复档案：%(n)s（%(b)s）") % {"n": dup.name, "b": dup.birth_date.isoformat()}
    record_events(
        [
            child_event(
                "child.merged",
                keep,
                actor,
                summary,
                None,
                {"duplicate": str(dup.pk), "name": dup.name, "moved": moved, "note": _note(note)},
            )
        ]
    )
    _archive(actor, dup, ArchiveReason.DUPLICATE, timezone.localdate(), _note(note), merged_into=keep)
    return keep


def duplicate_pairs(user: Any, *, limit: int = 200) -> list[tuple[Child, Child]]:
    """Probable duplicates the user may merge (R1.7): active files in the same village with the same
    birth date and a similar name (files with the same ID number cannot both exist)."""
    scope = restrict(Child.objects.filter(state=FileState.ACTIVE), user, "child.edit")
    groups = (
        scope.values("village_id", "birth_date")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by()[: limit * 2]
    )
    pairs: list[tuple[Child, Child]] = []
    for g in groups:
        rows = list(
            scope.filter(village_id=g["village_id"], birth_date=g["birth_date"])
            .select_related("village")
            .order_by("created_at", "id")
        )
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                if similar_names(a.name, b.name):
                    pairs.append((a, b))
        if len(pairs) >= limit:
            break
    return pairs[:limit]
