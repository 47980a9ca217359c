"""Login failures and locks, hashed API tokens and the first-login password change (R11.4, issue 10).

Data only; the rules and writes are in `lockout.py`, `tokens.py` and `services.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginFailure(models.Model):
    """One failed login (wrong password, wrong second factor), counted per username and per address."""

    username = models.CharField(_("用户名"), max_length=150)  # lower-cased
    address = models.CharField(_("网络地址"), max_length=45, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    reason = models.CharField(_("原因"), max_length=16, default="password")

    class Meta:
        verbose_name = _("登录失败")
        verbose_name_plural = _("登录失败")
        indexes = [
            models.Index(fields=["username", "at"], name="loginfailure_user_at"),
            models.Index(fields=["address", "at"], name="loginfailure_addr_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.address} {self.at:%Y-%m-%d %H:%M}"


class LockKind(models.TextChoices):
    USERNAME = "username", _("用户名")
    ADDRESS = "address", _("网络地址")


class LoginLock(models.Model):
    """A username or an address refused until `until` (or until someone lifts the lock)."""

    kind = models.CharField(_("类别"), max_length=8, choices=LockKind.choices)
    key = models.CharField(_("用户名或地址"), max_length=150)
    locked_at = models.DateTimeField(_("锁定时间"), default=timezone.now)
    until = models.DateTimeField(_("锁定至"))
    failures = models.PositiveIntegerField(_("失败次数"), default=0)
    # The region the locked account works in (its first role's), so a supervisor sees their own users'
    # locks; empty for an address or an unknown username (county level only).
    region_code = models.CharField(_("区划"), max_length=12, blank=True)
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("登录锁定")
        verbose_name_plural = _("登录锁定")
        indexes = [models.Index(fields=["kind", "key", "until"], name="loginlock_key_until")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"


class TokenKind(models.TextChoices):
    LOGIN = "login", _("登录令牌")
    SERVICE = "service", _("系统对接令牌")


class ApiToken(models.Model):
    """An API token: only its SHA-256 digest is stored (the key is shown once). A login token lives
    `api_token_hours`; a service token (for another system) is issued by a holder of `auth.tokens`,
    acts as its issuer restricted to `capabilities`, and lives until `expires_at` or revocation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("前缀"), max_length=8)
    kind = models.CharField(_("类别"), max_length=8, choices=TokenKind.choices, default=TokenKind.LOGIN)
    label = models.CharField(_("用途"), max_length=100, blank=True)
    capabilities = models.JSONField(_("权限"), default=list, blank=True)
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("吊销原因"), max_length=32, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_revoked")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.label or self.kind})"


class PasswordChangeRequired(models.Model):
    """The account must choose its own password before anything else (set by an administrator)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    since = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.user_id)
