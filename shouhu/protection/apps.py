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


def _load(sender: Any = None, **kwargs: Any) -> None:
    from shouhu.protection.reference import load_protection_data

    load_protection_data(using=kwargs.get("using", "default"))
