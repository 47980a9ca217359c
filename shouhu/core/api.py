"""Shared REST API pieces (API.md): pagination and the error format."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with `?page=` and `?page_size=` (at most 500)."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 500


def request_body(request: Request) -> dict[str, Any]:
    """The request body as a mapping; a JSON array or scalar is a 400, not a crash further down."""
    data = request.data
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"detail": ["请求体须为 JSON 对象"]})
    return data


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "stale_version"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF errors as API.md says; a Django ValidationError from a service becomes a 400 by field; a
    value the database cannot hold (a number past its range, text past its column) is bad input too."""
    if isinstance(exc, DataError):
        exc = exceptions.ValidationError(
            {"detail": [_("输入的数值或文本超出允许的范围，请检查后重新提交。")]}
        )
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
