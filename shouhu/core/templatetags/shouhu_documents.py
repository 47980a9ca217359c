"""`{% documents_panel "registry.child" child %}`: a record's documents and attachments, on its page."""

from __future__ import annotations

from typing import Any

from django import template

from shouhu.core.documents.selectors import panel

register = template.Library()


@register.inclusion_tag("documents/_panel.html", takes_context=True)
def documents_panel(context: template.Context, owner_code: str, record: Any, title: str = "") -> dict[str, Any]:
    request = context["request"]
    return {
        "panel": panel(request.user, owner_code, record),
        "title": title,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
