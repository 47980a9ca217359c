"""`{% need_buttons child visit %}`: the one-tap service needs under a visit on the care page (R8.3),
shown only to a user who may record a need for this child."""

from __future__ import annotations

from typing import Any

from django import template

from shouhu.core.access import can
from shouhu.services.models import ServiceType

register = template.Library()


@register.inclusion_tag("services/_need_buttons.html", takes_context=True)
def need_buttons(context: Any, child: Any, visit: Any = None) -> dict[str, Any]:
    user = context["request"].user
    types = list(ServiceType.objects.filter(active=True)[:8]) if can(user, "service.need", child) else []
    return {"child": child, "visit": visit, "types": types, "csrf_token": context.get("csrf_token")}
