"""Ledger pages (R1.9, R1.10): upload with a background check and preview, export, review, completeness.

Thin: parse, call a service or selector, render. Every view is @scoped + @login_required; whatever is
outside the user's scope (another user's upload, a township they do not cover) answers 404.
Progress is polled with htmx; without JavaScript the status page refreshes itself (meta refresh).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouhu.core.access import access_of, can
from shouhu.core.jurisdiction import acting_user, client_ip, not_found, scoped
from shouhu.core.models import Region
from shouhu.ledger import completeness, live, review
from shouhu.ledger.exporter import ExportError, export_ledger
from shouhu.ledger.models import ImportJob, LedgerReview, ReviewState
from shouhu.ledger.tasks import job_error_workbook, run_job
from shouhu.registry.selectors import regions_for_filter

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ERRORS_SHOWN = 500
STAGES = {
    "read": gettext_lazy("正在读取文件"),
    "validate": gettext_lazy("正在逐行检查"),
    "write": gettext_lazy("正在写入"),
}


def _edit_regions(request: HttpRequest) -> list[Region]:
    return list(regions_for_filter(request.user, "ledger.import"))


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("台账文件（.xlsx / .xls / .csv）"))
    region = forms.ChoiceField(
        label=gettext_lazy("台账所属区域（村级台账没有“所在村”列时必选）"), required=False
    )

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["region"]).choices = [("", _("（表中已有“所在村（居）”列）"))] + [
            (r.code, f"{r.parent.name if r.parent and r.is_village_level else ''}{r.name}") for r in regions
        ]
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ".xlsx,.xls,.csv"})
        self.fields["region"].widget.attrs["class"] = "form-select"


class ExportForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("区域"), required=False)
    layout = forms.ChoiceField(
        label=gettext_lazy("样式"),
        choices=[
            ("official", gettext_lazy("民政部官方样式（附件1）")),
            ("platform", gettext_lazy("本平台样式")),
        ],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("范围"),
        choices=[
            ("left_behind", gettext_lazy("农村留守儿童")),
            ("key_target", gettext_lazy("重点对象")),
            ("all", gettext_lazy("全部儿童档案")),
        ],
    )
    fmt = forms.ChoiceField(label=gettext_lazy("格式"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")])
    reason = forms.CharField(label=gettext_lazy("导出用途（必填，记入访问日志）"), max_length=300)

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["region"]).choices = [("", _("我可见的全部区域"))] + [
            (r.code, f"{r.parent.name if r.parent and r.is_village_level else ''}{r.name}") for r in regions
        ]
        for name, f in self.fields.items():
            f.widget.attrs["class"] = "form-control" if name == "reason" else "form-select"


def _own_job(request: HttpRequest, pk: Any) -> ImportJob:
    job = (
        ImportJob.objects.filter(pk=pk, user=acting_user(request))
        .select_related("region")
        .defer("content")  # the encrypted upload is read only to build the error report
        .first()
    )
    if job is None or not can(request.user, "ledger.import"):
        raise not_found()
    return job


@scoped("ledger.import")
@login_required
def ledger_home(request: HttpRequest) -> HttpResponse:
    jobs = ImportJob.objects.filter(user=acting_user(request)).defer("content")[:10]
    return render(request, "ledger/home.html", {"jobs": jobs, "can_import": True})


@scoped("ledger.import")
@login_required
def ledger_upload(request: HttpRequest) -> HttpResponse:
    regions = _edit_regions(request)
    form = UploadForm(request.POST or None, request.FILES or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        code = form.cleaned_data.get("region") or ""
        region = Region.objects.filter(code=code).first() if code else None
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", _("文件超过 50 MB，请按乡镇或村拆分后再上传。"))
        else:
            job = ImportJob.objects.create(
                user=acting_user(request), region=region, filename=upload.name[:200], content=upload.read()
            )
            run_job(str(job.pk))
            return redirect("web:ledger_job", pk=job.pk)
    return render(request, "ledger/upload.html", {"form": form})


@scoped("ledger.import", obj="import_job")
@login_required
@never_cache
def ledger_job(request: HttpRequest, pk: Any) -> HttpResponse:
    job = _own_job(request, pk)
    summary = job.summary or {}
    errors = summary.get("errors", [])
    now = live.current(job.pk) if job.running else None
    if now is not None:
        job.progress = max(job.progress, now["progress"])
    context = {
        "job": job,
        "stage": STAGES.get(now["stage"], "") if now else "",
        "summary": summary,
        "errors": errors[:ERRORS_SHOWN],
        "errors_more": max(0, len(errors) - ERRORS_SHOWN),
        "ready": job.state == ImportJob.State.READY,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == "job-status":
        return render(request, "ledger/_job_status.html", context)
    return render(request, "ledger/job.html", context)


@scoped("ledger.import", obj="import_job")
@login_required
@require_POST
def ledger_job_cancel(request: HttpRequest, pk: Any) -> HttpResponse:
    job = _own_job(request, pk)
    if job.running:
        live.request_cancel(job.pk)  # a committing import holds its transaction: not the row (live.py)
        if job.state == ImportJob.State.QUEUED:
            ImportJob.objects.filter(pk=job.pk).update(
                cancel_requested=True,
                state=ImportJob.State.CANCELLED,
                content=None,
                finished_at=timezone.now(),
            )
        messages.info(request, _("已请求取消；未写入任何数据。"))
    return redirect("web:ledger_job", pk=job.pk)


@scoped("ledger.import", obj="import_job")
@login_required
@require_POST
def ledger_job_commit(request: HttpRequest, pk: Any) -> HttpResponse:
    job = _own_job(request, pk)
    if job.state != ImportJob.State.READY:
        messages.error(request, _("该文件当前不能导入。"))
        return redirect("web:ledger_job", pk=job.pk)
    accept_valid = request.POST.get("accept_valid") == "1"
    invalid = (job.summary or {}).get("invalid", 0)
    if invalid and not accept_valid:
        messages.error(request, _("有无效行，不能全部导入。请修改后重新上传，或选择“只导入有效行”。"))
        return redirect("web:ledger_job", pk=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.COMMITTING, accept_valid=accept_valid, progress=0, cancel_requested=False
    )
    live.clear(job.pk)
    run_job(str(job.pk), commit=True)
    return redirect("web:ledger_job", pk=job.pk)


@scoped("ledger.import", obj="import_job")
@login_required
def ledger_job_errors(request: HttpRequest, pk: Any) -> HttpResponse:
    job = _own_job(request, pk)
    if not job.summary:
        raise not_found()
    data = job_error_workbook(job)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stem = job.filename.rsplit(".", 1)[0]
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(stem + '-错误报告.xlsx')}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@scoped("ledger.export")
@login_required
def ledger_export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None, regions=regions_for_filter(request.user, "ledger.export"))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        region = Region.objects.filter(code=d["region"]).first() if d["region"] else None
        fmt = d["fmt"]
        response = HttpResponse(
            content_type="text/csv; charset=utf-8"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        try:
            import io

            buf = io.BytesIO()
            export_ledger(
                buf,
                user=acting_user(request),
                reason=d["reason"],
                region=region,
                layout=d["layout"],
                status=d["status"],
                fmt=fmt,
                ip=client_ip(request),
            )
        except ExportError as exc:
            form.add_error(None, str(exc))
        else:
            response.write(buf.getvalue())
            name = f"台账-{region.name if region else '全部'}-{timezone.localdate():%Y%m%d}.{fmt}"
            response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
            return response
    return render(request, "ledger/export.html", {"form": form})


REVIEW_CAPABILITIES = ("ledger.submit", "ledger.review", "ledger.approve")


def _townships(request: HttpRequest) -> list[Region]:
    """Townships whose ledger the user takes part in: over the township, or a village inside it."""
    access = access_of(request.user)
    prefixes = [p for c in REVIEW_CAPABILITIES for p in access.prefixes(c)]
    return [
        r
        for r in Region.objects.filter(kind__in=("subdistrict", "town", "township")).order_by("code")
        if any(r.code.startswith(p) or p.startswith(r.prefix) for p in prefixes)
    ]


@scoped("ledger.import")
@login_required
def ledger_review(request: HttpRequest) -> HttpResponse:
    towns = _townships(request)
    if not towns:
        raise Http404()
    reviews = {r.township_id: r for r in LedgerReview.objects.filter(township__in=towns)}
    rows = []
    for t in towns:
        rv = reviews.get(t.code) or LedgerReview(township=t)
        rows.append(
            {
                "township": t,
                "review": rv,
                "state": ReviewState(rv.state).label,
                "steps": list(rv.steps.select_related("actor")) if rv.pk and t.code in reviews else [],
                "transitions": review.allowed(acting_user(request), rv),
            }
        )
    return render(request, "ledger/review.html", {"rows": rows})


@scoped("ledger.import", obj="township")
@login_required
@require_POST
def ledger_review_transition(request: HttpRequest, code: str) -> HttpResponse:
    town = next((t for t in _townships(request) if t.code == code), None)
    if town is None:
        raise not_found()
    try:
        review.transition(
            actor=acting_user(request),
            township=town,
            to=request.POST.get("to", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, _("已更新“%(t)s”台账的审核状态。") % {"t": town.name})
    return redirect(reverse("web:ledger_review") + f"#t-{town.code}")


@scoped("ledger.import")
@login_required
def ledger_completeness(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("region") or ""
    region = Region.objects.filter(code=code).first() if code else None
    if region is not None and not can(request.user, "ledger.import", region.code):
        region = None
    towns = completeness.figures(acting_user(request), region=region)
    return render(
        request,
        "ledger/completeness.html",
        {"towns": towns, "has_visits": completeness._visit_model() is not None},
    )
