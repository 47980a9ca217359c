"""Web pages of schooling: the school's classes, a class teacher's daily attendance (tick who is absent,
on a phone), dropout cases and their moves, the roster upload, the left-behind marks export, the census
work lists and the education commission's per-school view. @scoped + @login_required; 404 out of reach;
the services validate and record."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.core.access import can
from shouhu.core.accesslog import record_read
from shouhu.core.documents.selectors import panel
from shouhu.core.jurisdiction import acting_user, client_ip, scoped
from shouhu.ledger.reader import UnusableFile
from shouhu.schooling import dropout, selectors, services
from shouhu.schooling.models import Absence
from shouhu.schooling.roster import roster_import
from shouhu.schooling.workflow import DROPOUT


def _listed(request: HttpRequest, what: str, count: int, child_id: Any = "") -> None:
    record_read(
        user=acting_user(request),
        action="view" if child_id else "list",
        child_id=child_id,
        count=count,
        query=request.GET,
        detail=what,
        ip=client_ip(request),
    )


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return timezone.localdate()


@scoped("roster.view")
@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    open_dropouts = list(selectors.dropouts(user).filter(closed_at__isnull=True)[:50])
    unpaired = list(selectors.unpaired(user)[:50]) if can(user, "school.care") else []
    context = {
        "classes": selectors.classes(user),
        "open_dropouts": open_dropouts,
        "unpaired": unpaired,
        "today": timezone.localdate(),
    }
    _listed(request, "schooling_home", len(open_dropouts) + len(unpaired))
    return render(request, "schooling/home.html", context)


@scoped("attendance.record")
@login_required
@never_cache
def attendance(request: HttpRequest) -> HttpResponse:
    """A class's attendance for one day: the class list with a box per pupil; tick who is absent."""
    params = request.POST if request.method == "POST" else request.GET
    school, grade, class_name = params.get("school", ""), params.get("grade", ""), params.get("class", "")
    on = _day(params.get("date"))
    pupils = selectors.class_list(request.user, school, grade, class_name) if school.isdigit() else []
    if request.method == "POST" and pupils:
        absent: dict[int, dict[str, Any]] = {}
        for e in pupils:
            if params.get(f"absent-{e.pk}"):
                absent[e.pk] = {
                    "days": "0.5" if params.get(f"half-{e.pk}") else "1",
                    "excused": bool(params.get(f"excused-{e.pk}")),
                    "reason": params.get(f"reason-{e.pk}", ""),
                }
        try:
            opened = services.attendance_take(
                actor=acting_user(request), school=pupils[0].school, on=on, enrolments=pupils, absent=absent
            )
        except ValidationError as exc:
            for m in _messages(exc):
                messages.error(request, m)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("已保存 %(date)s 的考勤：缺勤 %(n)d 人。") % {"date": on.isoformat(), "n": len(absent)},
            )
            for case in opened:
                messages.warning(
                    request,
                    _("%(name)s 达到控辍保学登记条件，已登记个案并通知村（居）。")
                    % {"name": case.child.name},
                )
        return redirect(
            f"{request.path}?school={school}&grade={grade}&class={class_name}&date={on.isoformat()}"
        )
    recorded = {
        a.child_id: a
        for a in Absence.objects.filter(child_id__in=[e.child_id for e in pupils if e.child_id], date=on)
    }
    rows = [{"e": e, "a": recorded.get(e.child_id) if e.child_id else None} for e in pupils]
    _listed(request, "schooling_attendance", len(pupils))
    return render(
        request,
        "schooling/attendance.html",
        {
            "rows": rows,
            "on": on,
            "school": school,
            "grade": grade,
            "class_name": class_name,
            "classes": selectors.classes(request.user),
        },
    )


@scoped("dropout.view")
@login_required
@never_cache
def dropouts(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    qs = selectors.dropouts(request.user)
    if state == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif state == "closed":
        qs = qs.filter(closed_at__isnull=False)
    cases = list(qs.order_by("-opened_at")[:200])
    _listed(request, "schooling_dropouts", len({c.child_id for c in cases}))
    return render(request, "schooling/dropouts.html", {"cases": cases, "state": state})


@scoped("dropout.view", obj="dropout")
@login_required
@never_cache
def dropout_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    case = dropout.get_case(request.user, pk)
    steps = [(s, DROPOUT.step(case.state, s)) for s in dropout.allowed_transitions(request.user, case)]
    context = {
        "case": case,
        "state_label": DROPOUT.label(case.state),
        "moves": [
            (target, step.label if step else target, "note" in (step.needs if step else ()))
            for target, step in steps
        ],
        "deadlines": dropout.deadlines(case),
        "timeline": case.steps.select_related("actor").all(),
        "may_attempt": case.state == "persuading" and can(request.user, "dropout.act", case),
        "panel": panel(request.user, "schooling.dropout", case),
    }
    _listed(request, "schooling_dropout", 1, child_id=case.child_id)
    return render(request, "schooling/dropout.html", context)


@scoped("dropout.view", obj="dropout")
@login_required
@require_POST
def dropout_transition(request: HttpRequest, pk: Any) -> HttpResponse:
    case = dropout.get_case(request.user, pk)  # 404 out of reach
    note, unit = request.POST.get("note", ""), request.POST.get("by_unit", "")
    try:
        if request.POST.get("to") == "attempt":
            dropout.persuasion_attempt(actor=acting_user(request), case_id=case.pk, note=note, by_unit=unit)
        else:
            dropout.dropout_transition(
                actor=acting_user(request),
                case_id=case.pk,
                to=request.POST.get("to", ""),
                note=note,
                by_unit=unit,
            )
    except ValidationError as exc:
        for m in _messages(exc):
            messages.error(request, m)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已保存。"))
    return redirect("web:schooling_dropout", pk=case.pk)


@scoped("roster.edit")
@login_required
@never_cache
def roster_upload(request: HttpRequest) -> HttpResponse:
    """Upload the 学籍 system's export: a dry run shows what would change; then import."""
    schools = services.school_ids(request.user, "roster.edit")
    summary = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            school = services.own_school(request.user, "roster.edit", request.POST.get("school") or None)
            if upload is None:
                raise UnusableFile("empty", _("请选择学籍系统导出的名册文件（xlsx、xls 或 csv）。"))
            summary = roster_import(
                actor=acting_user(request),
                school=school,
                data=upload.read(),
                filename=upload.name or "",
                dry_run=not request.POST.get("commit"),
            )
        except UnusableFile as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            for m in _messages(exc):
                messages.error(request, m)
        except services.OutOfScope:
            messages.error(request, _("只能导入本校的名册。"))
        else:
            if summary.errors:
                messages.error(
                    request,
                    _("名册中有 %(n)d 处错误，未导入任何数据。请改正后重新上传。")
                    % {"n": len(summary.errors)},
                )
            elif not summary.dry_run:
                messages.success(request, _("名册已导入。"))
    from shouhu.core.models import Organisation

    return render(
        request,
        "schooling/roster.html",
        {"summary": summary, "schools": Organisation.objects.filter(pk__in=schools)},
    )


@scoped("roster.edit")
@login_required
def marks_export(request: HttpRequest) -> HttpResponse:
    """The left-behind marks derived from the ledger, as CSV to paste back into the 学籍 system (R4.1)."""
    rows = selectors.mark_rows(request.user)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["学籍号", "姓名", "年级", "班级", "是否留守儿童"])
    for r in rows:
        w.writerow([r["student_number"], r["name"], r["grade"], r["class_name"], r["mark"]])
    record_read(
        user=acting_user(request),
        action="export",
        count=len(rows),
        detail="schooling_marks",
        ip=client_ip(request),
    )
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="left-behind-marks.csv"'
    return response


@scoped("census.view")
@login_required
@never_cache
def census(request: HttpRequest) -> HttpResponse:
    region = request.GET.get("region") or None
    result = selectors.census(
        request.user, on=timezone.localdate(), region=region if region and region.isdigit() else None
    )
    _listed(request, "schooling_census", len(result.missing_from_ledger) + len(result.not_on_roster))
    return render(request, "schooling/census.html", {"census": result, "region": region or ""})


@scoped("schooling.oversee")
@login_required
@never_cache
def oversight(request: HttpRequest) -> HttpResponse:
    rows = selectors.oversight(request.user, on=timezone.localdate())
    return render(request, "schooling/oversight.html", {"rows": rows})
