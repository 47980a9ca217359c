from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "shouhu.care"
    label = "care"
    verbose_name = _("关爱与预警")

    def ready(self) -> None:
        from shouhu.care.models import (
            Admonition,
            Alert,
            CareAssignment,
            Compliance,
            GuidanceSession,
            ParentContact,
            Visit,
        )
        from shouhu.core.access import register_region_anchor, register_related_anchors
        from shouhu.registry.models import Child

        # Alerts and sessions lie in a region; the rows about a child are reached as the child is.
        register_region_anchor(Alert, "region__pk", lambda a: a.region_id)
        register_region_anchor(GuidanceSession, "village__pk", lambda s: s.village_id)
        for model in (ParentContact, Visit, CareAssignment, Admonition, Compliance):
            register_region_anchor(model, "child__village__pk")
            register_related_anchors(model, "child", Child)

        # R2.2: the registry publishes every saved file; care opens or resolves the unattended alert.
        from shouhu.care import hooks
        from shouhu.core.dispatch import CHILD_SAVED, CHILDREN_SAVED, FILE_STATE_CHANGED, subscribe

        subscribe(CHILD_SAVED, hooks.child_saved)
        subscribe(CHILDREN_SAVED, hooks.children_saved)
        subscribe(FILE_STATE_CHANGED, hooks.file_state_changed)

        # A visit as owner of documents and attachments, and its visit record sheet.
        from shouhu.care import documents  # noqa: F401
