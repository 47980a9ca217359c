"""Hostile input never gives a 500 (issue 10 part 9): the API's JSON parser and filter backend.

Kept apart from `core/api.py` because DRF reads these classes from settings when its views module is
first imported, and that module imports `rest_framework.views` itself.
"""

from __future__ import annotations

from typing import IO, Any

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, parsers
from rest_framework.request import Request

MAX_JSON_DEPTH = 32  # the API's deepest real body (a visit's findings) is 3 levels


def json_problem(data: Any) -> str | None:
    """What makes a parsed body unacceptable, walking it without recursion: nesting deeper than
    MAX_JSON_DEPTH, or text holding a NUL character (PostgreSQL cannot store one; no field means it)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return str(_("请求中的文本不能包含空字符（\\u0000）。"))
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return str(_("JSON 嵌套层数过多（最多 %(n)d 层）。") % {"n": MAX_JSON_DEPTH})
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing (400) what would crash further on: a body nested so deep that the
    decoder gives up (RecursionError), or deeper than MAX_JSON_DEPTH, or text with a NUL character."""

    def parse(self, stream: IO[Any], media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                _("JSON 嵌套层数过多（最多 %(n)d 层）。") % {"n": MAX_JSON_DEPTH}
            ) from None
        problem = json_problem(data)
        if problem:
            raise exceptions.ParseError(problem)
        return data


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, with its errors passed on as they are: its own translation step formats
    each message a second time, so a value holding "%" (`?left_behind=%`) crashed it (TypeError)."""

    def filter_queryset(self, request: Request, queryset: Any, view: Any) -> Any:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            raise exceptions.ValidationError(
                {field: [str(m) for m in messages] for field, messages in filterset.errors.items()}
            )
        return filterset.qs
