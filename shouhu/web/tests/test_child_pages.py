"""The child pages through HTTP: register, validation errors, duplicates, stale edits, dated status
changes, the timeline, search, query counts, htmx partials and the English translation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shouhu.conftest import BASHAN_VILLAGE, child_data
from shouhu.core.identity import compose_id_number
from shouhu.registry import services
from shouhu.registry.models import Child

pytestmark = pytest.mark.django_db

BIRTH = date(2015, 6, 1)
CHILD_ID = compose_id_number("500229", BIRTH, 31)
FATHER_ID = compose_id_number("500229", date(1985, 3, 2), 11)
MOTHER_ID = compose_id_number("500229", date(1987, 8, 9), 22)


def form_data(**overrides: Any) -> dict[str, Any]:
    """A complete registration POST: every child field and both parents (away for work)."""
    data: dict[str, Any] = {
        "name": "张晓明",
        "sex": "1",
        "ethnicity": "01",
        "birth_date": BIRTH.isoformat(),
        "hukou_registered": "on",
        "id_number": CHILD_ID,
        "hukou_rural": "on",
        "hukou_place": "重庆市城口县巴山镇",
        "village": BASHAN_VILLAGE,
        "address": "巴山镇梨山村3组",
        "health": "healthy",
        "disability_type": "",
        "disability_grade": "",
        "illness": "",
        "schooling": "primary",
        "boarding": "on",
        "care_arrangement": "grandparents",
        "guardianship_rating": "adequate",
        "income_sources": ["wages", "farming"],
        "assistance": ["dibao"],
        "distress_categories": ["poverty"],
        "village_contact_name": "王村主任",
        "village_contact_phone": "023-59221234",
        "notes": "由祖母照料",
        "father-name": "张大山",
        "father-birth_date": "1985-03-02",
        "father-id_number": FATHER_ID,
        "father-phone": "13800138000",
        "father-away_for_work": "on",
        "father-away_since": "2020-03-01",
        "father-work_province": "44",
        "father-work_city": "东莞",
        "father-guardianship_capacity": "on",
        "mother-name": "李小红",
        "mother-birth_date": "1987-08-09",
        "mother-id_number": MOTHER_ID,
        "mother-phone": "13900139000",
        "mother-away_for_work": "on",
        "mother-away_since": "2021-02-01",
        "mother-work_province": "50",
        "mother-work_city": "重庆主城",
        "mother-guardianship_capacity": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def edit_data(child: Child, **overrides: Any) -> dict[str, Any]:
    data = form_data(id_number=child.id_number, version=str(child.version))
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def vw(client: Client, users: dict[str, Any]) -> Client:
    client.force_login(users["vw"])
    return client


def test_register_through_the_form(vw: Client) -> None:
    response = vw.post("/children/new/", form_data())
    assert response.status_code == 302
    child = Child.objects.get(name="张晓明")
    assert response["Location"] == f"/children/{child.pk}/"
    body = vw.get(response["Location"]).content.decode()
    assert "农村留守儿童" in body
    assert "父母双方均外出务工" in body  # the reason, not just the label
    assert "生活困难" in body  # key target because of dibao
    assert child.parents.count() == 2
    assert child.id_number == CHILD_ID
    assert child.boarding is True and child.assistance == ["dibao"]
    assert child.parents.get(relation="mother").phone == "13900139000"


def test_bad_check_digit_shows_error_next_to_the_field(vw: Client) -> None:
    before = Child.objects.count()
    bad = CHILD_ID[:-1] + ("0" if CHILD_ID[-1] != "0" else "1")
    response = vw.post("/children/new/", form_data(id_number=bad))
    assert response.status_code == 200
    assert Child.objects.count() == before
    errors = response.context["form"].errors["id_number"]
    assert errors and "校验" in errors[0]
    body = response.content.decode()
    field_start = body.index('name="id_number"')
    assert "is-invalid" in body[body.rfind("<input", 0, field_start) : field_start + 200]
    assert errors[0] in body[field_start : field_start + 2000]


def test_parent_errors_land_on_the_parent_form(vw: Client) -> None:
    response = vw.post("/children/new/", form_data(**{"mother-phone": "12345"}))
    assert response.status_code == 200
    mother = dict(response.context["parent_forms"])
    assert any(f.prefix == "mother" and f.errors.get("phone") for f in mother.values())
    assert not Child.objects.filter(name="张晓明").exists()


def test_required_fields_in_chinese(vw: Client) -> None:
    response = vw.post("/children/new/", form_data(name="", village=""))
    form = response.context["form"]
    assert "请填写儿童姓名。" in form.errors["name"]
    assert "村（居）" in form.errors["village"][0]


def test_duplicate_links_to_existing_file(vw: Client, make_child: Any) -> None:
    existing = make_child(name="张晓明", id_number=CHILD_ID)
    response = vw.post("/children/new/", form_data())
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="/children/{existing.pk}/"' in body
    assert "已建档" in body
    assert Child.objects.filter(name="张晓明").count() == 1


def test_edit_with_stale_version_writes_nothing(vw: Client, users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="张晓明")
    stale = edit_data(child, address="新地址1号")
    services.child_update(
        actor=users["sup"], child_id=child.pk, data={"notes": "督导员补充"}, version=child.version
    )
    response = vw.post(f"/children/{child.pk}/edit/", stale, follow=True)
    assert response.status_code == 200
    assert "该档案已被他人修改" in response.content.decode()
    child.refresh_from_db()
    assert child.address == "巴山镇梨山村3组"
    assert child.version == 2
    # the form is shown again with the current data and the current version
    form = response.context["form"]
    assert form.initial["version"] == 2 and form.initial["notes"] == "督导员补充"
    assert 'name="version" value="2"' in response.content.decode()


def test_mother_comes_home_with_effective_date(vw: Client, make_child: Any) -> None:
    child = make_child(name="张晓明")
    back = timezone.localdate() - timedelta(days=30)
    data = edit_data(
        child,
        **{
            "mother-away_for_work": None,
            "mother-away_since": None,
            "mother-work_province": None,
            "mother-work_city": None,
            "care_arrangement": "parent",
            "effective": back.isoformat(),
        },
    )
    response = vw.post(f"/children/{child.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    child.refresh_from_db()
    assert child.lb_status is False
    periods = list(child.status_periods.order_by("start"))
    assert periods[0].end == back and periods[-1].start == back and not periods[-1].left_behind
    body = vw.get(f"/children/{child.pk}/").content.decode()
    assert f"2021-02-01 — {back:%Y-%m-%d}" in body
    assert f"{back:%Y-%m-%d} — 至今" in body
    assert "退出农村留守儿童" in body
    assert "修改档案" in body
    assert "母亲·外出务工" in body  # the changed field, before → after


def test_timeline_shows_readable_changes(vw: Client, make_child: Any) -> None:
    child = make_child(name="张晓明")
    assert (
        vw.post(f"/children/{child.pk}/edit/", edit_data(child, address="巴山镇梨山村5组")).status_code == 302
    )
    body = vw.get(f"/children/{child.pk}/").content.decode()
    assert "修改档案" in body
    assert "巴山镇梨山村3组</del> → <ins>巴山镇梨山村5组" in body


def test_effective_date_in_future_is_refused(vw: Client, make_child: Any) -> None:
    child = make_child(name="张晓明")
    future = timezone.localdate() + timedelta(days=3)
    response = vw.post(f"/children/{child.pk}/edit/", edit_data(child, effective=future.isoformat()))
    assert response.status_code == 200
    assert response.context["form"].errors["effective"]
    child.refresh_from_db()
    assert child.version == 1


def test_guardian_and_grandparents_forms(vw: Client, make_child: Any) -> None:
    child = make_child(name="张晓明")
    response = vw.post(
        f"/children/{child.pk}/guardian/entrusted/",
        {
            "name": "王秀英",
            "relationship": "62",
            "birth_date": "1960-01-02",
            "phone": "13700137000",
            "address": "梨山村3组",
            "full_civil_capacity": "yes",
            "no_violence_history": "yes",
            "no_addiction": "",
            "no_prior_neglect": "no",
            "checked_on": "2026-01-05",
        },
    )
    assert response.status_code == 302
    g = child.guardians.get(role="entrusted")
    assert g.full_civil_capacity is True and g.no_addiction is None and g.no_prior_neglect is False
    body = vw.get(f"/children/{child.pk}/").content.decode()
    assert "王秀英" in body and "尚未核实" in body and "不符合" in body
    bad = vw.post(f"/children/{child.pk}/guardian/carer/", {"name": "", "relationship": ""})
    assert bad.status_code == 200 and bad.context["form"].errors["name"]
    response = vw.post(
        f"/children/{child.pk}/grandparents/",
        {
            "paternal_grandfather-name": "张老汉",
            "paternal_grandmother-name": "王秀英",
            "maternal_grandfather-deceased": "on",
        },
    )
    assert response.status_code == 302
    assert child.grandparents.count() == 3
    body = vw.get(f"/children/{child.pk}/").content.decode()
    assert "张老汉" in body and "祖辈信息" in body


def test_search_by_pinyin_initials(vw: Client, make_child: Any) -> None:
    make_child(name="张晓明")
    make_child(name="李四")
    body = vw.get("/children/?q=zxm").content.decode()
    assert "张晓明" in body and "李四" not in body
    assert "没有找到符合条件的儿童" in vw.get("/children/?q=qqq").content.decode()


def test_filters_and_htmx_partial(vw: Client, make_child: Any) -> None:
    make_child(name="张晓明")
    make_child(name="王小花", sex="2", birth_date=date(2021, 5, 5), schooling="kindergarten")
    partial = vw.get("/children/?age_band=0-5", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    body = partial.content.decode()
    assert "<html" not in body and "王小花" in body and "张晓明" not in body
    assert "HX-Request" in partial["Vary"]
    restore = vw.get(
        "/children/?age_band=0-5", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in restore.content.decode()
    full = vw.get("/children/?key_target=yes&region=500229102000").content.decode()
    assert "<html" in full and "王小花" in full and "张晓明" not in full
    # a region out of scope is ignored (not an error) and still shows only the user's children
    assert vw.get("/children/?region=500229201000").status_code == 200


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/children/").status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow(vw: Client, users: dict[str, Any]) -> None:
    for _ in range(3):
        services.child_create(actor=users["vw"], data=child_data())
    few = _list_queries(vw)
    for _ in range(27):
        services.child_create(actor=users["vw"], data=child_data())
    assert Child.objects.count() == 30
    assert _list_queries(vw) == few
    body = vw.get("/children/?page=2").content.decode()
    assert "第 2 / 2 页" in body


def test_english_after_switching_language(vw: Client) -> None:
    response = vw.post("/i18n/setlang/", {"language": "en", "next": "/children/"})
    assert response.status_code == 302
    body = vw.get("/children/").content.decode()
    assert "Children" in body
    assert 'lang="en"' in body
    vw.post("/i18n/setlang/", {"language": "zh-hans", "next": "/children/"})
    assert "儿童档案" in vw.get("/children/").content.decode()


def test_login_and_logout(client: Client, users: dict[str, Any]) -> None:
    from shouhu.core.demo import DEMO_PASSWORD

    page = client.get("/login/")
    assert "登录" in page.content.decode()
    response = client.post("/login/", {"username": "vw_102201", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302
