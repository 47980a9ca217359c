"""`/api/v1/children/` (API.md; R11.1 scoping, R11.3 masking, R11.6 API): every role, in and out of
scope, writes through the services, derived fields, `?as_of=`, filters, paging and query counts."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from shouhu.conftest import BASHAN, BASHAN_VILLAGE, BASHAN_VILLAGE_2, LONGTIAN, LONGTIAN_VILLAGE, child_data
from shouhu.core.identity import compose_id_number
from shouhu.core.models import AccessLog
from shouhu.registry.models import Child
from shouhu.registry.rules import age_band

pytestmark = pytest.mark.django_db

URL = "/api/v1/children/"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def body(**overrides: Any) -> dict[str, Any]:
    return jsonable(child_data(**overrides))


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


@pytest.fixture
def three(users: dict[str, Any], make_child: Any) -> dict[str, Any]:
    """One child in each of: vw's village, another 巴山镇 village, a 龙田乡 village."""
    return {
        "own": make_child(),
        "same_town": make_child(actor=users["vw_same_town"], village=BASHAN_VILLAGE_2),
        "other_town": make_child(actor=users["vw_other"], village=LONGTIAN_VILLAGE),
    }


# --- scoping (R11.1) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("vw", {"own"}),
        ("vw_same_town", {"same_town"}),
        ("vw_other", {"other_town"}),
        ("sup", {"own", "same_town"}),
        ("sup_other", {"other_town"}),
        ("county", {"own", "same_town", "other_town"}),
        ("officer", set()),  # police: only the children of their station's cases (issue 9 part 2)
        ("officer_other", set()),
        ("edu", {"own", "same_town", "other_town"}),
        ("school", set()),
    ],
)
def test_list_is_scoped_by_role(
    users: dict[str, Any], three: dict[str, Any], who: str, sees: set[str]
) -> None:
    response = api(users[who]).get(URL)
    assert ids(response) == {str(three[k].pk) for k in sees}
    assert response.json()["count"] == len(sees)


@pytest.mark.parametrize("who", ["nobody", "doctor", "leader", "admin", "auditor", "social"])
def test_roles_that_open_no_file_are_refused_the_list(users: dict[str, Any], who: str) -> None:
    """403 without the capability anywhere: it says nothing about any child (was an empty list)."""
    assert api(users[who]).get(URL).status_code == 403


def test_retrieve_in_scope_logs_access(users: dict[str, Any], three: dict[str, Any]) -> None:
    child = three["own"]
    before = AccessLog.objects.filter(child_id=str(child.pk), action="api_read").count()
    response = api(users["sup"]).get(f"{URL}{child.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == str(child.pk)
    assert data["village"] == BASHAN_VILLAGE
    assert AccessLog.objects.filter(child_id=str(child.pk), action="api_read").count() == before + 1
    log = AccessLog.objects.filter(child_id=str(child.pk), action="api_read").first()
    assert log.user == users["sup"]


@pytest.mark.parametrize(
    "who",
    [
        "vw_same_town",
        "vw_other",
        "sup_other",
        "officer",
        "officer_other",
        "school",
    ],
)
def test_retrieve_out_of_scope_is_404_like_missing(
    users: dict[str, Any], three: dict[str, Any], who: str
) -> None:
    client = api(users[who])
    out = client.get(f"{URL}{three['own'].pk}/")
    missing = client.get(f"{URL}{uuid.uuid4()}/")
    assert out.status_code == missing.status_code == 404
    assert out.json() == missing.json()


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000Z", "%20", "x" * 300]
)
def test_malformed_id_is_404(users: dict[str, Any], bad: str) -> None:
    assert api(users["county"]).get(f"{URL}{bad}/").status_code == 404
    assert api(users["county"]).patch(f"{URL}{bad}/", {"version": 1}, format="json").status_code == 404


def test_anonymous_is_401(users: dict[str, Any], three: dict[str, Any]) -> None:
    client = APIClient()
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}{three['own'].pk}/").status_code == 401
    assert client.post(URL, body(), format="json").status_code == 401


# --- create --------------------------------------------------------------------------------------------


def test_create_answers_201_with_derived_status(users: dict[str, Any]) -> None:
    response = api(users["vw"]).post(URL, body(name="王小芳", sex="2"), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert response["Location"] == f"{URL}{data['id']}/"
    assert data["version"] == 1
    assert data["name"] == "王小芳"
    assert data["left_behind"]["status"] == "left_behind"
    assert data["left_behind"]["type"] == "both_away"
    assert data["left_behind"]["reasons"]
    assert data["left_behind"]["since"] == "2021-02-01"
    assert data["key_target"] == {"is_key_target": True, "reasons": ["girl"]}
    assert [p["relation"] for p in data["parents"]] == ["father", "mother"]
    assert data["parents"][0]["phone"] == "13800138000"  # the village worker sees identifiers
    assert len(data["status_history"]) == 1
    assert data["age_band"] == age_band(date(2015, 6, 1), timezone.localdate())
    assert Child.objects.filter(pk=data["id"]).exists()
    # The exact field set of API.md is present.
    for field in [
        "id",
        "version",
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "hukou_registered",
        "hukou_rural",
        "id_number",
        "village",
        "address",
        "health",
        "disability_type",
        "disability_grade",
        "illness",
        "schooling",
        "boarding",
        "care_arrangement",
        "guardianship_rating",
        "parents",
        "left_behind",
        "key_target",
    ]:
        assert field in data, field
    for field in [
        "relation",
        "name",
        "birth_date",
        "id_number",
        "phone",
        "away_for_work",
        "away_since",
        "work_province",
        "work_city",
        "guardianship_capacity",
        "incapacity_reason",
        "deceased",
    ]:
        assert field in data["parents"][0], field


def test_create_accepts_unrated_guardianship(users: dict[str, Any]) -> None:
    for rating in ["", None]:
        response = api(users["vw"]).post(URL, body(guardianship_rating=rating), format="json")
        assert response.status_code == 201, response.content
        assert response.json()["guardianship_rating"] == ""


def test_create_duplicate_is_400_with_the_existing_id(users: dict[str, Any]) -> None:
    data = body()
    client = api(users["vw"])
    first = client.post(URL, data, format="json")
    assert first.status_code == 201
    again = client.post(URL, data, format="json")
    assert again.status_code == 400
    answer = again.json()
    assert answer["existing"] == first.json()["id"]
    assert answer["existing_url"] == f"/children/{first.json()['id']}/"
    assert answer["detail"]


def test_create_with_wrong_check_character_names_the_expected_one(users: dict[str, Any]) -> None:
    data = body()
    good = data["id_number"]
    wrong = "0" if good[-1] != "0" else "1"
    data["id_number"] = good[:-1] + wrong
    response = api(users["vw"]).post(URL, data, format="json")
    assert response.status_code == 400
    messages = response.json()["id_number"]
    assert any(f"“{good[-1]}”" in m for m in messages), messages


def test_create_with_sex_contradicting_the_id_is_400(users: dict[str, Any]) -> None:
    data = body(sex="1")
    data["sex"] = "2"
    response = api(users["vw"]).post(URL, data, format="json")
    assert response.status_code == 400
    assert "id_number" in response.json()


def test_create_outside_edit_scope_is_400_on_village(users: dict[str, Any]) -> None:
    response = api(users["vw"]).post(URL, body(village=LONGTIAN_VILLAGE), format="json")
    assert response.status_code == 400
    assert "village" in response.json()
    # a role that registers nowhere is refused before anything is read (was a 400 on the village)
    assert api(users["edu"]).post(URL, body(), format="json").status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"birth_date": "2015-13-45"}, "birth_date"),
        ({"birth_date": "01/06/2015"}, "birth_date"),
        ({"sex": "M"}, "sex"),
        ({"boarding": "perhaps"}, "boarding"),
        ({"schooling": "university"}, "schooling"),
        ({"parents": "both"}, "parents"),
        ({"parents": [{"relation": "uncle"}]}, "parents"),
        ({"parents": [{"relation": "father", "away_since": "yesterday"}]}, "parents"),
        ({"village": "500229"}, "village"),
        ({"income_sources": "wages"}, "income_sources"),
        ({"ethnicity": "99"}, "ethnicity"),
    ],
)
def test_bad_input_is_400_never_500(users: dict[str, Any], change: dict[str, Any], field: str) -> None:
    response = api(users["vw"]).post(URL, {**body(), **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_non_object_body_is_400(users: dict[str, Any]) -> None:
    client = api(users["vw"])
    assert client.post(URL, [1, 2], format="json").status_code == 400
    assert client.post(URL, "garbage", content_type="application/json").status_code == 400


def test_required_field_message_follows_accept_language(users: dict[str, Any]) -> None:
    client = api(users["vw"])
    en = client.post(URL, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    zh = client.post(URL, {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert en.status_code == zh.status_code == 400
    assert en.json()["name"] == ["This field is required."]
    assert zh.json()["name"] != en.json()["name"]


# --- update ----------------------------------------------------------------------------------------


def test_update_with_current_version_bumps_it(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    client = api(users["vw"])
    response = client.patch(f"{URL}{child.pk}/", {"version": 1, "address": "巴山镇新街5号"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response.json()["address"] == "巴山镇新街5号"
    assert response.json()["parents"][0]["name"] == "张大山"  # PATCH merges


def test_update_with_stale_version_is_409(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    client = api(users["vw"])
    assert client.patch(f"{URL}{child.pk}/", {"version": 1, "notes": "a"}, format="json").status_code == 200
    stale = client.patch(f"{URL}{child.pk}/", {"version": 1, "notes": "b"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["detail"]
    child.refresh_from_db()
    assert child.notes == "a"


def test_update_without_version_is_400_asking_for_it(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    for payload in [{"notes": "a"}, {"notes": "a", "version": "two"}]:
        response = api(users["vw"]).patch(f"{URL}{child.pk}/", payload, format="json")
        assert response.status_code == 400
        assert "version" in response.json()


def test_put_replaces_with_full_body(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="刘一")
    client = api(users["vw"])
    current = client.get(f"{URL}{child.pk}/").json()
    payload = {
        k: v
        for k, v in current.items()
        if k
        not in {"left_behind", "key_target", "status_history", "grandparents", "guardians", "age_band", "id"}
    }
    payload["name"] = "刘一一"
    response = client.put(f"{URL}{child.pk}/", payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "刘一一"
    assert response.json()["version"] == current["version"] + 1
    incomplete = client.put(f"{URL}{child.pk}/", {"version": 2}, format="json")
    assert incomplete.status_code == 400
    assert "name" in incomplete.json()


def test_parent_coming_home_ends_left_behind_with_history(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    client = api(users["vw"])
    current = client.get(f"{URL}{child.pk}/").json()
    father, mother = current["parents"]
    father.update(away_for_work=False, away_since=None, work_province="", work_city="")
    response = client.patch(
        f"{URL}{child.pk}/", {"version": current["version"], "parents": [father, mother]}, format="json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["left_behind"]["status"] == "not_left_behind"
    assert data["left_behind"]["type"] is None
    assert data["left_behind"]["since"] is None
    history = data["status_history"]
    assert len(history) == 2
    assert history[0]["left_behind"] is True and history[0]["end"] is not None
    assert history[1]["left_behind"] is False and history[1]["end"] is None


def test_parents_sent_replace_both(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    response = api(users["vw"]).patch(
        f"{URL}{child.pk}/",
        {"version": 1, "parents": [{"relation": "mother", "name": "李小红", "away_for_work": True}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [p["relation"] for p in response.json()["parents"]] == ["mother"]
    assert response.json()["left_behind"]["status"] == "not_left_behind"


def test_read_only_roles_get_403_on_update_of_visible_child(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    for who in ["edu", "school", "officer", "nobody"]:
        response = api(users[who]).patch(f"{URL}{child.pk}/", {"version": 1, "notes": "x"}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"]
    child.refresh_from_db()
    assert child.version == 1


def test_update_out_of_scope_is_404(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    for who in ["vw_other", "vw_same_town", "sup_other"]:
        response = api(users[who]).patch(f"{URL}{child.pk}/", {"version": 1, "notes": "x"}, format="json")
        assert response.status_code == 404, who


def test_update_moving_child_out_of_edit_scope_is_400(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    response = api(users["vw"]).patch(
        f"{URL}{child.pk}/", {"version": 1, "village": LONGTIAN_VILLAGE}, format="json"
    )
    assert response.status_code == 400
    assert "village" in response.json()


def test_no_delete(users: dict[str, Any], make_child: Any) -> None:
    child = make_child()
    assert api(users["county"]).delete(f"{URL}{child.pk}/").status_code == 405


# --- as_of -------------------------------------------------------------------------------------------


def test_as_of_evaluates_on_that_date(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(birth_date=date(2012, 3, 10))
    client = api(users["vw"])
    on_birthday = client.get(f"{URL}{child.pk}/", {"as_of": "2028-03-10"}).json()
    assert on_birthday["left_behind"]["status"] == "left_behind"
    assert on_birthday["left_behind"]["type"] == "both_away"
    after = client.get(f"{URL}{child.pk}/", {"as_of": "2028-03-11"}).json()
    assert after["left_behind"]["status"] == "not_left_behind"
    assert after["left_behind"]["reasons"]
    assert after["left_behind"]["since"] is None
    assert after["age_band"] is None
    before_mother_left = client.get(f"{URL}{child.pk}/", {"as_of": "2020-06-01"}).json()
    assert before_mother_left["left_behind"]["status"] == "not_left_behind"


@pytest.mark.parametrize("bad", ["2028/03/10", "tomorrow", "2028-02-30", "20280310"])
def test_as_of_bad_date_is_400_naming_the_format(users: dict[str, Any], make_child: Any, bad: str) -> None:
    child = make_child()
    response = api(users["vw"]).get(f"{URL}{child.pk}/", {"as_of": bad})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.json()["as_of"][0]


# --- masking (R11.3) -----------------------------------------------------------------------------------


def test_identifiers_full_for_duty_roles_masked_for_others(users: dict[str, Any], make_child: Any) -> None:
    """API.md: `id_number` full for a reader with the identifiers capability (the read is logged as
    one with identifiers), masked (region code only) for one who sees the identity group; the groups a
    reader lacks are left out, not blanked."""
    child = make_child()
    number = child.id_number
    for who in ["vw", "sup", "county"]:
        data = api(users[who]).get(f"{URL}{child.pk}/").json()
        assert data["id_number"] == number, who
        assert data["parents"][0]["phone"] == "13800138000"
        assert AccessLog.objects.filter(user=users[who], action="api_read").latest("seq").identifiers
    data = api(users["edu"]).get(f"{URL}{child.pk}/").json()
    assert data["id_number"] == "500229" + "*" * 12
    assert "parents" not in data and "health" not in data and "income_sources" not in data
    assert data["schooling"] == "primary" and data["left_behind"]["status"] == "left_behind"
    assert "reasons" not in data["left_behind"]  # they speak of the parents (care group)
    assert not AccessLog.objects.filter(user=users["edu"], action="api_read").latest("seq").identifiers
    listed = api(users["edu"]).get(URL).json()["results"][0]
    assert listed["id_number"] == "500229" + "*" * 12
    assert "parents" not in listed


# --- search and filters -----------------------------------------------------------------------------


def test_search_by_initials_id_number_and_parent_phone(users: dict[str, Any], make_child: Any) -> None:
    zxm = make_child(name="张晓明")
    other = make_child(
        name="李四",
        parents=[
            {
                "relation": "father",
                "name": "李大",
                "away_for_work": True,
                "away_since": date(2020, 3, 1),
                "guardianship_capacity": True,
                "phone": "13900139000",
            },
            {
                "relation": "mother",
                "name": "王二",
                "away_for_work": True,
                "away_since": date(2020, 3, 1),
                "guardianship_capacity": True,
            },
        ],
    )
    client = api(users["vw"])
    assert ids(client.get(URL, {"q": "zxm"})) == {str(zxm.pk)}
    assert ids(client.get(URL, {"q": "张晓明"})) == {str(zxm.pk)}
    assert ids(client.get(URL, {"q": zxm.id_number})) == {str(zxm.pk)}
    assert str(zxm.pk) in ids(client.get(URL, {"q": "13800138000"}))
    assert str(other.pk) not in ids(client.get(URL, {"q": "13800138000"}))
    assert ids(client.get(URL, {"q": "139-0013-9000"})) == {str(other.pk)}
    # Searching never widens scope.
    assert ids(api(users["vw_other"]).get(URL, {"q": zxm.id_number})) == set()


def test_filters(users: dict[str, Any], three: dict[str, Any], make_child: Any) -> None:
    home = make_child(
        care_arrangement="parent",
        guardianship_rating="",
        parents=[
            {"relation": "father", "name": "张大", "away_for_work": True, "away_since": date(2020, 3, 1)},
            {"relation": "mother", "name": "王二", "away_for_work": False},
        ],
    )
    girl = make_child(sex="2", birth_date=date(2022, 1, 5), schooling="kindergarten")
    client = api(users["county"])
    everyone = {str(c.pk) for c in [*three.values(), home, girl]}
    assert ids(client.get(URL, {"region": "500229000000"})) == everyone
    assert ids(client.get(URL, {"region": BASHAN})) == everyone - {str(three["other_town"].pk)}
    assert ids(client.get(URL, {"region": LONGTIAN})) == {str(three["other_town"].pk)}
    assert ids(client.get(URL, {"region": BASHAN_VILLAGE_2})) == {str(three["same_town"].pk)}
    assert ids(client.get(URL, {"region": "500229999999"})) == set()
    assert ids(client.get(URL, {"left_behind": "false"})) == {str(home.pk)}
    assert ids(client.get(URL, {"left_behind": "true"})) == everyone - {str(home.pk)}
    assert ids(client.get(URL, {"key_target": "true"})) == {str(girl.pk)}
    assert ids(client.get(URL, {"rating": "none"})) == {str(home.pk)}
    assert ids(client.get(URL, {"schooling": "kindergarten"})) == {str(girl.pk)}
    assert str(girl.pk) in ids(client.get(URL, {"age_band": "0-5"}))
    assert str(girl.pk) not in ids(client.get(URL, {"age_band": "6-13"}))
    # The sup's filters stay inside the sup's scope.
    assert ids(api(users["sup"]).get(URL, {"region": LONGTIAN})) == set()


@pytest.mark.parametrize(
    "params",
    [
        {"left_behind": "maybe"},
        {"key_target": "2"},
        {"region": "abc"},
        {"region": "5002291"},
        {"age_band": "3-4"},
        {"rating": "excellent"},
        {"schooling": "college"},
    ],
)
def test_bad_filter_values_are_400(users: dict[str, Any], params: dict[str, str]) -> None:
    response = api(users["county"]).get(URL, params)
    assert response.status_code == 400, response.content
    assert set(params) <= set(response.json())


def test_bad_page_is_404_not_500(users: dict[str, Any], three: dict[str, Any]) -> None:
    client = api(users["county"])
    assert client.get(URL, {"page": "99"}).status_code == 404
    assert client.get(URL, {"page": "abc"}).status_code == 404
    assert client.get(URL, {"page_size": "abc"}).status_code == 200


# --- paging and query counts ------------------------------------------------------------------------


def _bulk_children(n: int, village: str = BASHAN_VILLAGE) -> None:
    """Rows straight into the table: enough to page through without running the service n times."""
    Child.objects.bulk_create(
        [
            Child(
                name=f"批量{i}",
                name_pinyin=f"piliang{i:04d}",
                name_initials="pl",
                sex="1",
                birth_date=date(2014, 1, 1),
                village_id=village,
                schooling="primary",
                care_arrangement="grandparents",
            )
            for i in range(n)
        ]
    )


def test_page_size_is_capped_at_500(users: dict[str, Any]) -> None:
    _bulk_children(510)
    response = api(users["county"]).get(URL, {"page_size": 600})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 510
    assert len(data["results"]) == 500
    assert data["next"] is not None and data["previous"] is None
    second = api(users["county"]).get(URL, {"page_size": 600, "page": 2}).json()
    assert len(second["results"]) == 10


def test_list_uses_a_constant_number_of_queries(
    users: dict[str, Any], make_child: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(6):
        make_child(sex="2" if i % 2 else "1")
    _bulk_children(110)
    client = api(users["county"])
    client.get(URL, {"page_size": 5})  # warm-up (content types, policy cache, …)
    for params in [{}, {"q": "pl", "left_behind": "false", "region": BASHAN, "age_band": "6-13"}]:
        with CaptureQueriesContext(connection) as small:
            assert len(client.get(URL, {**params, "page_size": 5}).json()["results"]) == 5
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert len(client.get(URL, {**params, "page_size": 100}).json()["results"]) == 100
        # count + page + one prefetch each for parents, grandparents, guardians, status history (+ region),
        # and the sealed access record (head lock and insert, R11.2)
        assert len(small.captured_queries) <= 12


def test_id_number_built_for_tests_is_valid() -> None:
    # Guard for the fixtures used above: compose_id_number gives a number the service accepts.
    assert len(compose_id_number("500229", date(2015, 6, 1), 3)) == 18
