"""Who may see and do what: roles → capabilities → reach, and the field groups of a child's file each
role sees (R11.1–R11.4, DESIGN principle 1). The one reviewed table; `core/access.py` applies it.

- A *capability* is one thing a user may do or see (`child.view`, `case.assist`, `audit.view` …).
- A role grants each of its capabilities with a *reach*: how the assignment's scope (a region or an
  organisation) selects objects. `region`: objects in the region's subtree (12-digit code prefix);
  `school`: the school's pupils; `station`: the police station's cases and their children;
  `provider`: referrals and service needs sent to the organisation, its programmes; `self`: rows that
  name the user (a volunteer's own activity sessions); `any`: not tied to objects (report a child,
  configure).
- A child's file is split into *field groups*. A role's groups are granted as `child.<group>` with the
  reach of its `child.view`, so the same `can()` answers "may this user see this child's health?".
  `child.identifiers` is the right to see full ID numbers and phones (revealed one at a time on pages).

This table is access control, not county policy: it lives in code so that a mistake in the database
cannot widen anyone's access. Role codes (API.md) are written here, in `demo.py` and in tests only; a
test fails if one appears anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# --- reach kinds -----------------------------------------------------------------------------------

REGION = "region"
SCHOOL = "school"
STATION = "station"
PROVIDER = "provider"
SELF = "self"
ANY = "any"
REACHES = (REGION, SCHOOL, STATION, PROVIDER, SELF, ANY)

# --- capabilities ----------------------------------------------------------------------------------

CAPABILITIES: dict[str, object] = {
    # the child's file
    "child.view": _("查看儿童档案（身份信息）"),
    "child.create": _("登记儿童"),
    "child.edit": _("修改儿童档案"),
    "child.lookup": _("按身份证号码或完整姓名查找儿童（不浏览档案列表）"),
    # the protection chain
    "case.view": _("查看救助保护个案"),
    "case.reporter": _("查看报告人身份"),
    "case.respond": _("公安处置环节：受理、处置、通报、安置、查找"),
    "case.assist": _("民政环节：评估、帮扶方案、转介、结案、监护干预申请"),
    "case.follow_up": _("登记个案跟踪回访"),
    "case.reassign": _("改派承办派出所"),
    "report.create": _("强制报告"),
    "referral.respond": _("接收和办理转介"),
    # services and social forces (R8, issue 17)
    "service.view": _("查看服务机构、服务项目和儿童服务需求"),
    "service.need": _("登记儿童服务需求，对接、跟踪到服务落实"),
    "service.respond": _("服务机构接收和办理服务需求"),
    "service.manage": _("登记服务机构、服务项目和活动"),
    "service.approve": _("审核服务机构"),
    "activity.attend": _("活动签到（考勤）和反馈"),
    "accountability.view": _("追责与表扬"),
    # village and school work
    "care.record": _("登记联系、走访、结对、活动，处理预警"),
    "care.contact": _("登记协助学生与父母联系"),
    "care.admonish": _("登记劝诫、制止"),
    "care.supervise": _("查看各村工作情况"),
    "alert.view": _("查看预警"),
    # schooling (R4, R1.10; issue 13)
    "roster.view": _("查看学籍名册和留守学生标识"),
    "roster.edit": _("导入学籍名册、登记学生、确认匹配"),
    "attendance.record": _("登记学生缺勤"),
    "dropout.view": _("查看控辍保学个案"),
    "dropout.act": _("控辍保学：登记辍学、劝返、复学、转学"),
    "dropout.report": _("向县教委和乡镇书面报告辍学"),
    "dropout.decide": _("认定免于（缓）入学"),
    "census.view": _("查看学籍与台账比对清单"),
    "school.care": _("登记结对帮扶和家校联系"),
    "schooling.oversee": _("查看各校控辍保学、留守学生登记和结对覆盖情况"),
    # the ledger
    "ledger.import": _("导入台账"),
    "ledger.export": _("导出台账（须说明用途）"),
    "ledger.submit": _("提交台账审核"),
    "ledger.review": _("乡镇审核台账"),
    "ledger.approve": _("县级审批台账"),
    # oversight, audit and administration
    "stats.view": _("查看统计"),
    "audit.view": _("查看操作记录和访问日志"),
    "roles.grant": _("管理用户与角色授权"),
    "auth.lockouts": _("查看和解除登录锁定"),
    "auth.tokens": _("签发长期 API 令牌"),
    "config.edit": _("系统配置（区划、单位、代码表、政策参数）"),
}

# --- field groups of a child's file ------------------------------------------------------------------

GROUPS: dict[str, object] = {
    "identity": _("身份信息"),  # name, sex, birth date, ethnicity, village, hukou; ID number masked
    "identifiers": _("完整证件号码和电话"),
    "contacts": _("联系方式"),  # address, village contact, parents' and guardians' names and phones
    "family": _("家庭与监护"),
    "health": _("健康"),
    "income": _("家庭经济与救助"),
    "schooling": _("就学"),
    "care": _("关爱与留守状态"),
    "protection": _("救助保护"),
}
ALL_GROUPS = frozenset(GROUPS)


def group_capability(group: str) -> str:
    return f"child.{group}"


# The capability that decides whether an identifier may be shown in full (or revealed): ID numbers need
# `child.identifiers`; a phone number is also open to whoever holds the contacts group (a school calls a
# pupil's parents).
ID_NUMBER_CAPABILITIES = (group_capability("identifiers"),)
PHONE_CAPABILITIES = (group_capability("identifiers"), group_capability("contacts"))


@dataclass(frozen=True)
class RoleSpec:
    code: str
    label: object  # lazy translation
    grants: dict[str, str]  # capability → reach
    groups: frozenset[str] = frozenset()  # field groups, granted with the reach of child.view
    # What the role is for, shown on the home page of roles that open no child file.
    help: object = ""
    # 等保 level 3 separates system, security and audit administration: roles that only the server
    # operator grants (`manage.py grant_role`), never another user in the application.
    operator_only: bool = False
    staff: bool = False  # configures in /admin/ (Django staff, never superuser)
    # The kinds of organisation an assignment of this role must name (its reach is that organisation);
    # empty: the role is granted over a region (or an organisation, standing for its region).
    org_kinds: tuple[str, ...] = ()
    # R11.4 / issue 10: a second factor (TOTP) at every login; county policy may add roles
    # (`second_factor_extra_roles`, core/policy.py).
    second_factor: bool = False

    def all_grants(self) -> dict[str, str]:
        """The grants with the field groups expanded (child.<group> with child.view's reach)."""
        out = dict(self.grants)
        reach = self.grants.get("child.view")
        if reach is not None:
            for g in self.groups:
                out.setdefault(group_capability(g), reach)
        return out


def _all(reach: str, *caps: str) -> dict[str, str]:
    return dict.fromkeys(caps, reach)


_CHILD_WORK = ("child.view", "child.create", "child.edit")
_CARE_WORK = ("care.record", "care.contact", "care.admonish", "alert.view")
# Schooling work (issue 13): what a school does for its own pupils, and what a region's users see of it.
_SCHOOL_WORK = (
    "roster.view",
    "roster.edit",
    "attendance.record",
    "dropout.view",
    "dropout.act",
    "dropout.report",
    "census.view",
    "school.care",
)
_SERVICE_WORK = ("service.view", "service.need")

# The kinds of organisation a service provider's staff or volunteer belongs to (R8.1).
_PROVIDER_KINDS = ("social_work", "mass_organisation", "leading_group_unit", "clinic", "judicial", "other")

ROLES: dict[str, RoleSpec] = {
    spec.code: spec
    for spec in [
        RoleSpec(
            "system_admin",
            _("系统管理员"),
            _all(ANY, "config.edit"),
            help=_(
                "系统管理员负责区划、单位、代码表和政策参数的配置（管理后台），按照职责分离原则不查看"
                "儿童档案、不授予角色、不设置他人密码。"
            ),
            operator_only=True,
            staff=True,
            second_factor=True,
        ),
        RoleSpec(
            "county_admin",
            _("县民政局（领导小组办公室）"),
            {
                **_all(REGION, *_CHILD_WORK, *_CARE_WORK, "care.supervise"),
                **_all(REGION, "case.view", "case.reporter", "case.assist", "case.follow_up"),
                **_all(REGION, "case.reassign", "accountability.view"),
                **_all(REGION, "roster.view", "dropout.view", "census.view", "schooling.oversee"),
                **_all(REGION, "ledger.import", "ledger.export", "ledger.approve"),
                **_all(REGION, *_SERVICE_WORK, "service.manage", "service.approve"),
                **_all(REGION, "stats.view", "audit.view", "roles.grant", "auth.lockouts", "auth.tokens"),
                **_all(ANY, "report.create"),
            },
            groups=ALL_GROUPS,
            second_factor=True,
        ),
        RoleSpec(
            "township_supervisor",
            _("乡镇儿童督导员"),
            {
                **_all(REGION, *_CHILD_WORK, *_CARE_WORK, "care.supervise"),
                **_all(REGION, "case.view", "case.reporter", "case.assist", "case.follow_up"),
                **_all(REGION, "accountability.view", "stats.view", "auth.lockouts"),
                **_all(REGION, "ledger.import", "ledger.export", "ledger.submit", "ledger.review"),
                **_all(REGION, "roster.view", "dropout.view", "dropout.act", "census.view"),
                **_all(REGION, "schooling.oversee"),
                **_all(REGION, *_SERVICE_WORK),
                **_all(ANY, "report.create"),
            },
            groups=ALL_GROUPS,
        ),
        RoleSpec(
            "village_worker",
            _("村（居）儿童主任"),
            {
                **_all(REGION, *_CHILD_WORK, *_CARE_WORK),
                # assists the assessment of its village's cases; the reporter stays confidential
                **_all(REGION, "case.view", "case.follow_up"),
                **_all(REGION, "ledger.import", "ledger.export", "ledger.submit"),
                # persuades a dropout back with the school; works the census lists (R4.2, R1.10)
                **_all(REGION, "roster.view", "dropout.view", "dropout.act", "census.view"),
                **_all(REGION, *_SERVICE_WORK),
                **_all(ANY, "report.create"),
            },
            groups=ALL_GROUPS,
        ),
        RoleSpec(
            "school_staff",
            _("学校/幼儿园"),
            {
                **_all(SCHOOL, "child.view", "care.contact", *_SCHOOL_WORK),
                **_all(ANY, "report.create"),
            },
            groups=frozenset({"identity", "schooling", "contacts"}),
            org_kinds=("school", "kindergarten"),
            help=_(
                "学校/幼儿园查看本校就读儿童的身份、就学和联系方式，管理学籍名册、考勤和控辍保学，登记结对帮扶、"
                "家校联系和协助学生与父母联系，依法强制报告。"
            ),
        ),
        RoleSpec(
            "education_bureau",
            _("县教委"),
            {
                **_all(REGION, "child.view", "stats.view"),
                **_all(REGION, "roster.view", "dropout.view", "dropout.decide", "schooling.oversee"),
                **_all(ANY, "report.create"),
            },
            groups=frozenset({"identity", "schooling"}),
            help=_("县教委查看辖区儿童的身份和就学情况（控辍保学、学籍标识），不查看家庭、健康和经济情况。"),
        ),
        RoleSpec(
            "police",
            _("公安派出所"),
            {
                # the files of the children in the station's cases, with identifiers (R11.1)
                **_all(STATION, "child.view", "case.view", "case.reporter", "case.respond"),
                **_all(STATION, "case.follow_up", "case.reassign", "care.admonish"),
                # find a child in the station's area by ID number or exact name to start a case
                **_all(REGION, "child.lookup"),
                **_all(ANY, "report.create"),
            },
            groups=ALL_GROUPS - {"income"},
            org_kinds=("police_station",),
            help=_(
                "派出所查看本所承办个案中儿童的档案；需要立案时，可按身份证号码或完整姓名查找辖区内的儿童，"
                "不浏览辖区全部档案。"
            ),
        ),
        RoleSpec(
            "medical",
            _("医疗机构"),
            _all(ANY, "report.create"),
            help=_("医疗机构在发现儿童遭受侵害或面临危险时依法强制报告；本平台不向医疗机构开放儿童档案。"),
        ),
        RoleSpec(
            "service_provider",
            _("社会服务机构"),
            {
                **_all(PROVIDER, "referral.respond", "service.view", "service.respond", "service.manage"),
                **_all(PROVIDER, "activity.attend"),
                **_all(ANY, "report.create"),
            },
            org_kinds=_PROVIDER_KINDS,
            help=_(
                "社会服务机构接收和办理发给本机构的转介和服务需求，管理本机构的服务项目和活动，只看到服务所需的信息"
                "（姓名、年龄、监护人联系方式、住址、风险等级和转介事项）。"
            ),
        ),
        RoleSpec(
            "service_volunteer",
            _("志愿者"),
            {**_all(SELF, "activity.attend"), **_all(ANY, "report.create")},
            org_kinds=_PROVIDER_KINDS,
            help=_("志愿者只看到自己负责的活动场次，为参加活动的儿童签到并记录反馈。"),
        ),
        RoleSpec(
            "leadership_viewer",
            _("领导小组成员单位"),
            _all(REGION, "stats.view"),
            help=_("领导小组成员单位查看去标识的统计汇总和考核情况，不查看儿童个人档案。"),
        ),
        RoleSpec(
            "auditor",
            _("审计员"),
            _all(REGION, "audit.view"),
            help=_("审计员查看操作记录和访问日志（谁在何时查看了哪名儿童的档案），不查看儿童档案内容。"),
            operator_only=True,
            second_factor=True,
        ),
    ]
}

ROLE_CHOICES = [(code, spec.label) for code, spec in ROLES.items()]

# What every active account holds, whatever its roles: anyone may report a child in danger (Minors
# Protection Law art. 11; R5.1) — and then sees only their own reports' progress.
EVERY_ACCOUNT: dict[str, str] = {"report.create": ANY}

# The models a `config.edit` holder may change in /admin/ (Django model permissions, app_label.model).
# Users and role assignments are not among them: roles are granted on the recorded page (roles.grant).
CONFIG_MODELS = (
    "core.region",
    "core.organisation",
    "core.code",
    "core.policyparameter",
    "protection.situation",
    "protection.measure",
    "protection.servicekind",
    "care.semester",
    "services.servicetype",
)


# The roles a holder of `roles.grant` may grant in the application (within their own region, never to
# themselves); the others only the server operator grants (`manage.py grant_role`).
GRANTABLE = tuple(code for code, spec in ROLES.items() if not spec.operator_only)


def holds(role: str | None, capability: str) -> bool:
    """Does `role` (None: an account with no role) grant `capability`? For tests and documentation."""
    if capability in EVERY_ACCOUNT:
        return True
    return role in ROLES and capability in ROLES[role].all_grants()


def second_factor_roles(extra: list[str] | tuple[str, ...] = ()) -> frozenset[str]:
    """Roles whose holders log in with a second factor: the table's, plus those county policy adds
    (unknown codes in the policy are ignored: they grant nothing)."""
    return frozenset(code for code, spec in ROLES.items() if spec.second_factor or code in extra)


def roles_with(capability: str) -> list[str]:
    """Role codes whose grants include `capability` (for documentation, tests and the admin page)."""
    return [code for code, spec in ROLES.items() if capability in spec.all_grants()]
