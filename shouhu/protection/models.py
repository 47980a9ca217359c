"""Protection chain models (R5–R7): reports, cases and their transitions, police measures, placements,
searches, assessments, referrals, follow-ups, guardianship intervention, accountability.

Data and invariants only. Who sees which rows is decided in selectors.py; every write is a service
(services.py) that records an event on the child's timeline.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.crypto import EncryptedTextField
from shouhu.core.models import Organisation, Region, User


class Record(models.Model):
    """Base of the case's detail rows: a readable name in the admin and in logs."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


# --- policy data (seeded from data/protection.json, edited by an administrator) ---------------------


class Measure(models.Model):
    """One item of the police checklists of clause 二(二)2."""

    code = models.CharField(_("代码"), max_length=40, primary_key=True)
    name_zh = models.CharField(_("中文名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    clause = models.CharField(_("依据"), max_length=40, blank=True)
    sort = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("处置措施")
        verbose_name_plural = _("处置措施")

    def __str__(self) -> str:
        return self.name_zh


class Situation(models.Model):
    """A reportable situation (R5.2): the plan's six and the nine of the 2020 national opinion, with the
    measure checklist the police work through for it."""

    class Source(models.TextChoices):
        PLAN = "plan", _("城府办发〔2016〕153号 二(二)1")
        OPINION_2020 = "opinion_2020", _("强制报告制度意见（2020）第四条")
        LOCAL = "local", _("本县补充")

    code = models.CharField(_("代码"), max_length=40, primary_key=True)
    name_zh = models.CharField(_("中文名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    measures = models.JSONField(_("处置措施清单"), default=list)
    sort = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("报告情形")
        verbose_name_plural = _("报告情形")

    def __str__(self) -> str:
        return self.name_zh


class ServiceKind(models.Model):
    """A professional service an assistance plan refers to (二(二)3), plus social assistance."""

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


# --- cases and reports -----------------------------------------------------------------------------


class CaseState(models.TextChoices):
    REPORTED = "reported", _("已报告")
    RECEIVED = "received", _("已受理")
    RESPONDED = "responded", _("已处置")
    TOWNSHIP_NOTIFIED = "township_notified", _("已通报乡镇")
    ASSESSED = "assessed", _("已评估")
    ASSISTING = "assisting", _("帮扶中")
    CLOSED = "closed", _("已结案")
    UNFOUNDED = "unfounded", _("查无实据")
    REOPENED = "reopened", _("重新启动")


ENDED = ["closed", "unfounded"]  # the states of a case that is no longer open


class RiskLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class Case(models.Model):
    """救助保护个案: one child, one chain 发现、报告、转介、干预、帮扶. Reports about the same child while a case
    is open join it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("案件编号"), max_length=24, unique=True)
    # Null while a public report names a child not on file: the township confirms who the child is
    # before any file is created (issue 10 part 8); the case goes to the police at once all the same.
    child = models.ForeignKey(
        "registry.Child",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="protection_cases",
        verbose_name=_("儿童"),
    )
    pending_name = models.CharField(_("待确认儿童姓名"), max_length=50, blank=True)
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在村（居）")
    )
    station = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="protection_cases", verbose_name=_("承办派出所")
    )
    state = models.CharField(_("状态"), max_length=20, choices=CaseState.choices, default=CaseState.REPORTED)
    state_since = models.DateTimeField(_("进入当前状态时间"), default=timezone.now)
    situations = models.JSONField(_("情形"), default=list)
    opened_at = models.DateTimeField(_("立案时间"), default=timezone.now, db_index=True)
    cycle = models.PositiveSmallIntegerField(_("处置轮次"), default=0, help_text=_("每次重新启动加一"))
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices, blank=True)
    plan = models.TextField(_("帮扶方案"), blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("救助保护个案")
        verbose_name_plural = _("救助保护个案")
        indexes = [models.Index(fields=["state", "opened_at"], name="case_state_opened")]
        # Issue 10 part 7: one open case per child (or per reported name in a village while the child
        # awaits confirmation), even when reports arrive at the same moment; the services also lock.
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=~models.Q(state__in=ENDED), name="one_open_case_per_child"
            ),
            models.UniqueConstraint(
                fields=["village", "pending_name"],
                condition=models.Q(child__isnull=True) & ~models.Q(state__in=ENDED),
                name="one_open_pending_case_per_name",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def child_name(self) -> str:
        return self.child.name if self.child is not None else self.pending_name

    @property
    def is_open(self) -> bool:
        return self.state not in (CaseState.CLOSED, CaseState.UNFOUNDED)


class ReporterKind(models.TextChoices):
    """Mandated reporters of clause 二(二)1 and everyone else."""

    SCHOOL = "school", _("学校")
    KINDERGARTEN = "kindergarten", _("幼儿园")
    MEDICAL = "medical_institution", _("医疗机构")
    VILLAGE_COMMITTEE = "village_committee", _("村（居）民委员会")
    SOCIAL_WORK = "social_work", _("社会工作服务机构")
    RELIEF = "relief", _("救助管理机构")
    CITIZEN = "citizen", _("公民")
    ORGANISATION = "organisation", _("其他社会组织")


MANDATED_KINDS = frozenset(
    {
        ReporterKind.SCHOOL,
        ReporterKind.KINDERGARTEN,
        ReporterKind.MEDICAL,
        ReporterKind.VILLAGE_COMMITTEE,
        ReporterKind.SOCIAL_WORK,
        ReporterKind.RELIEF,
    }
)


class Report(models.Model):
    """强制报告 / 举报 (R5.1–R5.4). The reporter's identity is confidential (police and civil affairs only)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    reporter_kind = models.CharField(_("报告人类别"), max_length=20, choices=ReporterKind.choices)
    mandated = models.BooleanField(_("强制报告责任人"), default=False)
    reporter = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("报告用户")
    )
    reporter_unit = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("报告单位"),
    )
    anonymous = models.BooleanField(_("匿名"), default=False)
    reporter_name = EncryptedTextField(_("报告人姓名"), blank=True, default="")
    reporter_phone = EncryptedTextField(_("报告人电话"), blank=True, default="")
    child_name = models.CharField(_("儿童姓名"), max_length=50)
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("村（居）")
    )
    situations = models.JSONField(_("情形"), default=list)
    description = models.TextField(_("情况描述"))
    discovered_at = models.DateTimeField(_("发现时间"))
    reported_at = models.DateTimeField(_("报告时间"), default=timezone.now, db_index=True)
    received_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("书面回复时间"), null=True, blank=True)
    acknowledgement = models.TextField(_("书面回复"), blank=True)
    token = models.CharField(max_length=40, unique=True, editable=False)
    source_digest = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    # The public page's browser (a signed cookie), keyed like the address: limits per browser (part 8).
    browser_digest = models.CharField(max_length=40, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("报告")
        verbose_name_plural = _("报告")

    def __str__(self) -> str:
        return f"{self.case_id} {self.reported_at:%Y-%m-%d %H:%M}"

    # What the reporter sees is their own report's progress, never the case's (issue 9 part 8): a
    # report's number is its own, and its progress starts when it was made.
    PROGRESS = {
        "reported": _("已提交，等待派出所受理"),
        "received": _("已受理，正在办理"),
        "concluded": _("已办结"),
    }

    @property
    def number(self) -> str:
        return f"BG{timezone.localtime(self.reported_at):%Y%m%d}-{self.pk.hex[:6].upper()}"

    @property
    def progress(self) -> str:
        if self.received_at is None:
            return "reported"
        closed = self.case.closed_at
        if closed is not None and closed >= self.reported_at and self.case.state in ("closed", "unfounded"):
            return "concluded"
        return "received"

    @property
    def progress_label(self) -> str:
        return str(self.PROGRESS[self.progress])


class Transition(models.Model):
    """One move of the workflow: who, when, why, and the step's data (append-only)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    cycle = models.PositiveSmallIntegerField(default=0)
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.from_state}→{self.to_state}"


class StationChange(Record):
    """Reassignment of a case between police stations (routing record)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="station_changes")
    from_station = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_station = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("原因"), max_length=300)

    class Meta:
        ordering = ["at", "id"]


class CaseMeasure(Record):
    """A checklist item the police carried out (二(二)2)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="measures")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(_("完成时间"), default=timezone.now)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["done_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "measure"], name="one_measure_per_case")]


class Placement(Record):
    """临时监护照料 (R6.2): where, from when to when, who was told."""

    class PlaceKind(models.TextChoices):
        RELATIVE = "relative", _("其他近亲属")
        VILLAGE_COMMITTEE = "village_committee", _("村（居）民委员会")
        RELIEF = "relief", _("救助管理机构")
        WELFARE = "welfare", _("福利机构")
        SHELTER = "shelter", _("临时庇护场所")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="placements")
    place_kind = models.CharField(_("安置类别"), max_length=20, choices=PlaceKind.choices)
    place = models.CharField(_("安置地点"), max_length=200)
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"), null=True, blank=True)
    notified = models.CharField(_("已告知"), max_length=200, help_text=_("已告知的父母或其他人员"))
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["start", "id"]


class MissingSearch(Record):
    """儿童失踪快速查找 (R6.1): started, ended, outcome."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="searches")
    started_at = models.DateTimeField(_("启动时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=300, blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["started_at", "id"]


class DimensionRating(models.TextChoices):
    OK = "ok", _("良好")
    CONCERN = "concern", _("存在隐患")
    SERIOUS = "serious", _("严重")


class Assessment(Record):
    """联合调查评估 (R6.4): safety, guardianship, physical and mental health → risk level (rules.py)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assessments")
    cycle = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)
    participants = models.JSONField(_("参与人员/单位"), default=list)
    safety = models.CharField(_("安全处境"), max_length=10, choices=DimensionRating.choices)
    guardianship = models.CharField(_("监护情况"), max_length=10, choices=DimensionRating.choices)
    physical_health = models.CharField(_("身体健康"), max_length=10, choices=DimensionRating.choices)
    mental_health = models.CharField(_("心理健康"), max_length=10, choices=DimensionRating.choices)
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices)
    risk_reasons = models.JSONField(default=list)
    summary = models.TextField(_("评估意见"), blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]


class ReferralState(models.TextChoices):
    PENDING = "pending", _("待接收")
    ACCEPTED = "accepted", _("已接收")
    REFUSED = "refused", _("已拒绝")
    DONE = "done", _("已完成")
    CLOSED = "closed", _("已撤回")


class Referral(Record):
    """转介 (R6.5): a service of the assistance plan sent to a provider, answered by the provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    service_kind = models.ForeignKey(ServiceKind, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("服务机构")
    )
    need = models.TextField(_("服务需求"), blank=True)
    due_date = models.DateField(_("完成时限"))
    state = models.CharField(
        _("状态"), max_length=10, choices=ReferralState.choices, default=ReferralState.PENDING
    )
    reason = models.CharField(_("拒绝/撤回原因"), max_length=300, blank=True)
    outcome = models.TextField(_("服务结果"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "created_at"]
        verbose_name = _("转介")
        verbose_name_plural = _("转介")

    @property
    def settled(self) -> bool:
        return self.state in (ReferralState.DONE, ReferralState.CLOSED)


class FollowUp(Record):
    """跟踪回访 of a key target (二(二)3 随时跟踪掌握情况)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(_("情况"))
    next_due = models.DateField(_("下次跟踪"), null=True, blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]


class GuardianMeasure(Record):
    """监护干预 (R7.1): what was done against a guardian, when, with what outcome."""

    class Kind(models.TextChoices):
        EDUCATION = "education", _("批评教育")
        PUBLIC_SECURITY_PENALTY = "penalty", _("治安管理处罚")
        CRIMINAL_CASE = "criminal_case", _("立案侦查")

    class Conduct(models.TextChoices):
        UNATTENDED = "unattended", _("置于无人监管和照看状态")
        REFUSING = "refusing", _("拒不履行监护职责")
        VIOLENCE = "violence", _("家庭暴力")
        ABUSE = "abuse", _("虐待")
        ABANDONMENT = "abandonment", _("遗弃")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="guardian_measures")
    guardian_name = models.CharField(_("监护人姓名"), max_length=50)
    guardian_relation = models.CharField(_("与儿童关系"), max_length=20)
    conduct = models.CharField(_("行为"), max_length=12, choices=Conduct.choices)
    kind = models.CharField(_("措施"), max_length=16, choices=Kind.choices)
    decided_on = models.DateField(_("日期"))
    outcome = models.CharField(_("结果"), max_length=300, blank=True)
    corrected = models.BooleanField(_("已改正"), null=True, help_text=_("空：尚未复查"))
    serious_harm = models.BooleanField(_("导致身心健康严重受损"), default=False)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["decided_on", "id"]


class Petition(Record):
    """撤销监护人资格申请 (R7.2): petition → hearing → decision; a new guardian on the child's file."""

    class Petitioner(models.TextChoices):
        NEAR_RELATIVE = "near_relative", _("近亲属")
        VILLAGE_COMMITTEE = "village_committee", _("村（居）民委员会")
        CIVIL_AFFAIRS = "civil_affairs", _("民政部门")

    class Decision(models.TextChoices):
        PENDING = "", _("待判决")
        REVOKED = "revoked", _("撤销监护人资格")
        REJECTED = "rejected", _("驳回申请")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="petitions")
    petitioner = models.CharField(_("申请人"), max_length=20, choices=Petitioner.choices)
    petitioner_name = models.CharField(_("申请人名称"), max_length=100)
    guardian_name = models.CharField(_("被申请监护人"), max_length=50)
    grounds = models.JSONField(_("申请事由"), default=list)
    court = models.CharField(_("受理法院"), max_length=100)
    filed_on = models.DateField(_("申请日期"))
    hearing_on = models.DateField(_("开庭日期"), null=True, blank=True)
    decided_on = models.DateField(_("判决日期"), null=True, blank=True)
    decision = models.CharField(_("判决结果"), max_length=10, choices=Decision.choices, blank=True)
    new_guardian_name = models.CharField(_("新监护人"), max_length=50, blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["filed_on", "id"]


class Finding(Record):
    """A reportable situation found by a visit or a school record (R5.3 missed reports). Care and schooling
    modules call `services.finding_record`; the scan holds the unit accountable when no report follows."""

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("来源"), max_length=40)
    source_ref = models.CharField(max_length=64, blank=True)
    situations = models.JSONField(default=list)
    found_at = models.DateTimeField(_("发现时间"))

    class Meta:
        ordering = ["found_at", "id"]


class AccountabilityKind(models.TextChoices):
    DEADLINE_BREACHED = "deadline_breached", _("处置环节超时")
    LATE_REPORT = "late_report", _("迟报")
    MISSED_REPORT = "missed_report", _("漏报")


class Accountability(Record):
    """追责记录 per unit (R5.3, R6.6): counted once per key."""

    key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(_("类别"), max_length=20, choices=AccountabilityKind.choices)
    unit = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="accountability", verbose_name=_("责任单位")
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    occurred_at = models.DateTimeField(_("发生时间"))
    detail = models.CharField(_("说明"), max_length=300)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("追责记录")
        verbose_name_plural = _("追责记录")
        indexes = [models.Index(fields=["unit", "kind"], name="accountability_unit_kind")]


class PublicReportGate(models.Model):
    """One row the public report page locks (select_for_update) so that its limits per address and per
    browser are counted and enforced atomically, and that remembers when a county-wide surge of public
    reports was last flagged to the county (issue 10 part 8)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    surge_flagged_at = models.DateTimeField(null=True, blank=True)
    surge_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("公众举报闸口")
        verbose_name_plural = _("公众举报闸口")

    def __str__(self) -> str:
        return str(self.surge_flagged_at or "-")
