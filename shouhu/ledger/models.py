"""Ledger jobs and reviews (R1.9): an upload being analysed or committed in the background, and the
fill → review → approve state of a township's ledger with who and when."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.crypto import EncryptedBinaryField
from shouhu.core.models import Region, User


class ImportJob(models.Model):
    """A workbook uploaded in the browser: analysed (preview), then committed, by a huey task."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        ANALYSING = "analysing", _("正在检查")
        READY = "ready", _("检查完成")
        COMMITTING = "committing", _("正在导入")
        DONE = "done", _("已导入")
        FAILED = "failed", _("无法使用")
        CANCELLED = "cancelled", _("已取消")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("文件名"), max_length=200)
    # The upload, encrypted with the file key, kept only while the job runs or waits to be committed:
    # None once the job ends (tasks.py) or after `ledger_upload_keep_hours` (scan.py) (issue 10 part 5).
    content = EncryptedBinaryField(null=True, blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    accept_valid = models.BooleanField(default=False)
    cancel_requested = models.BooleanField(default=False)
    summary = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("台账导入")
        verbose_name_plural = _("台账导入")

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"

    @property
    def running(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.ANALYSING, self.State.COMMITTING)


class ReviewState(models.TextChoices):
    FILLING = "filling", _("填报中")
    SUBMITTED = "submitted", _("待乡镇审核")
    REVIEWED = "reviewed", _("乡镇已审核，待县审批")
    APPROVED = "approved", _("县已审批")


class LedgerReview(models.Model):
    """The state of one township's ledger (R1.9 填报 → 审核 → 审批)."""

    township = models.OneToOneField(Region, on_delete=models.PROTECT, related_name="+", primary_key=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=ReviewState.choices, default=ReviewState.FILLING
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("台账审核")
        verbose_name_plural = _("台账审核")

    def __str__(self) -> str:
        return f"{self.township_id} {self.state}"


class ReviewStep(models.Model):
    """One transition, with who, when and why."""

    review = models.ForeignKey(LedgerReview, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(max_length=10, choices=ReviewState.choices)
    to_state = models.CharField(max_length=10, choices=ReviewState.choices)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state}→{self.to_state}"
