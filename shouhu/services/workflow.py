"""The service need's workflow in one table on the core engine (DESIGN principle 4; API.md "Services").

`open` → `offered` (to a provider, by the village or township) → `accepted` (by the provider) →
`delivered` (by the provider) → `closed` (by the village, once it has checked); `open`/`offered` can
end `unmet` with a reason; a provider that cannot serve sends the need back to `open`. Timed steps
carry policy limits in days, counted from entering their source state (R8.3).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shouhu.core.workflow import DAYS, Step, Workflow
from shouhu.services.models import NeedState as S

VILLAGE = ("service.need",)  # the village worker, the township supervisor, the county office
PROVIDER = ("service.respond",)  # the provider the need was offered to

NEED_WORKFLOW = Workflow(
    name="service_need",
    states=S,
    initial=S.OPEN,
    final=frozenset({S.CLOSED, S.UNMET}),
    steps=(
        Step(
            (S.OPEN,), S.OFFERED, VILLAGE, _("推送给服务机构"), ("provider",), "service_need_offer_days", DAYS
        ),
        Step((S.OFFERED,), S.ACCEPTED, PROVIDER, _("接收"), (), "service_need_accept_days", DAYS),
        Step((S.OFFERED,), S.OPEN, (*PROVIDER, *VILLAGE), _("退回重新对接"), ("note",)),
        Step((S.ACCEPTED,), S.DELIVERED, PROVIDER, _("已提供服务"), (), "service_need_deliver_days", DAYS),
        Step((S.DELIVERED,), S.CLOSED, VILLAGE, _("核实办结")),
        Step((S.OPEN, S.OFFERED), S.UNMET, VILLAGE, _("无法满足"), ("note",)),
    ),
)

# States in which a need still waits for its service (the unmet-needs list counts these).
WAITING = (S.OPEN, S.OFFERED, S.ACCEPTED)
