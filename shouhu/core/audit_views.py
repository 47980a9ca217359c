"""The auditor's pages (R11.2; `audit.view`): the sealed change events, the access log — who read which
child, when, how many files, with which query and why — activity per user with flagged anomalies, and
CSV exports of both logs. Filters: user, child, date range, action (or verb)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from shouhu.core import audit
from shouhu.core.access import access_of
from shouhu.core.jurisdiction import acting_user, scoped
from shouhu.core.models import AccessLog

PAGE = 50
CSV_MAX = 100_000


def _filters(request: HttpRequest) -> tuple[audit.AuditFilters, dict[str, str]]:
    try:
        return audit.filters_from(request.GET), {}
    except audit.FilterError as exc:
        return audit.AuditFilters(), {exc.field: exc.message}


def _sees_reporters(request: HttpRequest) -> bool:
    return access_of(request.user).has("case.reporter")


def _context(request: HttpRequest, qs: Any, errors: dict[str, str]) -> dict[str, Any]:
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page": Paginator(qs, PAGE).get_page(request.GET.get("page")),
        "errors": errors,
        "values": request.GET,
        "querystring": query.urlencode(),
    }


@scoped("audit.view")
@login_required
@never_cache
def events(request: HttpRequest) -> HttpResponse:
    f, errors = _filters(request)
    context = _context(request, audit.events_for(acting_user(request), f), errors)
    sees = _sees_reporters(request)
    context["rows"] = [audit.event_row(e, sees) for e in context["page"].object_list]
    return render(request, "core/audit/events.html", context)


@scoped("audit.view")
@login_required
@never_cache
def access(request: HttpRequest) -> HttpResponse:
    f, errors = _filters(request)
    context = _context(request, audit.access_for(acting_user(request), f), errors)
    context["actions"] = AccessLog.Action.choices
    return render(request, "core/audit/access.html", context)


@scoped("audit.view")
@login_required
@never_cache
def activity(request: HttpRequest) -> HttpResponse:
    f, errors = _filters(request)
    until = f.until or timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    since = f.since or until - timedelta(days=7)
    rows = audit.activity(acting_user(request), since, until)
    return render(
        request,
        "core/audit/activity.html",
        {
            "rows": rows,
            "since": since,
            "until": until - timedelta(days=1),
            "errors": errors,
            "values": request.GET,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(name: str, header: list[str], rows: Iterator[list[Any]]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def stream() -> Iterator[str]:
        yield "\ufeff"  # Excel opens UTF-8 CSV correctly with a BOM
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(["'" + c if isinstance(c, str) and c[:1] in "=+-@" else c for c in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y%m%d}.csv"'
    return response


def _iso(value: Any) -> str:
    return timezone.localtime(value).isoformat() if value else ""


@scoped("audit.view")
@login_required
def events_csv(request: HttpRequest) -> HttpResponseBase:
    f, errors = _filters(request)
    if errors:
        return HttpResponse("; ".join(errors.values()), status=400, content_type="text/plain; charset=utf-8")
    sees = _sees_reporters(request)
    qs = audit.events_for(acting_user(request), f)[:CSV_MAX]
    header = [
        "seq",
        "at",
        "user",
        "verb",
        "subject_type",
        "subject_id",
        "child",
        "region",
        "visibility",
        "fields",
        "summary",
    ]

    def rows() -> Iterator[list[Any]]:
        for e in qs.iterator(chunk_size=2000):
            r = audit.event_row(e, sees)
            yield [
                r["seq"],
                _iso(r["at"]),
                r["user"] or "",
                r["verb"],
                r["subject_type"],
                r["subject_id"],
                r["child"] or "",
                r["region"] or "",
                r["visibility"],
                " ".join(r["fields"]),
                r["summary"] or "",
            ]

    return _csv("audit-events", header, rows())


@scoped("audit.view")
@login_required
def access_csv(request: HttpRequest) -> HttpResponseBase:
    f, errors = _filters(request)
    if errors:
        return HttpResponse("; ".join(errors.values()), status=400, content_type="text/plain; charset=utf-8")
    qs = audit.access_for(acting_user(request), f)[:CSV_MAX]
    header = ["seq", "at", "user", "action", "child", "count", "query", "identifiers", "detail", "ip"]

    def rows() -> Iterator[list[Any]]:
        for a in qs.iterator(chunk_size=2000):
            yield [
                a.seq,
                _iso(a.at),
                a.user.username,
                a.action,
                a.child_id,
                a.count,
                a.query,
                "1" if a.identifiers else "0",
                a.detail,
                a.ip or "",
            ]

    return _csv("access-log", header, rows())
