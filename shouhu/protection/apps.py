from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    name = "shouhu.protection"
    label = "protection"
    verbose_name = _("救助保护")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # Cases, petitions and reports as owners of documents and attachments; the written answer.
        from shouhu.protection import documents  # noqa: F401

        post_migrate.connect(_load, sender=self)
        _anchors()


def _anchors() -> None:
    """How the protection chain's rows are reached (core/access.py): a case through its village
    (civil affairs, the village's worker) and its station (the police); a child through the cases a
    station holds; a referral as its case is, and by the provider it was sent to."""
    from django.db.models import Q

    from shouhu.core.access import register_anchor, register_region_anchor, register_related_anchors
    from shouhu.core.capabilities import PROVIDER, STATION
    from shouhu.protection.models import Accountability, Case, Petition, Referral, Report
    from shouhu.registry.models import Child

    register_region_anchor(Case, "village__pk", lambda c: c.village_id)
    register_anchor(Case, STATION, lambda ids: Q(station_id__in=ids), lambda c, ids: c.station_id in ids)
    register_anchor(
        Child, STATION, lambda ids: Q(pk__in=Case.objects.filter(station_id__in=ids).values("child_id"))
    )
    register_region_anchor(Referral, "case__village__pk")
    register_anchor(Referral, STATION, lambda ids: Q(case__station_id__in=ids))
    register_anchor(
        Referral, PROVIDER, lambda ids: Q(provider_id__in=ids), lambda r, ids: r.provider_id in ids
    )
    register_region_anchor(Report, "village__pk", lambda r: r.village_id)
    register_region_anchor(Accountability, "region__pk", lambda a: a.region_id)
    # A petition is reached as its case is (documents and attachments fetch it with case.view).
    register_related_anchors(Petition, "case", Case)


def _load(sender: Any = None, **kwargs: Any) -> None:
    from shouhu.protection.reference import load_protection_data

    load_protection_data(using=kwargs.get("using", "default"))
