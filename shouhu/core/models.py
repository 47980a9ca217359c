"""Regions, organisations, users and roles, the event timeline, access log, code lists and policy data.

Models hold data and invariants only; writes go through services (DESIGN principle 2).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.capabilities import ROLE_CHOICES


class RegionKind(models.TextChoices):
    COUNTY = "county", _("县")
    SUBDISTRICT = "subdistrict", _("街道")
    TOWN = "town", _("镇")
    TOWNSHIP = "township", _("乡")
    VILLAGE = "village", _("村委会")
    COMMUNITY = "community", _("居委会")


LEVEL_OF_KIND = {
    RegionKind.COUNTY: 1,
    RegionKind.SUBDISTRICT: 2,
    RegionKind.TOWN: 2,
    RegionKind.TOWNSHIP: 2,
    RegionKind.VILLAGE: 3,
    RegionKind.COMMUNITY: 3,
}
# Digits of the 12-digit statistical division code that identify a region at each level: county 6,
# township-level 9, village-level 12. A subtree is then a prefix (no join, one indexed LIKE).
PREFIX_LENGTH = {1: 6, 2: 9, 3: 12}


class Region(models.Model):
    """A county, township-level or village-level unit, keyed by its 12-digit statistical code.

    Codes change over time (three 乡 became 镇 in 2016), hence the effective dates.
    """

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=12, choices=RegionKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    valid_from = models.DateField(_("生效日期"), default=date(2016, 1, 1))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据"), default=False, help_text=_("生成的演示村，非官方区划"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.name

    @property
    def level(self) -> int:
        return LEVEL_OF_KIND[RegionKind(self.kind)]

    @property
    def prefix(self) -> str:
        return self.code[: PREFIX_LENGTH[self.level]]

    @property
    def is_village_level(self) -> bool:
        return self.level == 3


class OrganisationKind(models.TextChoices):
    GOVERNMENT = "government", _("政府")
    LEADING_GROUP_UNIT = "leading_group_unit", _("领导小组成员单位")
    TOWNSHIP_GOVERNMENT = "township_government", _("乡镇人民政府（街道办事处）")
    VILLAGE_COMMITTEE = "village_committee", _("村（居）民委员会")
    SCHOOL = "school", _("学校")
    KINDERGARTEN = "kindergarten", _("幼儿园")
    CLINIC = "clinic", _("医疗机构")
    POLICE_STATION = "police_station", _("派出所")
    SOCIAL_WORK = "social_work", _("社会工作服务机构")
    MASS_ORGANISATION = "mass_organisation", _("群团组织")
    JUDICIAL = "judicial", _("司法机关")
    OTHER = "other", _("其他")


class Organisation(models.Model):
    """A unit that users belong to: a bureau, township government, village committee, school, clinic,
    police station, agency. `region` is the area it is in or serves (a station's jurisdiction)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类别"), max_length=24, choices=OrganisationKind.choices)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="organisations", verbose_name=_("所在/服务区域")
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="units")
    leading_group_member = models.BooleanField(_("领导小组成员单位"), default=False)
    duties = models.TextField(_("职责"), blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    class Meta:
        ordering = ["region_id", "name"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in. What they may see comes only from their active role assignments."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("所属单位"),
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def active(self, at: Any = None) -> RoleAssignmentQuerySet:
        at = at or timezone.now()
        return self.filter(Q(starts_at__lte=at), Q(expires_at__isnull=True) | Q(expires_at__gt=at))


class RoleAssignment(models.Model):
    """A role held by a user over a scope: a region subtree or an organisation, optionally expiring."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("角色"), max_length=24, choices=ROLE_CHOICES)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("辖区")
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("单位")
    )
    starts_at = models.DateTimeField(_("生效时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.CheckConstraint(
                condition=Q(region__isnull=False) | Q(organisation__isnull=False),
                name="role_assignment_has_scope",
                violation_error_message=_("角色授权必须指定辖区或单位。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region or self.organisation}"


class Event(models.Model):
    """Append-only record of every write (R11.2): who, what, when, before and after.

    Events form a hash chain (`seq`, `prev_hash`, `hash`) so that an edited or deleted row is detected
    by `manage.py verify_audit`. The chain head is locked while events are appended (see events.py).
    """

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verb = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=40)
    subject_id = models.CharField(max_length=64)
    # The child whose timeline shows this event (if any): kept as a plain string so core does not depend
    # on the registry app, and indexed for the file page's timeline.
    child_id = models.CharField(max_length=64, blank=True, db_index=True)
    region_code = models.CharField(max_length=12, blank=True, db_index=True)
    summary = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Who may see the event on a timeline (core/visibility.py); sealed with the event. Empty for events
    # recorded before classes existed: their class is read from the verb.
    visibility = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.verb} {self.subject_type}:{self.subject_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("events are append-only")


class AuditChainHead(models.Model):
    """One row holding the last event's sequence number and hash; locked to append to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"chain head #{self.last_seq}"


class AccessLog(models.Model):
    """Every read of child data (R11.2, R11.3): a file, a list page, a search, a form, an export, a
    reveal of an identifier, a look-up — with the number of files read and the query.

    Rows are sealed one by one (a keyed MAC over the row and its `seq`) and numbered without gaps, and
    `AccessLogHead` holds the sealed range still kept: an edited, deleted or forged row is detected by
    `verify_audit` (core/accesslog.py). Retention removes the oldest rows and moves the range's start.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("查看档案")
        LIST = "list", _("浏览列表")
        SEARCH = "search", _("查找")
        FORM = "form", _("打开编辑表单")
        CARE = "care", _("查看关爱记录")
        CASE = "case", _("查看救助保护个案")
        REFERRAL = "referral", _("查看转介")
        REVEAL = "reveal", _("查看完整证件号码或电话")
        LOOKUP = "lookup", _("证件号码查询")
        EXPORT = "export", _("导出")
        API_READ = "api_read", _("接口读取档案")
        API_LIST = "api_list", _("接口读取列表")
        GENERATE = "generate", _("出具文书")
        DOCUMENT = "document", _("下载文书")
        DOWNLOAD = "download", _("下载附件")

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=12, choices=Action.choices)
    child_id = models.CharField(max_length=64, blank=True, db_index=True)
    region_code = models.CharField(max_length=12, blank=True)
    count = models.PositiveIntegerField(_("档案数"), default=0)
    query = models.CharField(_("查询条件"), max_length=500, blank=True)
    identifiers = models.BooleanField(_("含完整证件号码或电话"), default=False)
    detail = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("访问日志")
        verbose_name_plural = _("访问日志")
        indexes = [models.Index(fields=["user", "at"], name="accesslog_user_at")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.child_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("access log rows are append-only")
        super().save(*args, **kwargs)


class AccessLogHead(models.Model):
    """The sealed range of access-log rows kept: `first_seq`..`last_seq` (first > last when empty)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    first_seq = models.BigIntegerField(default=1)
    last_seq = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"access log #{self.first_seq}–#{self.last_seq}"


class Code(models.Model):
    """One entry of a code list (ethnicity GB/T 3304, relationship GB/T 4761, …): data, not code."""

    list = models.CharField(_("代码表"), max_length=40)
    code = models.CharField(_("代码"), max_length=40)
    name_zh = models.CharField(_("中文名称"), max_length=300)
    name_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    note = models.TextField(_("说明"), blank=True)
    sort = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["list", "sort", "code"]
        constraints = [models.UniqueConstraint(fields=["list", "code"], name="code_unique_in_list")]
        verbose_name = _("代码")
        verbose_name_plural = _("代码表")

    def __str__(self) -> str:
        return f"{self.list}:{self.code} {self.name_zh}"


class PolicyParameter(models.Model):
    """A number or date the county's policy sets (thresholds, frequencies, time limits): editable data."""

    key = models.CharField(_("参数"), max_length=64, primary_key=True)
    value = models.JSONField(_("取值"))
    description = models.CharField(_("说明"), max_length=300)
    source = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("政策参数")
        verbose_name_plural = _("政策参数")

    def __str__(self) -> str:
        return self.key


# Generated documents and attachments (R11.6) live in their own module of this app; imported here so
# Django registers them with the core app.
from shouhu.core.documents.models import (  # noqa: E402, F401
    Attachment,
    AttachmentCategory,
    GeneratedDocument,
    StoredFile,
)
