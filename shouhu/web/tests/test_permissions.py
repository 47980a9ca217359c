"""Permission matrix for every web view (DESIGN principle 1, R11.1): anonymous, no role, in scope, out of
scope, read-only roles. Out of scope answers 404 exactly like a missing file."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from shouhu.core.models import AccessLog
from shouhu.registry.models import Child

pytestmark = pytest.mark.django_db

PAGES = ["detail", "edit", "carer", "entrusted", "grandparents"]


def urls(child: Any) -> dict[str, str]:
    return {
        "list": "/children/",
        "new": "/children/new/",
        "detail": f"/children/{child.pk}/",
        "edit": f"/children/{child.pk}/edit/",
        "carer": f"/children/{child.pk}/guardian/carer/",
        "entrusted": f"/children/{child.pk}/guardian/entrusted/",
        "grandparents": f"/children/{child.pk}/grandparents/",
    }


# role -> (list shows the child, new, detail, the four write pages)
MATRIX = {
    "vw": (True, 200, 200, 200),
    "vw_same_town": (False, 200, 404, 404),
    "vw_other": (False, 200, 404, 404),
    "sup": (True, 200, 200, 200),
    "sup_other": (False, 200, 404, 404),
    "county": (True, 200, 200, 200),
    "police": (True, 403, 200, 403),
    "police_other": (False, 403, 404, 404),
    "edu": (True, 403, 200, 403),
    "school": (False, 403, 404, 404),
    "doctor": (False, 403, 404, 404),
    "social": (False, 403, 404, 404),
    "leader": (False, 403, 404, 404),
    "auditor": (False, 403, 404, 404),
    "admin": (False, 403, 404, 404),
    "nobody": (False, 403, 404, 404),
}


@pytest.fixture
def child(make_child: Any) -> Child:
    return make_child(name="张晓明")


def test_anonymous_is_sent_to_login(client: Client, child: Child) -> None:
    for name, url in {"home": "/", **urls(child)}.items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/login/?next="), name


def test_public_pages_answer_anonymous(client: Client) -> None:
    assert client.get("/healthz").content == b"ok"
    assert client.get("/login/").status_code == 200
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/login/"}).status_code == 302


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_matrix(client: Client, users: dict[str, Any], child: Child, role: str) -> None:
    sees, new, detail, write = MATRIX[role]
    client.force_login(users[role])
    assert client.get("/").status_code == 200
    page = client.get("/children/")
    assert page.status_code == 200
    assert ("张晓明" in page.content.decode()) is sees
    if not sees:
        assert str(child.pk) not in page.content.decode()
    u = urls(child)
    assert client.get(u["new"]).status_code == new
    assert client.get(u["detail"]).status_code == detail
    for name in ["edit", "carer", "entrusted", "grandparents"]:
        assert client.get(u[name]).status_code == write, name


@pytest.mark.parametrize("role", ["vw_other", "police", "edu", "nobody"])
def test_posts_without_right_write_nothing(
    client: Client, users: dict[str, Any], child: Child, role: str
) -> None:
    client.force_login(users[role])
    u = urls(child)
    expected = MATRIX[role][3]
    assert client.post(u["edit"], {"name": "改名", "version": child.version}).status_code == expected
    assert client.post(u["carer"], {"name": "王婆婆", "relationship": "62"}).status_code == expected
    assert client.post(u["grandparents"], {"paternal_grandfather-name": "张老汉"}).status_code == expected
    child.refresh_from_db()
    assert child.name == "张晓明"
    assert not child.guardians.exists()
    assert not child.grandparents.exists()


def test_unknown_and_malformed_ids_are_404(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["county"])
    assert client.get(f"/children/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/children/{uuid.uuid4()}/edit/").status_code == 404
    assert client.get("/children/not-a-uuid/").status_code == 404


def test_unknown_guardian_role_is_404(client: Client, users: dict[str, Any], child: Child) -> None:
    client.force_login(users["vw"])
    assert client.get(f"/children/{child.pk}/guardian/uncle/").status_code == 404


def test_edu_sees_masked_id_and_no_edit_button(client: Client, users: dict[str, Any], child: Child) -> None:
    client.force_login(users["edu"])
    body = client.get(f"/children/{child.pk}/").content.decode()
    assert child.id_number is not None
    assert child.id_number not in body
    assert child.id_number[:6] + "********" + child.id_number[-4:] in body
    assert f"/children/{child.pk}/edit/" not in body
    assert "13800138000" not in body  # father's phone is masked too
    assert child.id_number not in client.get("/children/").content.decode()


def test_worker_sees_full_id_and_edit_button(client: Client, users: dict[str, Any], child: Child) -> None:
    client.force_login(users["vw"])
    body = client.get(f"/children/{child.pk}/").content.decode()
    assert child.id_number is not None
    assert child.id_number in body
    assert f"/children/{child.pk}/edit/" in body


def test_police_reads_with_identifiers_but_cannot_edit(
    client: Client, users: dict[str, Any], child: Child
) -> None:
    client.force_login(users["police"])
    body = client.get(f"/children/{child.pk}/").content.decode()
    assert child.id_number is not None
    assert child.id_number in body
    assert f"/children/{child.pk}/edit/" not in body


def test_every_view_of_the_file_is_logged(client: Client, users: dict[str, Any], child: Child) -> None:
    client.force_login(users["sup"])
    client.get(f"/children/{child.pk}/")
    client.get(f"/children/{child.pk}/")
    logs = AccessLog.objects.filter(child_id=str(child.pk), action="view", user=users["sup"])
    assert logs.count() == 2
    assert logs.first().ip == "127.0.0.1"


def test_out_of_scope_view_is_not_logged(client: Client, users: dict[str, Any], child: Child) -> None:
    client.force_login(users["vw_other"])
    client.get(f"/children/{child.pk}/")
    assert not AccessLog.objects.filter(child_id=str(child.pk)).exists()


def test_roles_without_children_get_an_explained_empty_state(client: Client, users: dict[str, Any]) -> None:
    for role in ["admin", "doctor", "social", "leader", "auditor", "nobody"]:
        client.force_login(users[role])
        body = client.get("/").content.decode()
        assert "不查看儿童档案" in body or "没有分配角色" in body, role
        assert "全部儿童" not in body
        assert "您的角色不查看儿童档案" in client.get("/children/").content.decode()


def test_home_counts_link_to_filtered_list(client: Client, users: dict[str, Any], make_child: Any) -> None:
    make_child()
    make_child(sex="2")  # a left-behind girl is a key target
    client.force_login(users["vw"])
    body = client.get("/").content.decode()
    assert "/children/?left_behind=yes" in body
    assert "/children/?key_target=yes" in body
    assert "巴山镇" in body or "梨山村" in body
    listed = client.get("/children/?key_target=yes").content.decode()
    assert "共 1 名儿童" in listed
