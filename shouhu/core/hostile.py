"""Refuse a NUL character anywhere in a request's address or form (issue 10 part 9): no field means
one, PostgreSQL cannot store or even compare one (psycopg raises ValueError, a 500), and the embedded
SQLite would store it silently. One check before any view, rather than one in every filter and form.
JSON bodies are checked by the API's parser (`core/api.JSONParser`); uploads are files, not text."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

FORM = "application/x-www-form-urlencoded"


def _holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if any("\x00" in k or "\x00" in v for k, values in request.GET.lists() for v in [k, *values]):
        return True
    if request.method == "POST" and request.content_type == FORM:
        return any("\x00" in v for k, values in request.POST.lists() for v in [k, *values])
    return False


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _holds_nul(request):
            message = _("请求中不能包含空字符（%00 或 \\u0000），请删除后重新提交。")
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": [message]}, status=400, json_dumps_params={"ensure_ascii": False}
                )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
