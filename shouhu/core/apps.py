from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "shouhu.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from shouhu.core.reference import load_reference_data

        # Reference data (regions, code lists, policy defaults) is inserted where missing after every
        # migrate, so a fresh database and the test database both have it; an administrator's edits are
        # never overwritten.
        post_migrate.connect(load_reference_data, sender=self)
        from shouhu.core import checks  # noqa: F401 (registers the system checks)
