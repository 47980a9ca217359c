"""What the child pages show each role (R11.1, R11.3): masks by default and one-tap reveals that are
logged, field groups left out of the page, the access record of every read. Who may open which page
at all is the generated matrix (test_matrix.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from shouhu.core.models import AccessLog
from shouhu.registry.models import Child

pytestmark = pytest.mark.django_db

MASKED = "500229" + "*" * 12


@pytest.fixture
def child(make_child: Any) -> Child:
    return make_child(name="张晓明", illness="哮喘", health="ill")


def test_public_pages_answer_anonymous(client: Client) -> None:
    assert client.get("/healthz").content == b"ok"
    assert client.get("/login/").status_code == 200
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/login/"}).status_code == 302
    assert client.get("/").status_code == 302


def test_unknown_and_malformed_ids_are_404(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["county"])
    assert client.get(f"/children/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/children/{uuid.uuid4()}/edit/").status_code == 404
    assert client.get("/children/not-a-uuid/").status_code == 404


def test_unknown_guardian_role_is_404(client: Client, users: dict[str, Any], child: Child) -> None:
    client.force_login(users["vw"])
    assert client.get(f"/children/{child.pk}/guardian/uncle/").status_code == 404


def test_edu_sees_identity_and_schooling_only(client: Client, users: dict[str, Any], child: Child) -> None:
    """The education bureau: identity (ID number masked to the region code) and schooling; no family,
    health or income section, no edit button, no reveal (issue 9 part 2)."""
    client.force_login(users["edu"])
    body = client.get(f"/children/{child.pk}/").content.decode()
    assert child.id_number is not None and child.id_number not in body and MASKED in body
    assert "哮喘" not in body and "张大山" not in body and "13800138000" not in body
    assert 'id="parents"' not in body and 'id="economy"' not in body
    assert "小学" in body  # schooling
    assert f"/children/{child.pk}/edit/" not in body and "child_reveal" not in body
    assert "/reveal/" not in body
    assert child.id_number not in client.get("/children/").content.decode()


def test_worker_sees_masks_and_reveals_one_number_with_one_tap(
    client: Client, users: dict[str, Any], child: Child
) -> None:
    client.force_login(users["vw"])
    body = client.get(f"/children/{child.pk}/").content.decode()
    number = child.id_number or ""
    assert number and number not in body  # masked by default
    assert MASKED in body and "138****8000" in body and "哮喘" in body
    assert f"/children/{child.pk}/edit/" in body and f"/children/{child.pk}/reveal/" in body
    r = client.post(f"/children/{child.pk}/reveal/", {"field": "id_number"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and number in r.content.decode()
    row = AccessLog.objects.filter(user=users["vw"], action="reveal").latest("seq")
    assert row.child_id == str(child.pk) and row.detail == "id_number" and row.identifiers
    r = client.post(f"/children/{child.pk}/reveal/", {"field": "father.phone"})  # without JavaScript
    assert r.status_code == 200 and "13800138000" in r.content.decode() and "返回档案" in r.content.decode()
    assert client.post(f"/children/{child.pk}/reveal/", {"field": "mother.phone"}).status_code == 400
    assert client.post(f"/children/{child.pk}/reveal/", {"field": "password"}).status_code == 400


def test_reveal_needs_the_right_to_the_full_number(
    client: Client, users: dict[str, Any], child: Child
) -> None:
    client.force_login(users["edu"])
    assert client.post(f"/children/{child.pk}/reveal/", {"field": "id_number"}).status_code == 403
    client.force_login(users["vw_other"])
    assert client.post(f"/children/{child.pk}/reveal/", {"field": "id_number"}).status_code == 404
    assert not AccessLog.objects.filter(action="reveal").exists()


def test_edit_form_shows_masks_and_keeps_the_numbers_sent_back_unchanged(
    client: Client, users: dict[str, Any], child: Child
) -> None:
    client.force_login(users["vw"])
    number = child.id_number or ""
    page = client.get(f"/children/{child.pk}/edit/").content.decode()
    assert number and number not in page and MASKED in page and "13800138000" not in page
    assert AccessLog.objects.filter(user=users["vw"], action="form", child_id=str(child.pk)).exists()
    from django.test import RequestFactory

    from shouhu.web.views_children import _forms

    request = RequestFactory().get("/")
    request.user = users["vw"]
    form, parents = _forms(request, child=child)
    data = {f"{k}": v for k, v in form.initial.items() if v is not None}
    for rel, pf in parents.items():
        data.update({f"{rel}-{k}": v for k, v in pf.initial.items() if v not in (None, False)})
        data.update({f"{rel}-{k}": "on" for k, v in pf.initial.items() if v is True})
    data.update({k: "on" for k, v in form.initial.items() if v is True})
    data = {k: v for k, v in data.items() if v is not False}
    data["notes"] = "改了备注"
    r = client.post(f"/children/{child.pk}/edit/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    child.refresh_from_db()
    assert child.notes == "改了备注" and child.id_number == number
    assert child.parents.get(relation="father").phone == "13800138000"


def test_every_view_of_the_file_is_logged(client: Client, users: dict[str, Any], child: Child) -> None:
    client.force_login(users["sup"])
    client.get(f"/children/{child.pk}/")
    client.get(f"/children/{child.pk}/")
    logs = AccessLog.objects.filter(child_id=str(child.pk), action="view", user=users["sup"])
    assert logs.count() == 2
    assert logs.first().ip == "127.0.0.1" and logs.first().count == 1


def test_out_of_scope_view_is_not_logged(client: Client, users: dict[str, Any], child: Child) -> None:
    client.force_login(users["vw_other"])
    client.get(f"/children/{child.pk}/")
    assert not AccessLog.objects.filter(child_id=str(child.pk)).exists()


def test_roles_without_children_get_an_explained_home(client: Client, users: dict[str, Any]) -> None:
    for role in ["admin", "doctor", "social", "leader", "auditor", "nobody"]:
        client.force_login(users[role])
        body = client.get("/").content.decode()
        assert "不查看儿童档案" in body or "没有分配角色" in body, role
        assert "全部儿童" not in body
        assert client.get("/children/").status_code == 403  # the list: nothing to show, nothing revealed


def test_home_counts_link_to_filtered_list(client: Client, users: dict[str, Any], make_child: Any) -> None:
    make_child()
    make_child(sex="2")  # a left-behind girl is a key target
    client.force_login(users["vw"])
    body = client.get("/").content.decode()
    assert "/children/?left_behind=yes" in body
    assert "/children/?key_target=yes" in body
    listed = client.get("/children/?key_target=yes").content.decode()
    assert "共 1 名儿童" in listed
    # the education bureau counts left-behind pupils but sees no key-target count (care group)
    client.force_login(users["edu"])
    body = client.get("/").content.decode()
    assert "/children/?left_behind=yes" in body and "/children/?key_target=yes" not in body


def test_list_filters_follow_the_field_groups(client: Client, users: dict[str, Any], make_child: Any) -> None:
    """A filter on a group the reader lacks is not offered, and does not narrow the list by it."""
    make_child(sex="2")
    make_child(sex="1", name="李小男")
    client.force_login(users["edu"])
    page = client.get("/children/").content.decode()
    assert 'name="key_target"' not in page and 'name="rating"' not in page and 'name="schooling"' in page
    # the filter is ignored: the list is not narrowed by what the reader may not see
    assert "共 2 名儿童" in client.get("/children/?key_target=yes").content.decode()
    # the API, which does not ignore a filter, answers none of them (it holds no care group)
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(users["edu"])
    assert api.get("/api/v1/children/?key_target=true").json()["count"] == 0
    assert api.get("/api/v1/children/?key_target=false").json()["count"] == 0


def test_list_reads_are_recorded_with_count_and_query(
    client: Client, users: dict[str, Any], make_child: Any
) -> None:
    make_child()
    make_child(name="李四")
    client.force_login(users["vw"])
    client.get("/children/")
    client.get("/children/?q=李")
    rows = list(AccessLog.objects.filter(user=users["vw"]).order_by("seq"))
    assert [(r.action, r.count) for r in rows] == [("list", 2), ("search", 1)]
    assert "q=" in rows[1].query


def test_searching_by_id_number_is_a_counted_lookup_for_masked_readers(
    client: Client, users: dict[str, Any], make_child: Any
) -> None:
    from shouhu.core.models import PolicyParameter

    child = make_child()
    PolicyParameter.objects.update_or_create(
        key="identifier_lookups_per_day", defaults={"value": 2, "description": "test"}
    )
    client.force_login(users["edu"])  # sees the child's identity with the number masked
    for _ in range(2):
        assert "共 1 名儿童" in client.get(f"/children/?q={child.id_number}").content.decode()
    refused = client.get(f"/children/?q={child.id_number}").content.decode()
    assert "查找的次数已用完" in refused and "共 1 名儿童" not in refused
    lookups = AccessLog.objects.filter(user=users["edu"], action="lookup")
    assert lookups.count() == 2 and child.id_number not in "".join(lookups.values_list("query", flat=True))
    # the village worker sees the number in full anyway: not counted
    client.force_login(users["vw"])
    client.get(f"/children/?q={child.id_number}")
    assert not AccessLog.objects.filter(user=users["vw"], action="lookup").exists()
