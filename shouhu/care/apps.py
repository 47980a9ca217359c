from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "shouhu.care"
    label = "care"
    verbose_name = _("关爱与预警")

    def ready(self) -> None:
        # A visit as owner of documents and attachments, and its visit record sheet.
        from shouhu.care import documents  # noqa: F401
