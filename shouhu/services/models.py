"""Services and social forces (R8, R9.1–R9.2; issue 17): providers, service types, programmes, needs
and their matching, activities with attendance, parents' wishes and referrals, poverty category.

Data and invariants only. Who sees which rows is declared in apps.py (access anchors); every write is a
service (services.py) that records an event; needs move only through the workflow table (workflow.py).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.models import Organisation, Region, User


class ServiceType(models.Model):
    """A kind of service (R8.2): data the county edits in /admin/, seeded from the plan (data/)."""

    code = models.CharField(_("代码"), max_length=40, primary_key=True)
    name_zh = models.CharField(_("中文名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    clause = models.CharField(_("依据"), max_length=40, blank=True)
    sort = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("服务类别")
        verbose_name_plural = _("服务类别")

    def __str__(self) -> str:
        return self.name_zh


class ProviderCategory(models.TextChoices):
    """The kinds of social force the plan names (二(一)4–5, R8.1)."""

    UNION = "union", _("工会")
    YOUTH_LEAGUE = "youth_league", _("共青团")
    WOMENS_FEDERATION = "womens_federation", _("妇联")
    DISABLED_FEDERATION = "disabled_federation", _("残联")
    GUANGONGWEI = "guangongwei", _("关工委")
    SOCIAL_WORK = "social_work", _("社会工作服务机构")
    CHARITY = "charity", _("公益慈善组织")
    VOLUNTEER_TEAM = "volunteer_team", _("志愿服务组织")
    CARE_INSTITUTION = "care_institution", _("托管服务机构")
    ENTERPRISE = "enterprise", _("企业")
    HOTLINE = "hotline", _("服务热线")


class ProviderStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已审核")
    REFUSED = "refused", _("未通过")
    SUSPENDED = "suspended", _("已暂停")


class Provider(models.Model):
    """A service provider: an organisation (its id is the provider's id in the API, API.md) with the
    villages it serves, the services it offers and its capacity; registered and approved by the county."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, primary_key=True, related_name="provider"
    )
    category = models.CharField(_("机构类别"), max_length=24, choices=ProviderCategory.choices)
    villages = models.ManyToManyField(Region, related_name="+", verbose_name=_("服务村（居）"), blank=True)
    service_types = models.ManyToManyField(ServiceType, related_name="providers", verbose_name=_("服务内容"))
    capacity = models.PositiveIntegerField(
        _("服务能力（同时服务的儿童数）"), default=0, help_text=_("0 表示不限")
    )
    hotline = models.CharField(_("服务热线"), max_length=20, blank=True)
    contact = models.CharField(_("联系人"), max_length=50, blank=True)
    status = models.CharField(
        _("审核状态"), max_length=10, choices=ProviderStatus.choices, default=ProviderStatus.PENDING
    )
    registered_at = models.DateTimeField(default=timezone.now)
    registered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decision_note = models.CharField(_("审核意见"), max_length=300, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("服务机构")
        verbose_name_plural = _("服务机构")

    def __str__(self) -> str:
        return self.organisation.name


class KeyTime(models.TextChoices):
    """The key times of 二(一)4."""

    AFTER_SCHOOL = "after_school", _("课后")
    WEEKEND = "weekend", _("周末")
    HOLIDAY = "holiday", _("节假日")
    VACATION = "vacation", _("寒暑假")


class VenueKind(models.TextChoices):
    CHILDREN_HOME = "children_home", _("儿童之家")
    SERVICE_CENTRE = "service_centre", _("便民服务中心活动室")
    SCHOOL = "school", _("学校")
    OTHER = "other", _("其他场所")


class Programme(models.Model):
    """A programme (四点半课堂, 七彩假期, 流动少年宫, 结对帮扶 …) run by a provider in a village, with its
    key times and venue (R8.2)."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="programmes")
    name = models.CharField(_("项目名称"), max_length=100)
    service_type = models.ForeignKey(
        ServiceType, on_delete=models.PROTECT, related_name="+", verbose_name=_("服务类别")
    )
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("村（居）")
    )
    key_times = models.JSONField(_("开展时段"), default=list, blank=True)
    venue_kind = models.CharField(
        _("场所类型"), max_length=16, choices=VenueKind.choices, default=VenueKind.CHILDREN_HOME
    )
    venue = models.CharField(_("场所"), max_length=100, blank=True)
    schedule = models.CharField(_("安排"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("名额"), default=0, help_text=_("0 表示不限"))
    active = models.BooleanField(_("进行中"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["village_id", "name", "id"]
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")

    def __str__(self) -> str:
        return f"{self.name}（{self.village.name}）"


class Enrolment(models.Model):
    """A child taking part in a programme."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="enrolments")
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    since = models.DateField(_("参加日期"), default=timezone.localdate)
    until = models.DateField(_("退出日期"), null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["programme_id", "child__name_pinyin"]
        constraints = [models.UniqueConstraint(fields=["programme", "child"], name="enrol_once")]

    def __str__(self) -> str:
        return f"{self.programme_id}:{self.child_id}"


class NeedSource(models.TextChoices):
    VISIT = "visit", _("走访发现")
    ASSESSMENT = "assessment", _("评估发现")
    SCHOOL = "school", _("学校反映")
    PARENT = "parent", _("家长申请")
    CASE = "case", _("救助保护个案")
    HOTLINE = "hotline", _("服务热线")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class NeedState(models.TextChoices):
    OPEN = "open", _("待对接")
    OFFERED = "offered", _("已推送")
    ACCEPTED = "accepted", _("已接收")
    DELIVERED = "delivered", _("已服务")
    CLOSED = "closed", _("已办结")
    UNMET = "unmet", _("未能满足")


class Need(models.Model):
    """A child's service need (R8.3): structured, matched with a provider, followed until met."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="service_needs")
    type = models.ForeignKey(
        ServiceType, on_delete=models.PROTECT, related_name="+", verbose_name=_("服务类别")
    )
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    source = models.CharField(_("来源"), max_length=12, choices=NeedSource.choices)
    visit = models.ForeignKey(
        "care.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=500, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=NeedState.choices, default=NeedState.OPEN)
    provider = models.ForeignKey(
        Provider,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="needs",
        verbose_name=_("服务机构"),
    )
    programme = models.ForeignKey(
        Programme,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("服务项目"),
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("服务需求")
        verbose_name_plural = _("服务需求")
        indexes = [models.Index(fields=["state", "created_at"], name="need_state_time")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.type_id} {self.state}"


class NeedStep(models.Model):
    """One move of a need (who, when, why, to which provider): its timeline and the workflow's clock."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.need_id} {self.from_state}→{self.to_state}"


class Session(models.Model):
    """One session of a programme (an afternoon of 四点半课堂), led by a volunteer who takes attendance."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField(_("开始时间"))
    hours = models.DecimalField(_("时长（小时）"), max_digits=4, decimal_places=1, default=2)
    topic = models.CharField(_("内容"), max_length=200, blank=True)
    volunteer = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("志愿者")
    )
    taken_at = models.DateTimeField(_("签到时间"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "id"]
        verbose_name = _("活动场次")
        verbose_name_plural = _("活动场次")

    def __str__(self) -> str:
        return f"{self.programme_id} {self.starts_at:%Y-%m-%d %H:%M}"


class Attendance(models.Model):
    """A child at a session: present or not, service hours, and feedback from the child or guardian."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    present = models.BooleanField(default=False)
    hours = models.DecimalField(max_digits=4, decimal_places=1, default=0)
    feedback = models.CharField(_("反馈"), max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "child"], name="attend_once")]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.child_id}"


class ParentWish(models.Model):
    """What a migrant parent said they would like (R9.1): recorded in a visit or by the parent's call."""

    class Kind(models.TextChoices):
        RETURN = "return_home", _("希望返乡就业创业")
        BRING_CHILD = "bring_child", _("希望带孩子进城")
        TRAINING = "training", _("希望参加技能培训")

    class Source(models.TextChoices):
        VISIT = "visit", _("走访中了解")
        PARENT_CALL = "parent_call", _("父母来电")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    parent = models.CharField(_("父母"), max_length=6, choices=[("father", _("父亲")), ("mother", _("母亲"))])
    kind = models.CharField(_("意愿"), max_length=12, choices=Kind.choices)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices, default=Source.VISIT)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.child_id} {self.parent} {self.kind}"


class ParentReferral(models.Model):
    """A parent referred to help (R9.1): employment, entrepreneurship, housing, hukou, school admission,
    training — each with an outcome. `returned` closes the loop: the parent came home (and when)."""

    class Kind(models.TextChoices):
        EMPLOYMENT = "employment", _("就业岗位推荐（春风行动）")
        ENTREPRENEURSHIP = "entrepreneurship", _("返乡创业扶持")
        TRAINING = "training", _("技能培训")
        HOUSING = "housing", _("城镇住房")
        HUKOU = "hukou", _("随迁落户")
        SCHOOL_ADMISSION = "school_admission", _("随迁子女入学")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("办理中")
        RETURNED = "returned", _("已返乡就业创业")
        CHILD_MOVED = "child_moved", _("已带孩子随迁")
        TRAINED = "trained", _("已参加培训")
        NO_RESULT = "no_result", _("未成功")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    parent = models.CharField(_("父母"), max_length=6, choices=[("father", _("父亲")), ("mother", _("母亲"))])
    kind = models.CharField(_("转介事项"), max_length=20, choices=Kind.choices)
    agency = models.CharField(_("承接单位"), max_length=100)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_on = models.DateField(_("结果日期"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="pending") | Q(outcome_on__isnull=False),
                name="parent_referral_outcome_dated",
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.parent} {self.kind} {self.outcome}"


class PovertyCategory(models.TextChoices):
    """六个一批 (R9.2)."""

    INDUSTRY = "industry", _("发展产业脱贫一批")
    RELOCATION = "relocation", _("易地扶贫搬迁脱贫一批")
    MEDICAL = "medical_aid", _("医疗救助扶持一批")
    EDUCATION = "education", _("教育资助脱贫一批")
    TRAINING = "training", _("转移就业培训脱贫一批")
    WELFARE = "welfare", _("民政兜底保障一批")


class Poverty(models.Model):
    """The household's 建档立卡 status and its 六个一批 category (R9.2), kept per child's file."""

    child = models.OneToOneField(
        "registry.Child", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    registered = models.BooleanField(_("建档立卡贫困户"), default=False)
    category = models.CharField(_("帮扶类别"), max_length=12, choices=PovertyCategory.choices, blank=True)
    since = models.DateField(_("认定日期"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("建档立卡")
        verbose_name_plural = _("建档立卡")

    def __str__(self) -> str:
        return f"{self.child_id} {self.registered} {self.category}"
