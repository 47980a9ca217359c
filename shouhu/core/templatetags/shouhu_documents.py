"""Documents and attachments on a record's page (core's document service, R11.6):

{% load shouhu_documents %}
{% documents_panel "registry.child" child %}                 one record
{% documents_panels "care.visit" visits as panels %}          many records, two queries
{% for v in visits %}{% with panel=panels|panel_for:v %}{% include "documents/_panel.html" %}{% endwith %}{% endfor %}
"""

from __future__ import annotations

from typing import Any

from django import template

from shouhu.core.documents import vcode
from shouhu.core.documents.selectors import panel, panels

register = template.Library()


@register.inclusion_tag("documents/_panel.html", takes_context=True)
def documents_panel(
    context: template.Context, owner_code: str, record: Any, title: str = ""
) -> dict[str, Any]:
    request = context["request"]
    return {
        "panel": panel(request.user, owner_code, record),
        "title": title,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.simple_tag(takes_context=True)
def documents_panels(context: template.Context, owner_code: str, records: Any) -> dict[str, Any]:
    return panels(context["request"].user, owner_code, list(records))


@register.filter
def panel_for(panels_by_id: dict[str, Any], record: Any) -> Any:
    return panels_by_id.get(str(record.pk))


@register.filter
def grouped_code(code: str) -> str:
    """A verification code as printed: 7K3F-9QX2-MM4T-8ZPA."""
    return vcode.grouped(code or "")
