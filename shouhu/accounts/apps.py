from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Logins (R11.4, issue 10 parts 1-3): lockout, the second factor, session limits, hashed API tokens
    and the first-login password change. Kept apart from core so its tables and rules stay in one place."""

    name = "shouhu.accounts"
    label = "accounts"
    verbose_name = _("登录与令牌")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shouhu.accounts import signals  # noqa: F401  (receivers)
