from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolingConfig(AppConfig):
    """控辍保学、普查登记、结对帮扶、家校联系 (R4, R1.10; issue 13)."""

    name = "shouhu.schooling"
    label = "schooling"
    verbose_name = _("教育关爱")

    def ready(self) -> None:
        from shouhu.schooling import anchors, documents  # noqa: F401

        anchors.register()
