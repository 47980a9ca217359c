"""The Chengkou demo county: generated villages (marked demo), the organisations of the plan and one
demo login per role. Deterministic: the same seed gives the same county.

Villages follow the numbering rules of the 12-digit code: 001–199 居委会 (community), 200–399 村委会.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from shouhu.core.capabilities import second_factor_roles
from shouhu.core.models import Organisation, OrganisationKind, Region, RegionKind, RoleAssignment, User
from shouhu.core.pinyin import name_pinyin

DEMO_PASSWORD = "Shouhu-demo-2026"
COUNTY = "500229000000"
# The two townships whose village workers and supervisor get demo logins (R: at least two townships).
FEATURED = ("500229102000", "500229201000")  # 巴山镇, 龙田乡

# 三(一): the leading group's 15 member units, with the duties the plan gives them.
LEADING_GROUP = [
    ("县综治办", "将关爱保护工作纳入社会综合治理考核"),
    ("县文明办", "宣传引导，营造关爱氛围"),
    ("县财政局", "经费纳入财政预算，落实税费减免"),
    ("县教委", "控辍保学、普查登记、学籍标识、结对帮扶"),
    ("县农委", "农民工返乡创业就业、脱贫攻坚"),
    ("县公安局", "强制报告受理、应急处置、监护干预"),
    ("县民政局", "牵头单位，领导小组办公室，信息平台建设"),
    ("县司法局", "法治宣传、法律服务、法律援助"),
    ("县人力社保局", "就业创业服务与培训"),
    ("县卫生计生委", "医疗救治、强制报告"),
    ("县检察院", "法律监督、监护权撤销支持"),
    ("县总工会", "职工关爱服务与互助活动"),
    ("团县委", "四点半课堂、七彩假期、12355 青少年服务平台"),
    ("县妇联", "结对帮扶、家庭教育、12338 维权热线"),
    ("县残联", "留守残疾儿童康复"),
]

_VILLAGE_WORDS = list(
    "青山石河坪坝沟湾岭林桥溪田岩龙凤花竹松柏梨桃杨柳金银黄白红新兴和平安乐丰茂春秋东西南北中上下前后高明"
)


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    scope: str  # a region code or an organisation name (API.md)
    full_name: str = ""
    org: int | None = None  # the organisation id where the role has one (API.md)
    totp_secret: str = ""  # base32, for roles that need a second factor (API.md; public like the password)


def short_name(region: Region) -> str:
    """巴山镇 → 巴山; 葛城街道 → 葛城 (for organisation names and usernames)."""
    for suffix in ("街道", "镇", "乡"):
        if region.name.endswith(suffix) and len(region.name) > len(suffix) + 1:
            return region.name[: -len(suffix)]
    return region.name


def slug(region: Region) -> str:
    return name_pinyin(short_name(region))[0]


@transaction.atomic
def build_regions(seed: int = 2016, villages_total: int = 204) -> list[Region]:
    """Generate demo villages under the 25 official township-level units (about 8 each)."""
    rng = random.Random(seed)
    townships = list(Region.objects.filter(parent_id=COUNTY).order_by("code"))
    if Region.objects.filter(parent__parent_id=COUNTY).exists():
        return list(Region.objects.filter(parent__parent_id=COUNTY).order_by("code"))
    per = [villages_total // len(townships)] * len(townships)
    for i in range(villages_total - sum(per)):
        per[i] += 1
    created: list[Region] = []
    used: set[str] = set()
    for town, count in zip(townships, per, strict=True):
        communities = 2 if town.kind in (RegionKind.SUBDISTRICT, RegionKind.TOWN) else 1
        for i in range(count):
            is_community = i < communities
            while True:
                base = rng.choice(_VILLAGE_WORDS) + rng.choice(_VILLAGE_WORDS)
                if base not in used:
                    used.add(base)
                    break
            number = (1 + i) if is_community else (200 + i - communities + 1)
            created.append(
                Region(
                    code=f"{town.code[:9]}{number:03d}",
                    name=base + ("社区" if is_community else "村"),
                    kind=RegionKind.COMMUNITY if is_community else RegionKind.VILLAGE,
                    parent=town,
                    is_demo=True,
                )
            )
    Region.objects.bulk_create(created)
    return created


@transaction.atomic
def build_organisations() -> None:
    county = Region.objects.get(code=COUNTY)
    gov = Organisation.objects.get_or_create(
        name="城口县人民政府", defaults=dict(kind=OrganisationKind.GOVERNMENT, region=county)
    )[0]
    for name, duties in LEADING_GROUP:
        Organisation.objects.get_or_create(
            name=name,
            defaults=dict(
                kind=OrganisationKind.LEADING_GROUP_UNIT,
                region=county,
                parent=gov,
                leading_group_member=True,
                duties=duties,
                is_demo=True,
            ),
        )
    extra = [
        ("城口县人民法院", OrganisationKind.JUDICIAL),
        ("城口县阳光社会工作服务中心", OrganisationKind.SOCIAL_WORK),
        ("城口县救助管理站", OrganisationKind.OTHER),
        ("城口县人民医院", OrganisationKind.CLINIC),
        ("城口中学", OrganisationKind.SCHOOL),
    ]
    for name, kind in extra:
        Organisation.objects.get_or_create(name=name, defaults=dict(kind=kind, region=county, is_demo=True))
    police_hq = Organisation.objects.get(name="县公安局")
    for town in Region.objects.filter(parent_id=COUNTY).order_by("code"):
        short = short_name(town)
        gov_name = f"{town.name}办事处" if town.kind == RegionKind.SUBDISTRICT else f"{town.name}人民政府"
        rows = [
            (gov_name, OrganisationKind.TOWNSHIP_GOVERNMENT, None),
            (f"{short}中心小学", OrganisationKind.SCHOOL, None),
            (f"{short}中心幼儿园", OrganisationKind.KINDERGARTEN, None),
            (f"{short}卫生院", OrganisationKind.CLINIC, None),
            (f"城口县公安局{short}派出所", OrganisationKind.POLICE_STATION, police_hq),
        ]
        for name, kind, parent in rows:
            Organisation.objects.get_or_create(
                name=name, defaults=dict(kind=kind, region=town, parent=parent, is_demo=True)
            )
    committees = [
        Organisation(
            name=f"{v.parent.name if v.parent else ''}{v.name}{'居民委员会' if v.kind == RegionKind.COMMUNITY else '村民委员会'}",
            kind=OrganisationKind.VILLAGE_COMMITTEE,
            region=v,
            is_demo=True,
        )
        for v in Region.objects.filter(parent__parent_id=COUNTY).select_related("parent")
    ]
    existing = set(Organisation.objects.values_list("name", flat=True))
    Organisation.objects.bulk_create([c for c in committees if c.name not in existing])


_HASHED: dict[str, str] = {}


def _hashed(password: str) -> str:
    """One PBKDF2 hash for all demo logins sharing a password: hashing ~50 times took ~27 s."""
    if password not in _HASHED:
        _HASHED[password] = make_password(password)
    return _HASHED[password]


def _user(
    username: str,
    full_name: str,
    org: Organisation | None,
    role: str,
    *,
    region: Region | None = None,
    organisation: Organisation | None = None,
    password: str = DEMO_PASSWORD,
    staff: bool = False,
) -> Login:
    user, created = User.objects.get_or_create(
        username=username, defaults=dict(full_name=full_name, organisation=org)
    )
    if created:
        user.password = _hashed(password)
        user.is_staff = staff  # the system administrator configures in /admin/: staff, never superuser
        user.is_superuser = False
        user.save()
        RoleAssignment.objects.create(user=user, role=role, region=region, organisation=organisation)
    scope = region.code if region is not None else (organisation.name if organisation else "")
    secret = ""
    if role in second_factor_roles():
        from shouhu.accounts.otp import ensure_demo_device

        secret = ensure_demo_device(user)
    return Login(
        username, password, role, scope, full_name, organisation.pk if organisation else None, secret
    )


@transaction.atomic
def build_users() -> list[Login]:
    """One demo login per role code of API.md; supervisors and village workers in two townships; a
    police login for every station."""
    county = Region.objects.get(code=COUNTY)
    org = Organisation.objects.get
    logins = [
        _user("admin", "系统管理员", org(name="县民政局"), "system_admin", region=county, staff=True),
        _user("county", "县民政局 王主任", org(name="县民政局"), "county_admin", region=county),
        _user("edu", "县教委 李科长", org(name="县教委"), "education_bureau", region=county),
        _user(
            "leader",
            "县妇联 张主席",
            org(name="县妇联"),
            "leadership_viewer",
            organisation=org(name="县妇联"),
        ),
        _user("auditor", "审计员 周审", org(name="县民政局"), "auditor", region=county),
        _user(
            "social",
            "社工 陈社工",
            org(name="城口县阳光社会工作服务中心"),
            "service_provider",
            organisation=org(name="城口县阳光社会工作服务中心"),
        ),
        # A women's-federation volunteer who takes attendance at 四点半课堂 (issue 17; services/demo.py).
        _user(
            "volunteer",
            "县妇联志愿者 刘老师",
            org(name="县妇联"),
            "service_volunteer",
            organisation=org(name="县妇联"),
        ),
    ]
    for code in FEATURED:
        town = Region.objects.get(code=code)
        s, short = slug(town), short_name(town)
        logins.append(
            _user(
                f"sup_{s}",
                f"{short}督导员",
                org(name=f"{town.name}人民政府"),
                "township_supervisor",
                region=town,
            )
        )
        school = org(name=f"{short}中心小学")
        logins.append(
            _user(f"school_{s}", f"{short}中心小学 教师", school, "school_staff", organisation=school)
        )
        clinic = org(name=f"{short}卫生院")
        logins.append(_user(f"doctor_{s}", f"{short}卫生院 医生", clinic, "medical", organisation=clinic))
        for village in Region.objects.filter(parent=town).order_by("code"):
            committee = Organisation.objects.filter(
                region=village, kind=OrganisationKind.VILLAGE_COMMITTEE
            ).first()
            logins.append(
                _user(
                    f"vw_{village.code[-6:]}",
                    f"{village.name}儿童主任",
                    committee,
                    "village_worker",
                    region=village,
                )
            )
    for town in Region.objects.filter(parent_id=COUNTY).order_by("code"):
        station = org(name=f"城口县公安局{short_name(town)}派出所")
        logins.append(
            _user(f"police_{slug(town)}", f"{station.name} 民警", station, "police", organisation=station)
        )
    return logins


def build_county(seed: int = 2016) -> list[Login]:
    build_regions(seed)
    build_organisations()
    return build_users()
