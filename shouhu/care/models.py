"""Alerts (API.md `/api/v1/alerts/`): one model for every kind, at most one open alert per key.

Other care models (contacts, visits, assignments …) live beside it in this app.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.jurisdiction import prefix_q, scope_of
from shouhu.core.models import Region, User


class AlertKind(models.TextChoices):
    CONTACT_OVERDUE = "contact_overdue", _("本周未与父母联系")
    MEETING_OVERDUE = "meeting_overdue", _("本学期未与父母见面")
    VISIT_OVERDUE = "visit_overdue", _("走访逾期")
    UNATTENDED = "unattended", _("无人监护")
    AGREEMENT_EXPIRED = "agreement_expired", _("委托监护协议到期")
    NO_DESIGNATED_WORKER = "no_designated_worker", _("村（居）未落实儿童主任")
    DEADLINE_BREACHED = "deadline_breached", _("处置环节超时")
    GUARDIAN_ADMONISHED = "guardian_admonished", _("监护人多次劝诫仍不改正")


class AlertQuerySet(models.QuerySet["Alert"]):
    def visible_to(self, user: Any) -> AlertQuerySet:
        """Alerts about places in the user's viewing scope (R11.1); fails closed."""
        return self.filter(prefix_q("region__pk", scope_of(user).view_prefixes))

    def open(self) -> AlertQuerySet:
        return self.filter(resolved_at__isnull=True)


class Alert(models.Model):
    """Something that needs a person to act. `key` identifies what the alert is about
    ("child:<id>", "village:<code>", "case:<id>:<step>"): at most one open alert per kind and key."""

    kind = models.CharField(_("类别"), max_length=32, choices=AlertKind.choices)
    key = models.CharField(max_length=120)
    child = models.ForeignKey(
        "registry.Child", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在区域"))
    message = models.CharField(_("内容"), max_length=300)
    opened_at = models.DateTimeField(_("发出时间"), default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    resolution = models.CharField(_("解除方式"), max_length=10, blank=True)  # "auto" | "manual"
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolution_note = models.CharField(_("处理说明"), max_length=300, blank=True)
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    escalated_to = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key"], condition=Q(resolved_at__isnull=True), name="one_open_alert_per_key"
            ),
        ]
        indexes = [models.Index(fields=["region", "resolved_at"], name="alert_region_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.key}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
