"""The child's file (一人一档, R1.1–R1.6): child, parents, grandparents, carer and entrusted guardian,
agreement, household and plan, and the dated history of left-behind status.

Derived columns (lb_*, key_target*) are a snapshot of the pure rules kept for filtering at scale; only
services write them, and the scan keeps them current (age-outs).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.access import RestrictedQuerySet
from shouhu.core.crypto import EncryptedTextField
from shouhu.core.models import Organisation, Region, User


class Sex(models.TextChoices):
    MALE = "1", _("男")
    FEMALE = "2", _("女")


class Health(models.TextChoices):
    HEALTHY = "healthy", _("健康")
    DISABLED = "disabled", _("残疾")
    ILL = "ill", _("患病")


class Schooling(models.TextChoices):
    KINDERGARTEN = "kindergarten", _("幼儿园")
    NOT_IN_KINDERGARTEN = "not_in_kindergarten", _("未入园")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中职")
    DROPPED_OUT = "dropped_out", _("辍学")
    NOT_IN_SCHOOL = "not_in_school", _("不在学")


class CareArrangement(models.TextChoices):
    PARENT = "parent", _("父母一方在家照料")
    GRANDPARENTS = "grandparents", _("祖辈照料")
    RELATIVES_FRIENDS = "relatives_friends", _("亲友照料")
    INCAPABLE_PARENT = "incapable_parent", _("父或母在家但无监护能力")
    UNATTENDED = "unattended", _("无人监护")


class Rating(models.TextChoices):
    GOOD = "good", _("较好")
    ADEQUATE = "adequate", _("一般")
    POOR = "poor", _("差")


class LeftBehindType(models.TextChoices):
    BOTH_AWAY = "both_away", _("父母双方外出务工")
    ONE_AWAY_OTHER_INCAPABLE = "one_away_other_incapable", _("一方外出务工另一方无监护能力")


class FileState(models.TextChoices):
    """The file's lifecycle (R1.11, API.md `state`): archived files leave lists and raise no alerts."""

    ACTIVE = "active", _("在册")
    ARCHIVED = "archived", _("已归档")


class ArchiveReason(models.TextChoices):
    MOVED_AWAY = "moved_away", _("迁出")
    DECEASED = "deceased", _("死亡")
    AGED_OUT = "aged_out", _("年龄超出（年满16周岁，困境儿童年满18周岁）")
    DUPLICATE = "duplicate", _("重复档案")
    OTHER = "other", _("其他（如父母返乡后不再关注）")


class ChildQuerySet(RestrictedQuerySet["Child"]):
    """`Child.objects.restrict(user, "child.view")` is the only way a user reaches children (R11.1)."""


class Household(models.Model):
    """户 (R1.5): the family unit, its members and its plan (一户一策)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在村（居）")
    )
    head_name = models.CharField(_("户主姓名"), max_length=50)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("家庭户")
        verbose_name_plural = _("家庭户")

    def __str__(self) -> str:
        return f"{self.head_name}户"


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=50)
    relationship = models.CharField(_("与户主关系"), max_length=4, blank=True, help_text=_("GB/T 4761 代码"))
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class HouseholdPlanItem(models.Model):
    """One measure of the household plan (一户一策): what, who is responsible, by when, done or not."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="plan_items")
    measure = models.CharField(_("帮扶措施"), max_length=300)
    owner = models.CharField(_("责任人/单位"), max_length=100)
    due_date = models.DateField(_("完成时限"), null=True, blank=True)
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.measure


class Child(models.Model):
    """农村留守儿童基本情况登记表 (MCA 2016 form, 附件1): one file per child (R1.1)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(_("姓名"), max_length=50)
    name_pinyin = models.CharField(max_length=120, db_index=True, editable=False)
    name_initials = models.CharField(max_length=30, db_index=True, editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    ethnicity = models.CharField(_("民族"), max_length=2, default="01", help_text=_("GB/T 3304 代码"))
    birth_date = models.DateField(_("出生日期"), db_index=True)
    hukou_registered = models.BooleanField(_("是否已登记户口"), default=True)
    hukou_rural = models.BooleanField(_("农村户籍"), default=True)
    hukou_place = models.CharField(_("户籍地"), max_length=200, blank=True)
    id_number = EncryptedTextField(_("公民身份号码"), null=True, blank=True)
    id_number_index = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在村（居）")
    )
    address = models.CharField(_("现居住地址"), max_length=200, blank=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    school = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("就读学校"),
    )
    health = models.CharField(_("健康状况"), max_length=10, choices=Health.choices, default=Health.HEALTHY)
    disability_type = models.CharField(_("残疾类别"), max_length=2, blank=True, help_text=_("GB/T 26158"))
    disability_grade = models.CharField(_("残疾等级"), max_length=2, blank=True)
    illness = models.CharField(_("疾病名称"), max_length=100, blank=True)
    boarding = models.BooleanField(_("是否寄宿"), default=False)
    schooling = models.CharField(_("就学情况"), max_length=20, choices=Schooling.choices)
    care_arrangement = models.CharField(_("实际照料方式"), max_length=20, choices=CareArrangement.choices)
    guardianship_rating = models.CharField(
        _("监护情况评估"), max_length=10, choices=Rating.choices, blank=True
    )
    moved_with_parents = models.BooleanField(_("随父母外出生活"), default=False)
    income_sources = models.JSONField(_("家庭经济来源"), default=list, blank=True)
    assistance = models.JSONField(_("享受救助帮扶情况"), default=list, blank=True)
    distress_categories = models.JSONField(_("困境儿童类别"), default=list, blank=True)
    village_contact_name = models.CharField(_("村（居）委会联系人"), max_length=50, blank=True)
    village_contact_phone = EncryptedTextField(_("村（居）委会联系电话"), blank=True, default="")
    notes = models.TextField(_("备注"), blank=True)
    is_provisional = models.BooleanField(_("临时档案"), default=False)

    # The file's lifecycle (R1.11): written only by registry/lifecycle.py.
    state = models.CharField(
        _("档案状态"), max_length=10, choices=FileState.choices, default=FileState.ACTIVE, db_index=True
    )
    archived_reason = models.CharField(
        _("归档原因"), max_length=12, choices=ArchiveReason.choices, blank=True
    )
    archived_on = models.DateField(_("归档日期"), null=True, blank=True)
    archive_note = models.CharField(_("归档说明"), max_length=300, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_files"
    )

    # Derived snapshot (R1.6) — written only by services.refresh_status.
    lb_status = models.BooleanField(_("农村留守儿童"), default=False, db_index=True)
    lb_type = models.CharField(_("留守类型"), max_length=32, choices=LeftBehindType.choices, blank=True)
    lb_since = models.DateField(null=True, blank=True)
    lb_reasons = models.JSONField(default=list, blank=True)
    key_target = models.BooleanField(_("重点对象"), default=False, db_index=True)
    key_target_reasons = models.JSONField(default=list, blank=True)
    status_on = models.DateField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["village_id", "name_pinyin", "id"]
        verbose_name = _("儿童档案")
        verbose_name_plural = _("儿童档案")
        indexes = [
            models.Index(fields=["village", "name_pinyin", "id"], name="child_list_order"),
            models.Index(fields=["name"], name="child_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Parent(models.Model):
    """父亲/母亲 (R1.2): identity, migration for work and guardianship capacity."""

    class Relation(models.TextChoices):
        FATHER = "father", _("父亲")
        MOTHER = "mother", _("母亲")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="parents")
    relation = models.CharField(_("关系"), max_length=6, choices=Relation.choices)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = EncryptedTextField(_("公民身份号码"), null=True, blank=True)
    id_number_index = models.CharField(max_length=40, null=True, blank=True, db_index=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    phone_index = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    away_for_work = models.BooleanField(_("外出务工"), default=False)
    away_since = models.DateField(_("外出时间"), null=True, blank=True)
    returned_on = models.DateField(_("返乡时间"), null=True, blank=True)
    work_province = models.CharField(
        _("务工省份"), max_length=2, blank=True, help_text=_("GB/T 2260 省级代码")
    )
    work_city = models.CharField(_("务工市（县）"), max_length=50, blank=True)
    abroad = models.BooleanField(_("境外务工"), default=False)
    work_country = models.CharField(_("务工国家/地区"), max_length=50, blank=True)
    guardianship_capacity = models.BooleanField(_("有监护能力"), default=True)
    incapacity_reason = models.CharField(_("无监护能力原因"), max_length=30, blank=True)
    deceased = models.BooleanField(_("已去世"), default=False)

    # Not columns: the child file view sets these for its template (masked unless the scope sees identifiers).
    id_display: str | None
    phone_display: str | None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child", "relation"], name="one_father_one_mother")]
        ordering = ["relation"]

    def __str__(self) -> str:
        return f"{self.get_relation_display()} {self.name}"


class Grandparent(models.Model):
    class Side(models.TextChoices):
        PATERNAL = "paternal", _("祖父母")
        MATERNAL = "maternal", _("外祖父母")

    class Relation(models.TextChoices):
        GRANDFATHER = "grandfather", _("（外）祖父")
        GRANDMOTHER = "grandmother", _("（外）祖母")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="grandparents")
    side = models.CharField(_("父系/母系"), max_length=8, choices=Side.choices)
    relation = models.CharField(_("关系"), max_length=12, choices=Relation.choices)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    deceased = models.BooleanField(_("已去世"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child", "side", "relation"], name="one_grandparent_each")
        ]
        ordering = ["side", "relation"]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.name}"


class Guardian(models.Model):
    """The person who actually cares for the child, and the entrusted guardian (R1.3), with the
    eligibility checks of Minors Protection Law art. 22 (None = not yet verified)."""

    class Role(models.TextChoices):
        CARER = "carer", _("实际照料人")
        ENTRUSTED = "entrusted", _("受委托监护人")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="guardians")
    role = models.CharField(_("身份"), max_length=10, choices=Role.choices)
    name = models.CharField(_("姓名"), max_length=50)
    relationship = models.CharField(_("与儿童关系"), max_length=4, help_text=_("GB/T 4761 代码"))
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = EncryptedTextField(_("公民身份号码"), null=True, blank=True)
    id_number_index = models.CharField(max_length=40, null=True, blank=True, db_index=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    phone_index = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    full_civil_capacity = models.BooleanField(_("具有完全民事行为能力"), null=True)
    no_violence_history = models.BooleanField(_("无性侵害、虐待、遗弃、拐卖、暴力伤害记录"), null=True)
    no_addiction = models.BooleanField(_("无吸毒、酗酒、赌博等恶习"), null=True)
    no_prior_neglect = models.BooleanField(_("未曾怠于履行监护职责"), null=True)
    checked_on = models.DateField(_("核实日期"), null=True, blank=True)

    # Not columns: the child file view sets these for its template (masked unless the scope sees identifiers).
    id_display: str | None
    phone_display: str | None
    relationship_label: str

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child", "role"], name="one_guardian_per_role")]
        ordering = ["role"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"


class Agreement(models.Model):
    """委托监护协议/确认书 (R1.4): parties, validity, responsibility and negative lists (codes of the lists
    agreement_responsibility / agreement_negative), written notices (art. 23) and verification."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="agreements")
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="agreements")
    principals = models.CharField(_("委托方（父母）"), max_length=100)
    signed_on = models.DateField(_("签订日期"))
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("到期日期"))
    responsibilities = models.JSONField(_("责任清单"), default=list)
    negatives = models.JSONField(_("负面清单"), default=list)
    notice_school_on = models.DateField(_("书面告知学校日期"), null=True, blank=True)
    notice_village_on = models.DateField(_("书面告知村（居）委会日期"), null=True, blank=True)
    verified_on = models.DateField(_("村（居）委会核实日期"), null=True, blank=True)
    verified_by = models.CharField(_("核实人"), max_length=50, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="agreement_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.principals} → {self.guardian_id} ({self.valid_from}–{self.valid_to})"


class StatusPeriod(models.Model):
    """One dated period of left-behind status (动态管理): [start, end), end null while current."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="status_periods")
    left_behind = models.BooleanField()
    type = models.CharField(max_length=32, blank=True)
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    reasons = models.JSONField(default=list)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["child_id", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(end__isnull=True), name="one_open_status_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.left_behind} {self.start}–{self.end or ''}"


class ParentFact(models.Model):
    """A dated fact about a parent (R1.11, DESIGN principle 9): from `on`, the parent is away for work
    or not, has guardianship capacity or not, is deceased or not. What the file said on a past date is
    read from these (the latest fact on or before it), never from today's columns."""

    class Kind(models.TextChoices):
        AWAY = "away", _("外出务工")
        CAPACITY = "capacity", _("有监护能力")
        DECEASED = "deceased", _("已去世")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="parent_facts")
    relation = models.CharField(_("关系"), max_length=6, choices=Parent.Relation.choices)
    kind = models.CharField(_("事实"), max_length=10, choices=Kind.choices)
    value = models.BooleanField()
    on = models.DateField(_("日期"))
    note = models.CharField(max_length=100, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["child_id", "relation", "kind", "on", "id"]
        indexes = [models.Index(fields=["child", "on"], name="parent_fact_child_on")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.relation} {self.kind}={self.value} {self.on}"
