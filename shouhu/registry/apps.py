from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "shouhu.registry"
    label = "registry"
    verbose_name = _("儿童档案")

    def ready(self) -> None:
        from django.db.models import Q

        from shouhu.core.access import register_anchor, register_region_anchor, register_related_anchors
        from shouhu.core.capabilities import SCHOOL
        from shouhu.registry.models import Agreement, Child

        # A child is in a region through its village, and is a school's pupil through its school.
        register_region_anchor(Child, "village__pk", lambda c: c.village_id)
        register_anchor(Child, SCHOOL, lambda ids: Q(school_id__in=ids), lambda c, ids: c.school_id in ids)
        # An agreement is reached as its child is (documents and attachments fetch it with child.family).
        register_related_anchors(Agreement, "child", Child)

        # The file and the agreement as owners of documents and attachments, and their documents.
        from shouhu.registry import documents  # noqa: F401
