"""Every read of child data leaves an access record (R11.2, issue 9 part 6): list pages, searches, API
lists, file views, edit forms, care records, case files, referrals, exports, reveals and look-ups, the
documents and attachments downloaded and listed — each with who, the number of files and the query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shouhu.core.access import forget_access
from shouhu.core.models import AccessLog
from shouhu.web.tests.worlds import World, build_world_a

pytestmark = pytest.mark.django_db

# (who, method, url, data, expected action, names the child?)
PATHS: list[tuple[str, str, Callable[[World], str], dict[str, Any], str, bool]] = [
    ("vw", "get", lambda w: "/children/", {}, "list", False),
    ("vw", "get", lambda w: "/children/?q=哨兵", {}, "search", False),
    ("edu", "get", lambda w: f"/children/?q={w.child.id_number}", {}, "lookup", False),
    ("vw", "get", lambda w: f"/children/{w.child.pk}/", {}, "view", True),
    ("vw", "post", lambda w: f"/children/{w.child.pk}/reveal/", {"field": "id_number"}, "reveal", True),
    ("vw", "get", lambda w: f"/children/{w.child.pk}/edit/", {}, "form", True),
    ("vw", "get", lambda w: f"/children/{w.child.pk}/guardian/carer/", {}, "form", True),
    ("vw", "get", lambda w: f"/children/{w.child.pk}/grandparents/", {}, "form", True),
    ("vw", "get", lambda w: f"/children/{w.child.pk}/agreement/new/", {}, "form", True),
    ("vw", "get", lambda w: f"/children/{w.child.pk}/household/", {}, "view", True),
    ("vw", "get", lambda w: f"/care/children/{w.child.pk}/", {}, "care", True),
    ("vw", "get", lambda w: "/care/today/", {}, "list", False),
    ("vw", "get", lambda w: "/care/alerts/", {}, "list", False),
    ("sup", "get", lambda w: "/care/villages/", {}, "list", False),
    ("sup", "get", lambda w: "/protection/cases/", {}, "list", False),
    ("sup", "get", lambda w: f"/protection/cases/{w.case.pk}/", {}, "case", True),
    ("social", "get", lambda w: "/protection/referrals/", {}, "referral", False),
    ("officer", "get", lambda w: f"/protection/report/?child={w.child.pk}", {}, "form", True),
    ("officer", "get", lambda w: f"/children/lookup/?q={w.child.name}", {}, "lookup", True),
    (
        "sup",
        "post",
        lambda w: "/ledger/export/",
        {"layout": "platform", "status": "all", "fmt": "csv", "reason": "核对台账"},
        "export",
        False,
    ),
    ("vw", "api", lambda w: "/api/v1/children/", {}, "api_list", False),
    ("vw", "api", lambda w: f"/api/v1/children/{w.child.pk}/", {}, "api_read", True),
    ("vw", "api", lambda w: f"/api/v1/children/{w.child.pk}/contacts/", {}, "care", True),
    ("vw", "api", lambda w: f"/api/v1/children/{w.child.pk}/visits/", {}, "care", True),
    ("vw", "api", lambda w: "/api/v1/alerts/", {}, "api_list", False),
    ("sup", "api", lambda w: "/api/v1/cases/", {}, "api_list", False),
    ("sup", "api", lambda w: f"/api/v1/cases/{w.case.pk}/", {}, "case", True),
    ("social", "api", lambda w: "/api/v1/referrals/", {}, "api_list", False),
    ("social", "api", lambda w: f"/api/v1/referrals/{w.referral.pk}/", {}, "referral", True),
    # documents and attachments: each download, and the API's list of a record's papers
    ("edu", "get", lambda w: f"/documents/{w.documents['registry.child'].pk}/", {}, "document", True),
    ("vw", "api", lambda w: f"/api/v1/documents/{w.documents['care.visit'].pk}/pdf/", {}, "document", True),
    ("school", "get", lambda w: f"/attachments/{w.attachments['registry.child'].pk}/", {}, "download", True),
    (
        "officer",
        "api",
        lambda w: f"/api/v1/attachments/{w.attachments['protection.case'].pk}/content/",
        {},
        "download",
        True,
    ),
    (
        "sup",
        "api",
        lambda w: f"/api/v1/attachments/?owner_type=registry.agreement&owner={w.agreement.pk}",
        {},
        "api_read",
        True,
    ),
    (
        "vw",
        "api",
        lambda w: f"/api/v1/documents/?owner_type=registry.child&owner={w.child.pk}",
        {},
        "api_read",
        True,
    ),
]


@pytest.fixture
def world(users: dict[str, Any], county: dict[str, Any]) -> World:
    w = build_world_a(users, county, reports=False)
    for u in users.values():
        forget_access(u)
    return w


@pytest.mark.parametrize(("who", "method", "url", "data", "action", "names_child"), PATHS)
def test_each_read_path_writes_an_access_record(
    users: dict[str, Any],
    world: World,
    who: str,
    method: str,
    url: Callable[[World], str],
    data: dict[str, Any],
    action: str,
    names_child: bool,
) -> None:
    user = users[who]
    before = AccessLog.objects.filter(user=user).count()
    if method == "api":
        client = APIClient()
        client.force_authenticate(user)
        status = client.get(url(world)).status_code
    else:
        web = Client()
        web.force_login(user)
        status = getattr(web, method)(url(world), data).status_code
    assert status == 200
    new = list(AccessLog.objects.filter(user=user).order_by("seq"))[before:]
    # one record per read; a search by ID number by a masked reader is a look-up as well (two)
    assert len(new) == (2 if (who, action) == ("edu", "lookup") else 1), [(r.action, r.detail) for r in new]
    row = next(r for r in new if r.action == action)
    assert row.ip == "127.0.0.1" or method == "api"
    if names_child:
        assert row.child_id == str(world.child.pk)
    if action not in ("lookup",):
        assert row.count >= 1
    assert row.mac and row.seq


def test_a_read_refused_or_out_of_reach_writes_nothing(users: dict[str, Any], world: World) -> None:
    web = Client()
    web.force_login(users["vw_other"])
    assert web.get(f"/children/{world.child.pk}/").status_code == 404
    web.force_login(users["edu"])
    assert web.get(f"/care/children/{world.child.pk}/").status_code == 403
    assert not AccessLog.objects.filter(user__in=[users["vw_other"], users["edu"]]).exists()


def test_a_generated_document_is_recorded_then_its_download(users: dict[str, Any], world: World) -> None:
    """Printing the file: one `generate` record (with whether full identifiers were printed), then the
    browser opens the PDF: one `document` record."""
    web = Client()
    web.force_login(users["vw"])
    before = AccessLog.objects.count()
    r = web.post(f"/documents/registry.child_file/{world.child.pk}/generate/", follow=True)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    rows = list(AccessLog.objects.order_by("seq"))[before:]
    assert [(x.action, x.child_id, x.count, x.identifiers) for x in rows] == [
        ("generate", str(world.child.pk), 1, True),
        ("document", str(world.child.pk), 1, True),
    ]
    assert all(x.region_code == world.child.village_id and x.mac for x in rows)
