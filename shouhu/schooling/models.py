"""Schooling records (R4, R1.10; issue 13): schools' catchments and staff, rosters (学籍) matched to the
ledger, daily absences, dropout cases (控辍保学) on core's workflow engine, pairing (结对帮扶), school–family
contact and wellbeing notes.

Data and invariants only. Who reaches which rows is declared in `anchors.py` (a school's own rows by
the SCHOOL reach, a region's by the pupil's village); every write is a service in `services.py` that
records an event.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.crypto import EncryptedTextField
from shouhu.core.models import Organisation, Region, User


class Catchment(models.Model):
    """A village a school takes its pupils from (服务范围)."""

    school = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="catchment")
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("村（居）")
    )

    class Meta:
        verbose_name = _("学校服务村（居）")
        verbose_name_plural = _("学校服务村（居）")
        constraints = [models.UniqueConstraint(fields=["school", "village"], name="catchment_unique")]

    def __str__(self) -> str:
        return f"{self.school_id}:{self.village_id}"


class StaffPosition(models.Model):
    """A school user's position: head (校长), class teacher (班主任) of a class, dormitory staff (宿管)."""

    class Position(models.TextChoices):
        HEAD = "head", _("校长")
        CLASS_TEACHER = "class_teacher", _("班主任")
        SUBJECT_TEACHER = "subject_teacher", _("任课教师")
        DORMITORY = "dormitory", _("宿舍管理员")

    school = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="staff_positions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="school_positions")
    position = models.CharField(_("职务"), max_length=16, choices=Position.choices)
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    class_name = models.CharField(_("班级"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("学校职务")
        verbose_name_plural = _("学校职务")

    def __str__(self) -> str:
        return f"{self.user_id} {self.position} {self.grade}{self.class_name}"


class Match(models.TextChoices):
    ID = "id", _("身份证号码一致")
    CONFIRMED = "confirmed", _("已确认为同一人")
    PENDING = "pending", _("姓名、出生日期、村一致，待学校或村确认")
    NONE = "none", _("台账中没有")


class Enrolment(models.Model):
    """A pupil on a school's roster (学籍). `child` is the ledger file when matched; a roster pupil not on
    the ledger keeps the roster's own identity (name, birth date, ID number) for the census lists."""

    child = models.ForeignKey(
        "registry.Child",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrolments",
        verbose_name=_("儿童档案"),
    )
    candidate = models.ForeignKey(
        "registry.Child",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("疑似对应档案"),
    )
    match = models.CharField(_("匹配"), max_length=10, choices=Match.choices, default=Match.NONE)
    school = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("学校")
    )
    village = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("居住村（居）"),
    )
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = EncryptedTextField(_("公民身份号码"), null=True, blank=True)
    id_number_index = models.CharField(max_length=40, null=True, blank=True, db_index=True, editable=False)
    student_number = models.CharField(_("学籍号"), max_length=40, blank=True)
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    class_name = models.CharField(_("班级"), max_length=30, blank=True)
    boarding = models.BooleanField(_("寄宿"), default=False)
    roster_left_behind = models.BooleanField(_("学籍系统标为留守儿童"), null=True, blank=True)
    since = models.DateField(_("入学日期"), null=True, blank=True)
    until = models.DateField(_("离校日期"), null=True, blank=True)
    mismatch = models.CharField(_("与台账不一致"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["school_id", "grade", "class_name", "name", "id"]
        verbose_name = _("学籍")
        verbose_name_plural = _("学籍")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "student_number"],
                condition=~Q(student_number=""),
                name="enrolment_student_number_unique",
            ),
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(until__isnull=True, child__isnull=False),
                name="enrolment_one_current_per_child",
            ),
        ]
        indexes = [models.Index(fields=["school", "grade", "class_name"], name="enrolment_class")]

    def __str__(self) -> str:
        return f"{self.name} {self.grade}{self.class_name}"

    @property
    def current(self) -> bool:
        return self.until is None


class Absence(models.Model):
    """A pupil's absence on one school day (0.5 steps), excused or not (R4.2)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="absences")
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="absences")
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("日期"))
    days = models.DecimalField(_("天数"), max_digits=3, decimal_places=1, default=1)
    excused = models.BooleanField(_("已请假"), default=False)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "id"]
        verbose_name = _("缺勤")
        verbose_name_plural = _("缺勤")
        constraints = [models.UniqueConstraint(fields=["child", "date"], name="absence_one_per_day")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.date} {self.days}"


class DropoutState(models.TextChoices):
    ABSENT = "absent", _("无故缺课")
    REGISTERED = "registered", _("已登记辍学")
    PERSUADING = "persuading", _("劝返中")
    RETURNED = "returned", _("已复学")
    TRANSFERRED = "transferred", _("已转学")
    EXEMPTED = "exempted", _("免于（缓）入学")
    REPORTED = "reported", _("已书面报告")


class DropoutCase(models.Model):
    """控辍保学个案: opened when unexcused absence reaches the policy threshold (R4.2)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="dropout_cases")
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="dropout_cases")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="dropout_cases")
    state = models.CharField(
        _("状态"), max_length=12, choices=DropoutState.choices, default=DropoutState.ABSENT
    )
    state_since = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(_("发现时间"), default=timezone.now, db_index=True)
    opened_on = models.DateField(_("达到辍学条件的日期"))
    trigger = models.CharField(_("触发原因"), max_length=200)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("控辍保学个案")
        verbose_name_plural = _("控辍保学个案")
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(closed_at__isnull=True),
                name="dropout_one_open_per_child",
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.state}"


class DropoutStep(models.Model):
    """One move of a dropout case, and each persuasion attempt (劝返, each dated; append-only)."""

    case = models.ForeignKey(DropoutCase, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    attempt = models.BooleanField(default=False)  # a persuasion visit that did not change the state
    by_unit = models.CharField(_("劝返单位"), max_length=10, blank=True)  # school | village
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.from_state}→{self.to_state}"


class Pairing(models.Model):
    """结对帮扶 (R4.3): a school leader or teacher paired with a left-behind pupil."""

    class Position(models.TextChoices):
        LEADER = "leader", _("学校领导")
        CLASS_TEACHER = "class_teacher", _("班主任")
        SUBJECT_TEACHER = "subject_teacher", _("任课教师")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="school_pairings")
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    teacher_name = models.CharField(_("帮扶教师"), max_length=50)
    position = models.CharField(_("职务"), max_length=16, choices=Position.choices)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on", "id"]
        verbose_name = _("结对帮扶")
        verbose_name_plural = _("结对帮扶")

    def __str__(self) -> str:
        return f"{self.teacher_name} → {self.child_id}"


class SchoolContact(models.Model):
    """A pairing's help or the school's contact with a family (R4.3, R4.4): talks, calls, home visits,
    study help, parent meetings."""

    class Kind(models.TextChoices):
        TALK = "talk", _("谈心")
        STUDY_HELP = "study_help", _("学业辅导")
        PHONE = "phone", _("电话联系家长")
        HOME_VISIT = "home_visit", _("家访")
        PARENT_MEETING = "parent_meeting", _("家长会")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="school_contacts")
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    pairing = models.ForeignKey(
        Pairing, null=True, blank=True, on_delete=models.SET_NULL, related_name="help"
    )
    kind = models.CharField(_("方式"), max_length=16, choices=Kind.choices)
    with_whom = models.CharField(_("联系对象"), max_length=50, blank=True)
    occurred_at = models.DateTimeField(_("时间"))
    note = models.CharField(_("内容"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "id"]
        verbose_name = _("家校联系与帮扶记录")
        verbose_name_plural = _("家校联系与帮扶记录")

    def __str__(self) -> str:
        return f"{self.child_id} {self.kind}"


class Wellbeing(models.Model):
    """A teacher's wellbeing record (R4.5; issue 13 part 6): a psychological concern, bad behaviour or a
    boarding pupil's dormitory note, with a referral to counselling. A record naming a reportable
    situation starts the school's report clock (a protection finding, R5.3)."""

    class Kind(models.TextChoices):
        PSYCHOLOGICAL = "psychological", _("心理问题")
        BEHAVIOUR = "behaviour", _("不良行为")
        DORMITORY = "dormitory", _("宿舍记录")

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="school_wellbeing")
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("情况"), max_length=500)
    situations = models.JSONField(_("应报告情形"), default=list, blank=True)
    counselling = models.BooleanField(_("转介心理辅导"), default=False)
    occurred_at = models.DateTimeField(_("发现时间"))
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "id"]
        verbose_name = _("心理关爱与宿舍记录")
        verbose_name_plural = _("心理关爱与宿舍记录")

    def __str__(self) -> str:
        return f"{self.child_id} {self.kind}"
