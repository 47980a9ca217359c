from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "shouhu.services"
    label = "services"
    verbose_name = _("关爱服务")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_load, sender=self)
        _anchors()


def _anchors() -> None:
    """How this module's rows are reached (core/access.py): through the child's village (the village,
    township and county), by the provider they were offered to or run by (PROVIDER), and a session by
    its volunteer (SELF). A provider is in a region when it serves a village there or is based there."""
    from django.db.models import Q

    from shouhu.core.access import (
        prefix_q,
        register_anchor,
        register_region_anchor,
        register_related_anchors,
    )
    from shouhu.core.capabilities import PROVIDER, REGION, SELF
    from shouhu.services.models import Need, ParentReferral, ParentWish, Poverty, Programme, Provider, Session

    register_anchor(
        Provider,
        REGION,
        lambda ps: Q(
            pk__in=Provider.objects.filter(
                prefix_q("villages__code", ps) | prefix_q("organisation__region__code", ps)
            ).values("pk")
        ),
    )
    register_anchor(Provider, PROVIDER, lambda ids: Q(pk__in=ids), lambda p, ids: p.pk in ids)
    register_region_anchor(Programme, "village__pk", lambda p: p.village_id)
    register_anchor(
        Programme, PROVIDER, lambda ids: Q(provider_id__in=ids), lambda p, ids: p.provider_id in ids
    )
    register_region_anchor(Need, "child__village__pk")
    register_anchor(Need, PROVIDER, lambda ids: Q(provider_id__in=ids), lambda n, ids: n.provider_id in ids)
    register_related_anchors(Session, "programme", Programme)
    register_anchor(Session, SELF, lambda ids: Q(volunteer_id__in=ids), lambda s, ids: s.volunteer_id in ids)
    for model in (ParentWish, ParentReferral, Poverty):
        register_region_anchor(model, "child__village__pk")


def _load(sender: Any = None, **kwargs: Any) -> None:
    from shouhu.services.reference import load_service_types

    load_service_types(using=kwargs.get("using", "default"))
