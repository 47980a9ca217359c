from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "shouhu.registry"
    label = "registry"
    verbose_name = _("儿童档案")

    def ready(self) -> None:
        # The file and the agreement as owners of documents and attachments, and their documents.
        from shouhu.registry import documents  # noqa: F401
