from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "shouhu.care"
    label = "care"
    verbose_name = _("关爱与预警")
