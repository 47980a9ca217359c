"""The sentinel test for documents and attachments (issue 9 checks, issue 14 parts 6–7): a document and a
uniquely named attachment on every record of one child — the file, the entrusted-guardianship agreement,
a visit, the protection case, the guardianship petition — and the written answer to the reporter; then
every page and API response about that child rendered for every role.

- On the child's timeline each document's and attachment's event (its verification code, or its
  category, unique per record here) appears exactly for the readers its visibility class allows: the
  file's to readers of the file (a court decision: to readers of the family), the agreement's to the
  family's, the visit's to the care group's, the case's and the petition's to readers of that case, and
  the written answer only to those who may see the reporter (R5.1) — never to the village worker who
  assists the case, nor to a school that reads the pupil's file.
- Each attachment's file name appears exactly where the role may open the attachment.

Who may see each value is derived from the capability table (`capabilities.holds`), not written per page.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from shouhu.core.access import forget_access
from shouhu.core.capabilities import holds
from shouhu.core.documents import services, vcode
from shouhu.core.models import RoleAssignment, User
from shouhu.web.tests.test_sentinel import IN_REACH, USERS
from shouhu.web.tests.worlds import build_world_a

pytestmark = pytest.mark.django_db
BASE = "http://testserver/"


def cap(*capabilities: str) -> Any:
    """The role holds all of these capabilities."""
    return lambda role: all(holds(role, c) for c in capabilities)


# owner type → (category, the planted file name, who may open it, who sees its event on the timeline)
ATTACHMENTS: dict[str, tuple[str, str, Any, Any]] = {
    "registry.child": ("school_report", "哨兵成绩单.png", cap("child.schooling"), cap("child.view")),
    "registry.child#court": ("court_decision", "哨兵判决书.png", cap("child.family"), cap("child.family")),
    "registry.agreement": ("signed_agreement", "哨兵协议.png", cap("child.family"), cap("child.family")),
    "care.visit": ("photo", "哨兵走访照片.png", cap("child.care"), cap("child.care")),
    "protection.case": ("other", "哨兵个案材料.png", cap("case.view"), cap("child.view", "case.view")),
    "protection.petition": (
        "certificate",
        "哨兵申请材料.png",
        cap("case.view"),
        cap("child.view", "case.view"),
    ),
}
# document kind → who sees its event (its verification code) on the child's timeline
DOCUMENTS: dict[str, Any] = {
    "registry.child_file": cap("child.view"),
    "registry.entrustment_confirmation": cap("child.family"),
    "care.visit_record": cap("child.care"),
    "protection.written_answer": cap("child.view", "case.reporter"),  # never the village worker
}
CATEGORY_LABELS = {
    "school_report": "学校报告/成绩单",
    "court_decision": "法院判决/裁定书",
    "signed_agreement": "签字的协议/确认书",
    "photo": "照片",
    "other": "其他材料",
    "certificate": "证明材料",
}


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 6), (seed * 20 % 255, 90, 140)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(users: dict[str, Any], county: dict[str, Any]) -> Any:
    w = build_world_a(users, county, reports=False, papers=False)
    records = {
        "registry.child": w.child,
        "registry.agreement": w.agreement,
        "care.visit": w.visit,
        "protection.case": w.case,
        "protection.petition": w.petition,
    }
    for i, (key, (category, name, _opens, _timeline)) in enumerate(ATTACHMENTS.items()):
        owner_type = key.split("#")[0]
        actor = users["sup"] if owner_type == "protection.petition" else users["vw"]
        services.attachment_add(
            actor=actor,
            owner_type=owner_type,
            owner_id=records[owner_type].pk,
            category=category,
            filename=name,
            data=_png(i),
        )
    report = w.reports[users["vw"].pk]
    report.refresh_from_db()
    assert report.received_at is not None  # the station received it when it took the case
    papers = {
        "registry.child_file": (users["vw"], w.child.pk),
        "registry.entrustment_confirmation": (users["vw"], w.agreement.pk),
        "care.visit_record": (users["vw"], w.visit.pk),
        "protection.written_answer": (users["officer"], report.pk),
    }
    codes = {
        kind: vcode.grouped(
            services.document_generate(actor=actor, kind=kind, owner_id=pk, base_url=BASE).code
        )
        for kind, (actor, pk) in papers.items()
    }
    for u in users.values():
        forget_access(u)
    return w, codes


def _timeline(html: str) -> str:
    return html.split('id="timeline"', 1)[1] if 'id="timeline"' in html else ""


def rendered(user: User, w: Any) -> tuple[str, str]:
    """(every page and API response about the child this user can get, the child's timeline)"""
    web, api = Client(), APIClient()
    web.force_login(user)
    api.force_authenticate(user)
    c, case = w.child.pk, w.case.pk
    pages = [f"/children/{c}/", f"/care/children/{c}/", f"/protection/cases/{case}/"]
    owners = {
        "registry.child": c,
        "registry.agreement": w.agreement.pk,
        "care.visit": w.visit.pk,
        "protection.case": case,
        "protection.petition": w.petition.pk,
    }
    apis = [
        f"/api/v1/{what}/?owner_type={o}&owner={pk}"
        for o, pk in owners.items()
        for what in ("attachments", "documents")
    ]
    out, timeline = [], ""
    for url in pages:
        r = web.get(url)
        if r.status_code == 200:
            out.append(r.content.decode())
            if url == pages[0]:
                timeline = _timeline(out[-1])
    for url in apis:
        answer = api.get(url)
        if answer.status_code == 200:
            out.append(answer.content.decode())
    return "\n".join(out), timeline


def test_papers_and_their_events_appear_exactly_where_the_role_may_see_them(
    users: dict[str, Any], world: Any
) -> None:
    world, codes = world
    problems = []
    for who in USERS:
        user = User.objects.get(pk=users[who].pk)
        a = RoleAssignment.objects.filter(user=user).first()
        role = a.role if a else None
        everything, timeline = rendered(user, world)
        for category, name, opens, on_timeline in ATTACHMENTS.values():
            expected = who in IN_REACH and bool(opens(role))
            if (name in everything) != expected:
                problems.append(f"{who} ({role}): file {name} {'missing' if expected else 'LEAKED'}")
            event = f"上传附件：{CATEGORY_LABELS[category]}"
            expected = who in IN_REACH and bool(on_timeline(role))
            if (event in timeline) != expected:
                problems.append(f"{who} ({role}): timeline {event} {'missing' if expected else 'LEAKED'}")
        for kind, on_timeline in DOCUMENTS.items():
            code = codes[kind]
            expected = who in IN_REACH and bool(on_timeline(role))
            if (code in timeline) != expected:
                problems.append(f"{who} ({role}): timeline {kind} {'missing' if expected else 'LEAKED'}")
    assert not problems, "\n".join(problems)


def test_the_papers_are_planted(world: Any) -> None:
    """Guard: every event is in the sealed chain with its class (else the test above proves nothing)."""
    from shouhu.core.models import Event

    world, _codes = world
    classes = {
        (e.verb, (e.after or {}).get("owner_type") or (e.after or {}).get("kind"), e.visibility)
        for e in Event.objects.filter(
            child_id=str(world.child.pk), verb__in=("attachment.added", "document.generated")
        )
    }
    assert classes >= {
        ("attachment.added", "registry.child", "file"),
        ("attachment.added", "registry.child", "family"),  # the court decision
        ("attachment.added", "registry.agreement", "family"),
        ("attachment.added", "care.visit", "care"),
        ("attachment.added", "protection.case", "protection"),
        ("attachment.added", "protection.petition", "protection"),
        ("document.generated", "registry.child", "file"),
        ("document.generated", "registry.agreement", "family"),
        ("document.generated", "care.visit", "care"),
        ("document.generated", "protection.report", "reporter"),
    }
    protection = Event.objects.filter(child_id=str(world.child.pk), visibility__in=("protection", "reporter"))
    assert protection.exists()
    papers = [e for e in protection if e.subject_type in ("core.document", "core.attachment")]
    assert len(papers) == 3 and all((e.after or {}).get("case") == str(world.case.pk) for e in papers)
