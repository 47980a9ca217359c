"""Pages of the file's lifecycle (R1.11; issue 12 part 1): archive, reactivate, transfer, and the list of
probable duplicates with their merge. Thin: parse, call `registry.lifecycle`, redirect with a message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shouhu.core.accesslog import record_read
from shouhu.core.jurisdiction import acting_user, client_ip, scoped
from shouhu.core.models import Region
from shouhu.registry import lifecycle, selectors
from shouhu.registry.models import ArchiveReason, Child
from shouhu.web.views_children import _editable_child


def transfer_villages(user: Any, child: Child) -> list[Region]:
    """The villages this user may move the file to (where they may register children)."""
    return [
        r
        for r in selectors.regions_for_filter(user, "child.create")
        if r.is_village_level and r.code != child.village_id
    ]


def lifecycle_context(user: Any, child: Child) -> dict[str, Any]:
    """What the file page's 档案管理 section needs (`views_children.child_detail`)."""
    return {
        "archive_reasons": [(r.value, r.label) for r in ArchiveReason if r != ArchiveReason.DUPLICATE],
        "transfer_villages": transfer_villages(user, child),
    }


def _act(request: HttpRequest, pk: Any, call: Callable[[Any, Child], Child], done: str) -> HttpResponse:
    child = _editable_child(request, pk)
    try:
        child = call(acting_user(request), child)
    except ValidationError as exc:
        for msgs in getattr(exc, "message_dict", {"": exc.messages}).values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, done)
    return redirect("web:child_detail", pk=child.pk)


@scoped("child.edit", obj="child")
@login_required
@require_POST
def archive(request: HttpRequest, pk: Any) -> HttpResponse:
    raw_on = (request.POST.get("on") or "").strip()
    on: date | None = None
    if raw_on:
        try:
            on = parse_date(raw_on)
        except ValueError:
            on = None
        if on is None:
            messages.error(request, _("归档日期格式应为 YYYY-MM-DD。"))
            return redirect("web:child_detail", pk=pk)
    return _act(
        request,
        pk,
        lambda actor, c: lifecycle.child_archive(
            actor=actor,
            child_id=c.pk,
            reason=request.POST.get("reason", ""),
            on=on,
            note=request.POST.get("note", ""),
        ),
        _("档案已归档，历史记录保留；需要时可恢复。"),
    )


@scoped("child.edit", obj="child")
@login_required
@require_POST
def reactivate(request: HttpRequest, pk: Any) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda actor, c: lifecycle.child_reactivate(
            actor=actor, child_id=c.pk, note=request.POST.get("note", "")
        ),
        _("档案已恢复。"),
    )


@scoped("child.edit", obj="child")
@login_required
@require_POST
def transfer(request: HttpRequest, pk: Any) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda actor, c: lifecycle.child_transfer(
            actor=actor,
            child_id=c.pk,
            village=request.POST.get("village", ""),
            note=request.POST.get("note", ""),
        ),
        _("档案已转移，历史记录随档案转移。"),
    )


@scoped("child.edit", obj="child")
@login_required
@require_POST
def merge(request: HttpRequest, pk: Any) -> HttpResponse:
    child = _editable_child(request, pk)
    try:
        lifecycle.child_merge(
            actor=acting_user(request),
            child_id=child.pk,
            duplicate_id=request.POST.get("duplicate", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
        return redirect("web:child_duplicates")
    messages.success(request, _("已合并：重复档案的记录已并入本档案，重复档案已归档。"))
    return redirect("web:child_detail", pk=child.pk)


@scoped("child.edit")
@login_required
def duplicates(request: HttpRequest) -> HttpResponse:
    """Probable duplicate pairs in the user's reach (R1.7): same village, birth date, similar name."""
    user = acting_user(request)
    pairs = lifecycle.duplicate_pairs(user)
    record_read(user=user, action="list", count=2 * len(pairs), detail="duplicates", ip=client_ip(request))
    return render(request, "web/children/duplicates.html", {"pairs": pairs})
