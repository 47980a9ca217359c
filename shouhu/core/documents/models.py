"""Generated documents (R11.6) and attachments (R11.3): metadata rows and their encrypted contents.

Part of the `core` app (imported by `core/models.py`). The bytes live in `StoredFile`, encrypted with
the file key (`storage.py`), in the database itself: a document or an upload and its event commit in one
transaction (nothing half-written), and `backup` carries them while the key stays outside (operations.md).
Rows name the record they belong to by an owner type and id (`owners.py`), never by a foreign key, so
core does not depend on the apps that own the records.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.crypto import EncryptedTextField
from shouhu.core.models import User


class StoredFile(models.Model):
    """Encrypted bytes (a Fernet token). Kept apart so that listing metadata never loads contents."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("加密文件")
        verbose_name_plural = _("加密文件")

    def __str__(self) -> str:
        return str(self.id)


class GeneratedDocument(models.Model):
    """One PDF the platform issued: who, when, which kind, about which record, from which version of the
    data, its SHA-256 and the verification code printed on it. Sealed in the event chain when created."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("验证码"), max_length=16, unique=True)
    kind = models.CharField(_("文书类别"), max_length=64)
    owner_type = models.CharField(max_length=40)
    owner_id = models.CharField(max_length=64)
    child_id = models.CharField(max_length=64, blank=True, db_index=True)
    region_code = models.CharField(max_length=12, blank=True)
    issuer = models.CharField(_("出具单位"), max_length=200)
    issued_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("生成人"))
    data_version = models.CharField(_("数据版本"), max_length=40, blank=True)
    data_hash = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    pages = models.PositiveSmallIntegerField(default=1)
    # Full identifiers printed (the generating user's duty covers them): only such users may open it again.
    identifiers_shown = models.BooleanField(default=False)
    # The field groups of the child's file it prints (registry/fields.py): it opens only for readers who
    # see all of them (a school's copy of a file prints less than the village's).
    groups = models.JSONField(_("包含的档案内容"), default=list, blank=True)
    content = models.OneToOneField(StoredFile, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("生成文书")
        verbose_name_plural = _("生成文书")
        indexes = [models.Index(fields=["owner_type", "owner_id", "issued_at"], name="document_owner")]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}"


class AttachmentCategory(models.TextChoices):
    SIGNED_AGREEMENT = "signed_agreement", _("签字的协议/确认书")
    COURT_DECISION = "court_decision", _("法院判决/裁定书")
    PHOTO = "photo", _("照片")
    SCHOOL_REPORT = "school_report", _("学校报告/成绩单")
    CERTIFICATE = "certificate", _("证明材料")
    OTHER = "other", _("其他材料")


class Attachment(models.Model):
    """A file attached to a record (a child's file, an agreement, a case, a petition …), stored encrypted
    and visible only to those who may see that record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_type = models.CharField(max_length=40)
    owner_id = models.CharField(max_length=64)
    child_id = models.CharField(max_length=64, blank=True, db_index=True)
    region_code = models.CharField(max_length=12, blank=True)
    category = models.CharField(_("类别"), max_length=20, choices=AttachmentCategory.choices)
    # The name the uploader's device gave it: may name the child, so encrypted like other child data.
    filename = EncryptedTextField(_("文件名"))
    note = EncryptedTextField(_("说明"), blank=True, default="")
    file_type = models.CharField(_("文件类型"), max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    removed_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    removed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    content = models.OneToOneField(
        StoredFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        indexes = [models.Index(fields=["owner_type", "owner_id", "uploaded_at"], name="attachment_owner")]

    def __str__(self) -> str:
        return f"{self.owner_type}:{self.owner_id} {self.category} {self.id}"
