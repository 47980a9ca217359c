"""Alerts (API.md `/api/v1/alerts/`): one model for every kind, at most one open alert per key.

Other care models (contacts, visits, assignments …) live beside it in this app.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.access import RestrictedQuerySet
from shouhu.core.models import Region, User


class AlertKind(models.TextChoices):
    CONTACT_OVERDUE = "contact_overdue", _("本周未与父母联系")
    MEETING_OVERDUE = "meeting_overdue", _("本学期未与父母见面")
    VISIT_OVERDUE = "visit_overdue", _("走访逾期")
    UNATTENDED = "unattended", _("无人监护")
    AGREEMENT_EXPIRED = "agreement_expired", _("委托监护协议到期")
    AGREEMENT_MISSING = "agreement_missing", _("委托照料未签订监护协议")
    AGREEMENT_EXPIRING = "agreement_expiring", _("委托监护协议即将到期")
    PLAN_OVERDUE = "plan_overdue", _("一户一策措施逾期未完成")
    CARE_UNCOVERED = "care_uncovered", _("关爱结对结束后无人结对")
    ARCHIVE_DUE = "archive_due", _("已退出留守，建议归档")
    NO_DESIGNATED_WORKER = "no_designated_worker", _("村（居）未落实儿童主任")
    DEADLINE_BREACHED = "deadline_breached", _("处置环节超时")
    GUARDIAN_ADMONISHED = "guardian_admonished", _("监护人多次劝诫仍不改正")
    DROPOUT = "dropout", _("疑似辍学")


class AlertQuerySet(RestrictedQuerySet["Alert"]):
    """`Alert.objects.restrict(user, "alert.view")`: alerts about places in the user's region (R11.1)."""

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
    # The migrant parent a `contact_overdue` alert is about (API.md: the weekly duty is each parent's).
    parent = models.CharField(_("父/母"), max_length=6, blank=True)
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


# --- family duty and village work (R2, R3) ----------------------------------------------------------


class ChildRowQuerySet(RestrictedQuerySet[Any]):
    """Rows about a child (contacts, visits, pairings …): reached as the child is (`care/apps.py`), with
    the capability of what they are — `restrict(user, "child.care")` to read them (R11.1)."""


class ParentContact(models.Model):
    """亲子联系 (R2.1, R2.4): a call, video call or meeting between a parent and the child."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        VIDEO = "video", _("视频")
        IN_PERSON = "in_person", _("见面")

    class Facilitator(models.TextChoices):
        SELF = "self", _("家庭自行联系")
        VILLAGE = "village", _("村（居）协助")
        SCHOOL = "school", _("学校协助")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="parent_contacts")
    parent = models.CharField(
        _("父/母"), max_length=6, choices=[("father", _("父亲")), ("mother", _("母亲"))]
    )
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices)
    facilitated_by = models.CharField(_("协助方"), max_length=8, choices=Facilitator.choices, default="self")
    occurred_at = models.DateTimeField(_("联系时间"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    # Issue 16: the key the browser made for this record, so that a retried post (weak signal, the
    # offline queue sending again) finds the record it already made instead of making a second one.
    client_key = models.UUIDField(_("客户端幂等键"), null=True, blank=True, unique=True, editable=False)

    objects = ChildRowQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("亲子联系")
        verbose_name_plural = _("亲子联系")
        indexes = [
            models.Index(fields=["child", "occurred_at"], name="contact_child_time"),
            models.Index(fields=["occurred_at"], name="contact_time"),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.channel} {self.occurred_at:%Y-%m-%d}"


class Visit(models.Model):
    """走访 (R3.1, R3.2): routine screening, key-target verification, follow-up, with structured findings."""

    class Kind(models.TextChoices):
        ROUTINE = "routine", _("定期走访排查")
        KEY_TARGET_CHECK = "key_target_check", _("重点对象核查")
        FOLLOW_UP = "follow_up", _("随访")

    class VisitorRole(models.TextChoices):
        CHILD_DIRECTOR = "child_director", _("儿童主任")
        PARTY_CADRE = "party_cadre", _("党员干部上门家访")
        RESIDENT_CADRE = "resident_cadre", _("驻村干部探访")
        SOCIAL_WORKER = "social_worker", _("专业社会工作者随访")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="visits")
    occurred_at = models.DateTimeField(_("走访时间"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.ROUTINE)
    visitor_role = models.CharField(
        _("走访人身份"), max_length=20, choices=VisitorRole.choices, default=VisitorRole.CHILD_DIRECTOR
    )
    visitor_name = models.CharField(_("走访人"), max_length=50, blank=True)
    findings = models.JSONField(_("发现情况"), default=dict, blank=True)
    guardianship_rating = models.CharField(_("本次监护情况评估"), max_length=10, blank=True)
    living_alone = models.BooleanField(_("发现儿童单独居住/无人监护"), default=False)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    # Issue 16: see ParentContact.client_key.
    client_key = models.UUIDField(_("客户端幂等键"), null=True, blank=True, unique=True, editable=False)

    objects = ChildRowQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("走访")
        verbose_name_plural = _("走访")
        indexes = [models.Index(fields=["child", "occurred_at"], name="visit_child_time")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.kind} {self.occurred_at:%Y-%m-%d}"


class CareAssignment(models.Model):
    """关爱覆盖 (R3.3): a party member, cadre, proxy parent or volunteer paired with a child."""

    class Kind(models.TextChoices):
        PARTY_MEMBER = "party_member", _("党员结对")
        CADRE = "cadre", _("干部走访")
        PROXY_PARENT = "proxy_parent", _("代理家长")
        VOLUNTEER = "volunteer", _("志愿服务")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="care_assignments")
    kind = models.CharField(_("方式"), max_length=16, choices=Kind.choices)
    person_name = models.CharField(_("姓名"), max_length=50)
    organisation = models.CharField(_("单位"), max_length=100, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = ChildRowQuerySet.as_manager()

    class Meta:
        ordering = ["child_id", "-starts_on", "id"]
        verbose_name = _("关爱结对")
        verbose_name_plural = _("关爱结对")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.person_name}"


class Admonition(models.Model):
    """劝诫、制止 of a guardian who does not perform (R2.3), by the village committee or the police."""

    class Kind(models.TextChoices):
        ADMONISH = "admonish", _("劝诫")
        STOP = "stop", _("制止")

    class Body(models.TextChoices):
        VILLAGE_COMMITTEE = "village_committee", _("村（居）民委员会")
        PUBLIC_SECURITY = "public_security", _("公安机关")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="admonitions")
    kind = models.CharField(_("措施"), max_length=10, choices=Kind.choices)
    by_body = models.CharField(_("实施单位"), max_length=20, choices=Body.choices)
    guardian_name = models.CharField(_("被劝诫人"), max_length=50)
    reason = models.CharField(_("事由"), max_length=300)
    serious = models.BooleanField(_("情节严重"), default=False)
    occurred_at = models.DateTimeField(_("时间"))
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = ChildRowQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("监护人劝诫")
        verbose_name_plural = _("监护人劝诫")

    def __str__(self) -> str:
        return f"{self.child_id} {self.kind} {self.occurred_at:%Y-%m-%d}"


class GuidanceSessionQuerySet(RestrictedQuerySet["GuidanceSession"]):
    """Sessions of the villages in the user's region: `restrict(user, "care.record")`."""


class GuidanceSession(models.Model):
    """监护指导、法治宣传 (R3.5): who held it, when, and who attended."""

    class Kind(models.TextChoices):
        GUARDIAN_GUIDANCE = "guardian_guidance", _("监护指导")
        LEGAL_PUBLICITY = "legal_publicity", _("法治宣传")

    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("村（居）")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    held_on = models.DateField(_("日期"))
    topic = models.CharField(_("主题"), max_length=200)
    held_by = models.CharField(_("主讲/组织"), max_length=100)
    attendance = models.PositiveIntegerField(_("参加人数"), default=0)
    children = models.ManyToManyField(
        "registry.Child", blank=True, related_name="guidance_sessions", verbose_name=_("参加的儿童家庭")
    )
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = GuidanceSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("指导与宣传活动")
        verbose_name_plural = _("指导与宣传活动")

    def __str__(self) -> str:
        return f"{self.held_on} {self.topic}"


class Semester(models.Model):
    """The semester calendar as data (R2.1): a row overrides the policy default for that year and term."""

    class Term(models.TextChoices):
        SPRING = "spring", _("春季学期")
        AUTUMN = "autumn", _("秋季学期")

    year = models.PositiveSmallIntegerField(_("学年起始年份"))
    term = models.CharField(_("学期"), max_length=6, choices=Term.choices)
    starts_on = models.DateField(_("开学日期"))
    ends_on = models.DateField(_("结束日期"))

    class Meta:
        ordering = ["starts_on"]
        verbose_name = _("学期")
        verbose_name_plural = _("学期")
        constraints = [
            models.UniqueConstraint(fields=["year", "term"], name="one_semester_per_term"),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="semester_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_term_display()}"


class Compliance(models.Model):
    """History of parents' contact duty per child (R2.1): one row per completed ISO week or semester."""

    class Period(models.TextChoices):
        WEEK = "week", _("周")
        SEMESTER = "semester", _("学期")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="compliance")
    period = models.CharField(max_length=8, choices=Period.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    label = models.CharField(max_length=20)  # "2026-W10", "2026 spring"
    # Weeks are counted per migrant parent ("father" | "mother"); a semester per child ("").
    parent = models.CharField(max_length=6, blank=True, default="")
    met = models.BooleanField()
    count = models.PositiveIntegerField(default=0)

    objects = ChildRowQuerySet.as_manager()

    class Meta:
        ordering = ["child_id", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "period", "period_start", "parent"], name="one_compliance_per_parent_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.label} {'✓' if self.met else '✗'}"


class Notification(models.Model):
    """An in-app message to a user about an alert (opened, escalated); e-mail copies are sent with it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    reason = models.CharField(max_length=16)  # "opened" | "escalated"
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "alert", "reason"], name="one_notification_per_reason")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.reason} {self.alert_id}"


class WebhookDelivery(models.Model):
    """One signed POST to the SMS/WeChat gateway, retried with backoff; failures listed for the admin."""

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已送达")
        FAILED = "failed", _("失败")

    created_at = models.DateTimeField(default=timezone.now)
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook 推送")
        verbose_name_plural = _("Webhook 推送")

    def __str__(self) -> str:
        return f"{self.event} {self.state} ×{self.attempts}"
