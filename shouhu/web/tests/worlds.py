"""Two worlds for the permission matrix and the sentinel test (issue 9 checks).

World A lies inside the reach of every featured demo login (the 巴山 village worker, 巴山镇's supervisor,
the county, 巴山 station's police — through a case —, 巴山中心小学's staff — through the school —, the
阳光 social-work centre — through an accepted referral —, the education bureau, the auditor …): one
child with a full file, care records, an alert, a protection case taken to `assisting` with a referral,
a petition, one own report per login that may report, one import job per login that may import, and
on each record a document and an attachment (the document service's owners: the file, the entrusted-
guardianship agreement, a visit, the case, the petition, and each own report's written answer).

World B is another county (500230) that no demo login reaches: the same kinds of rows, made by its own
administrator. Every object of world B must answer exactly like a missing one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone

from shouhu.conftest import BASHAN, BASHAN_VILLAGE, child_data
from shouhu.core.access import can, forget_access
from shouhu.core.models import Organisation, OrganisationKind, Region, RegionKind, RoleAssignment, User

B_COUNTY, B_TOWN, B_VILLAGE = "500230000000", "500230101000", "500230101201"


@dataclass
class World:
    child: Any
    case: Any
    referral: Any
    petition: Any
    alert: Any
    township: str
    manageable: Any  # an account the county administrator may manage
    reports: dict[int, Any] = field(default_factory=dict)  # user id → that user's own report
    jobs: dict[int, Any] = field(default_factory=dict)  # user id → that user's import job
    plan_item: int = 0
    agreement: Any = None
    visit: Any = None
    documents: dict[str, Any] = field(default_factory=dict)  # owner type → a document of the record
    attachments: dict[str, Any] = field(default_factory=dict)  # owner type → an attachment of the record
    answers: dict[int, Any] = field(default_factory=dict)  # user id → the written answer to their report
    lock: Any = None  # a login lock on an account of the world (issue 10: auth.lockouts)
    token: Any = None  # a service token issued by the world's county administrator (auth.tokens)
    enrolment: Any = None  # the child's enrolment at a school (schooling, issue 13)
    dropout: Any = None  # a dropout case of the child
    # services (issue 17): the provider serving the child, its programme, a session, the child's need
    provider: Any = None
    programme: Any = None
    session: Any = None
    need: Any = None


def add_login_records(world: World, locked: Any, region_code: str, admin: Any) -> None:
    """A login lock on `locked` (working in `region_code`) and a service token of `admin`."""
    from datetime import timedelta

    from shouhu.accounts.models import ApiToken, LoginLock, TokenKind

    now = timezone.now()
    world.lock = LoginLock.objects.create(
        kind="username", key=locked.username, until=now + timedelta(minutes=15), region_code=region_code
    )
    world.token = ApiToken.objects.create(
        user=admin,
        digest=f"{admin.pk:064d}",
        prefix="matrix00",
        kind=TokenKind.SERVICE,
        label="matrix",
        capabilities=["stats.view"],
        expires_at=now + timedelta(days=30),
    )


# The documents and attachments of a world (see `add_papers`): the kind of each owner's document and the
# field groups it printed, and each owner's attachment category and uploader.
PAPER_DOCUMENTS = {
    # an education bureau's copy of the file: identity and schooling, identifiers masked
    "registry.child": ("registry.child_file", ["identity", "schooling"], False),
    "registry.agreement": (
        "registry.entrustment_confirmation",
        ["contacts", "family", "identity", "schooling"],
        True,
    ),
    "care.visit": ("care.visit_record", ["care", "contacts", "family", "identity", "schooling"], True),
}
PAPER_ATTACHMENTS = {
    "registry.child": "photo",
    "registry.agreement": "signed_agreement",
    "care.visit": "photo",
    "protection.case": "photo",
    "protection.petition": "court_decision",
}


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 60, 90)).save(out, format="PNG")
    return out.getvalue()


def _document(kind: str, owner_type: str, record: Any, actor: User, groups: list[str], ids: bool) -> Any:
    """A document row as the service issues it, without laying out a PDF (the matrix opens its bytes)."""
    from shouhu.core.documents import owners, storage, vcode
    from shouhu.core.documents.models import GeneratedDocument

    owner = owners.get(owner_type)
    return GeneratedDocument.objects.create(
        code=vcode.new_code(),
        kind=kind,
        owner_type=owner_type,
        owner_id=str(record.pk),
        child_id=owner.child_id(record),
        region_code=owner.region_code(record),
        issuer="测试单位",
        issued_by=actor,
        data_hash="0" * 64,
        sha256="0" * 64,
        size=16,
        identifiers_shown=ids,
        groups=groups,
        content=storage.store(b"%PDF-1.4 matrix\n"),
    )


def add_papers(world: World, civil: User, village: User, *, documents: bool = True) -> None:
    """An agreement, then (`documents`) a document and an attachment on each record of the world
    (`civil` files the petition's court decision, `village` everything else) and a written answer to
    each own report."""
    from shouhu.core.documents.services import attachment_add
    from shouhu.registry.models import Agreement, Guardian

    child = world.child
    guardian = Guardian.objects.create(child=child, role=Guardian.Role.ENTRUSTED, name="受托人乙")
    today = timezone.localdate()
    world.agreement = Agreement.objects.create(
        child=child, guardian=guardian, principals="父母", signed_on=today, valid_from=today, valid_to=today
    )
    if not documents:
        return
    records = {
        "registry.child": child,
        "registry.agreement": world.agreement,
        "care.visit": world.visit,
        "protection.case": world.case,
        "protection.petition": world.petition,
    }
    for owner_type, (kind, groups, ids) in PAPER_DOCUMENTS.items():
        world.documents[owner_type] = _document(kind, owner_type, records[owner_type], village, groups, ids)
    for owner_type, category in PAPER_ATTACHMENTS.items():
        world.attachments[owner_type] = attachment_add(
            actor=civil if owner_type == "protection.petition" else village,
            owner_type=owner_type,
            owner_id=records[owner_type].pk,
            category=category,
            filename="world.png",
            data=_png(),
        )
    for user_id, report in world.reports.items():
        world.answers[user_id] = _document(
            "protection.written_answer", "protection.report", report, village, [], False
        )


def _advance(case: Any, police: User, civil: User, provider_name: str, provider_user: User | None) -> Any:
    from shouhu.protection import services

    for to, data in (("received", {}), ("responded", {"measures": ["dispatch"]}), ("township_notified", {})):
        services.case_transition(actor=police, case_id=case.pk, to=to, note="哨兵警情：现场核实", data=data)
    services.case_transition(
        actor=civil,
        case_id=case.pk,
        to="assessed",
        data={
            "assessment": {
                "participants": ["乡镇", "民政", "公安"],
                "safety": "concern",
                "guardianship": "concern",
                "physical_health": "ok",
                "mental_health": "ok",
                "summary": "哨兵评估意见",
            }
        },
    )
    services.case_transition(
        actor=civil,
        case_id=case.pk,
        to="assisting",
        data={
            "plan": "哨兵帮扶方案",
            "referrals": [{"service_kind": "counselling", "provider": provider_name, "need": "哨兵转介需求"}],
        },
    )
    referral = case.referrals.get()
    if provider_user is not None:
        services.referral_respond(actor=provider_user, referral_id=referral.pk, action="accept")
    return referral


def _petition(case: Any) -> Any:
    from shouhu.protection.models import Petition

    return Petition.objects.create(
        case=case,
        petitioner=Petition.Petitioner.CIVIL_AFFAIRS,
        petitioner_name="民政部门",
        guardian_name="哨兵监护人",
        grounds=["a"],
        court="城口县人民法院",
        filed_on=timezone.localdate(),
    )


def _job(user: User) -> Any:
    from shouhu.ledger.models import ImportJob
    from shouhu.ledger.tests.helpers import base_row, official

    data, _ = official([base_row(name="导入甲")])
    return ImportJob.objects.create(
        user=user, filename="a.xlsx", content=data, summary={"rows": 1, "errors": []}
    )


def _report(user: User, child: Any) -> Any:
    from shouhu.protection import services

    return services.report_submit(
        actor=user,
        data={
            "child_name": child.name,
            "village": child.village_id,
            "situations": ["guardian_neglect"],
            "discovered_at": timezone.now(),
            "description": "报告人所见",
        },
    )


def build_world_a(
    users: dict[str, Any],
    county: dict[str, Any],
    *,
    sentinel: bool = False,
    school: Any = None,
    reports: bool = True,
    papers: bool = True,
) -> World:
    """World A in 巴山镇 (see the module docstring). `sentinel`: an income source planted too (the code
    must exist); `school`: the child's school (default 巴山中心小学); `reports`: also one own report and
    one import job per login that may (the matrix), or only the village worker's report (the sentinel
    test: a reporter sees the name they typed); `papers`: documents and attachments on every record
    (`add_papers`), or only the agreement they would hang on."""
    from shouhu.care import services as care
    from shouhu.care.alerts import AlertSpec, open_alert
    from shouhu.protection import services as protection
    from shouhu.registry import family
    from shouhu.registry.services import guardian_set

    school = school or Organisation.objects.get(name="巴山中心小学")
    data = child_data(
        name="哨兵甲",
        school=school,
        address="哨兵路1号",
        illness="哨兵病",
        health="ill",
        notes="哨兵备注",
        income_sources=["sentinel_income"] if sentinel else ["wages"],
        village_contact_name="哨兵村干部",
        village_contact_phone="13712345678",
    )
    data["parents"][0].update(name="哨兵父亲", phone="13912345678", birth_date=date(1985, 3, 1))
    from shouhu.registry.services import child_create

    child = child_create(actor=users["vw"], data=data)
    guardian_set(
        actor=users["vw"],
        child=child,
        role="carer",
        data={"name": "哨兵照料人", "relationship": "62", "phone": "13612345678"},
    )
    family.household_attach(actor=users["vw"], child=child, head_name="哨兵户主")
    item = family.plan_item_add(
        actor=users["vw"],
        child=child,
        data={"measure": "哨兵一户一策", "owner": "村委会", "due_date": None},
        today=timezone.localdate(),
    )
    care.contact_log(
        actor=users["vw"],
        child=child,
        data={"parent": "father", "channel": "phone", "occurred_at": timezone.now()},
    )
    visit, _ = care.visit_log(
        actor=users["vw"],
        child=child,
        data={"occurred_at": timezone.now(), "kind": "routine", "findings": {"study": "哨兵走访"}},
    )
    alert, _ = open_alert(
        kind="visit_overdue",
        spec=AlertSpec(
            key=f"child:{child.pk}:matrix", region_id=child.village_id, message="哨兵预警", child_id=child.pk
        ),
        at=timezone.now(),
    )
    report = protection.report_submit(
        actor=users["vw"],
        data={
            "child": str(child.pk),
            "situations": ["domestic_violence"],
            "discovered_at": timezone.now(),
            "description": "哨兵情况描述",
            "reporter_name": "哨兵报告人",
        },
    )
    case = report.case
    referral = _advance(case, users["officer"], users["sup"], "城口县阳光社会工作服务中心", users["social"])
    world = World(
        child=child,
        case=case,
        referral=referral,
        petition=_petition(case),
        alert=alert,
        township=BASHAN,
        manageable=county["vw_102202"],
        plan_item=item.pk,
        visit=visit,
    )
    world.reports[users["vw"].pk] = report
    for user in users.values():
        forget_access(user)
        if not reports:
            continue
        if user.pk not in world.reports and can(user, "report.create"):
            world.reports[user.pk] = _report(user, child)
        if can(user, "ledger.import"):
            world.jobs[user.pk] = _job(user)
    add_papers(world, users["sup"], users["vw"], documents=papers)
    add_login_records(world, county["vw_102202"], "500229102202", users["county"])
    add_services(world, users["county"], "城口县阳光社会工作服务中心", users.get("volunteer"))
    return world


def build_world_b() -> World:
    """Another county that no demo login reaches, with its own administrator, station and provider."""
    from shouhu.care import services as care
    from shouhu.care.alerts import AlertSpec, open_alert
    from shouhu.protection import services as protection
    from shouhu.registry.services import child_create

    b_county = Region.objects.create(code=B_COUNTY, name="乙县", kind=RegionKind.COUNTY)
    town = Region.objects.create(code=B_TOWN, name="乙镇", kind=RegionKind.TOWN, parent=b_county)
    Region.objects.create(code=B_VILLAGE, name="乙村", kind=RegionKind.VILLAGE, parent=town)
    station = Organisation.objects.create(
        name="乙县公安局乙镇派出所", kind=OrganisationKind.POLICE_STATION, region=town
    )
    provider = Organisation.objects.create(
        name="乙县社工中心", kind=OrganisationKind.SOCIAL_WORK, region=b_county
    )
    school = Organisation.objects.create(name="乙镇小学", kind=OrganisationKind.SCHOOL, region=town)
    ghost = User.objects.create_user("ghost_admin", password="x-pass-12345", organisation=provider)
    RoleAssignment.objects.create(user=ghost, role="county_admin", region=b_county)
    RoleAssignment.objects.create(user=ghost, role="police", organisation=station)
    RoleAssignment.objects.create(user=ghost, role="service_provider", organisation=provider)
    forget_access(ghost)
    data = child_data(
        name="乙县儿童", village=B_VILLAGE, school=school, id_number=None, hukou_registered=False
    )
    child = child_create(actor=ghost, data=data)
    visit, _ = care.visit_log(
        actor=ghost, child=child, data={"occurred_at": timezone.now(), "kind": "routine", "findings": {}}
    )
    alert, _ = open_alert(
        kind="visit_overdue",
        spec=AlertSpec(key=f"child:{child.pk}:b", region_id=B_VILLAGE, message="乙县预警", child_id=child.pk),
        at=timezone.now(),
    )
    report = protection.report_submit(
        actor=ghost,
        data={
            "child": str(child.pk),
            "situations": ["living_alone"],
            "discovered_at": timezone.now(),
            "description": "乙县报告",
        },
    )
    case = report.case
    referral = _advance(case, ghost, ghost, provider.name, ghost)
    world = World(
        child=child,
        case=case,
        referral=referral,
        petition=_petition(case),
        alert=alert,
        township=town.code,
        manageable=ghost,
        visit=visit,
    )
    world.reports[ghost.pk] = report
    world.jobs[ghost.pk] = _job(ghost)
    add_papers(world, ghost, ghost)
    add_login_records(world, ghost, B_COUNTY, ghost)
    add_services(world, ghost, provider.name, ghost)
    return world


def add_services(world: World, admin: Any, provider_name: str, volunteer: Any) -> None:
    """The services module's rows of a world (issue 17): the provider (approved, serving the child's
    village), a programme there with the child enrolled, a past session led by `volunteer`, and the
    child's counselling need offered to the provider."""
    from datetime import timedelta

    from shouhu.services import activities, services
    from shouhu.services.models import Enrolment

    org = Organisation.objects.get(name=provider_name)
    provider = services.provider_register(
        actor=admin,
        data={
            "organisation": org.pk,
            "category": "social_work",
            "villages": [world.child.village_id],
            "service_types": ["counselling", "homework_help"],
        },
    )
    services.provider_decide(actor=admin, provider=provider, status="approved")
    programme = services.programme_create(
        actor=admin,
        provider=provider,
        data={"name": "哨兵四点半课堂", "service_type": "homework_help", "village": world.child.village_id},
    )
    Enrolment.objects.create(programme=programme, child=world.child)
    session = activities.session_create(
        actor=admin,
        programme=programme,
        data={"starts_at": timezone.now() - timedelta(hours=3), "hours": "2"},
    )
    if volunteer is not None:
        session.volunteer = volunteer
        session.save(update_fields=["volunteer"])
    need = services.need_record(
        actor=admin, child=world.child, data={"type": "counselling", "source": "visit"}
    )
    services.need_transition(actor=admin, need=need, to="offered", provider=provider.pk)
    world.provider, world.programme, world.session, world.need = provider, programme, session, need


MISSING_UUID = uuid.UUID("00000000-0000-4000-8000-000000000000")
__all__ = ["BASHAN_VILLAGE", "MISSING_UUID", "World", "build_world_a", "build_world_b"]
