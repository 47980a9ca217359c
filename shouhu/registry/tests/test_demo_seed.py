"""seed_demo, the demo child generator and bulk registration (registry.demo, registry.bulk)."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouhu.core.events import verify_chain
from shouhu.core.identity import compose_id_number, validate_id_number
from shouhu.core.models import Event, Organisation, OrganisationKind, Region
from shouhu.core.roles import ROLES
from shouhu.registry import rules
from shouhu.registry.bulk import bulk_register
from shouhu.registry.demo import demo_villages, generate_children
from shouhu.registry.models import Child, Parent, StatusPeriod
from shouhu.registry.services import DuplicateChild, child_create
from shouhu.registry.validation import validate_child

TODAY = date(2026, 3, 15)


@pytest.fixture
def villages(county: Any) -> list[Region]:
    """`county` rebuilds the demo county if a transactional test flushed this worker's database."""
    return demo_villages()


@pytest.fixture(scope="module")
def sample(django_db_setup: Any, django_db_blocker: Any) -> list[dict[str, Any]]:
    """Module-scoped for speed; rebuilds the county first, since a transactional test (the browser
    tests) may have flushed the database on this worker."""
    from shouhu.core.demo import build_county
    from shouhu.core.reference import load_reference_data

    with django_db_blocker.unblock():
        load_reference_data()
        build_county()
        return generate_children(2000, 11, demo_villages(), TODAY)


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_logins_children_and_idempotence(tmp_path: Any) -> None:
    path = tmp_path / "logins.json"
    out = io.StringIO()
    call_command("seed_demo", children=300, seed=7, logins_json=str(path), stdout=out)
    logins = json.loads(path.read_text(encoding="utf-8"))

    # API.md: username, password, role, scope; "org" where the role has an organisation; "totp_secret"
    # for roles that need a second factor (issue 10 part 2).
    keys = {"username", "password", "role", "scope", "org", "totp_secret"}
    assert all({"username", "password", "role", "scope"} <= set(x) <= keys for x in logins)
    needs = {"system_admin", "county_admin", "auditor"}
    assert all(bool(x.get("totp_secret")) == (x["role"] in needs) for x in logins)
    by_name = {x["username"]: x for x in logins}
    assert by_name["school_bashan"]["org"] == Organisation.objects.get(name="巴山中心小学").pk
    assert "org" not in by_name["vw_102201"]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from shouhu.accounts.otp import code_now

    device = TOTPDevice.objects.get(user__username="county", confirmed=True)
    assert device.verify_token(code_now(by_name["county"]["totp_secret"]))
    assert {x["role"] for x in logins} >= set(ROLES)
    assert len({x["username"] for x in logins}) == len(logins)
    for role in ("village_worker", "township_supervisor"):
        townships = {x["scope"][:9] for x in logins if x["role"] == role}
        assert len(townships) >= 2, role
    stations = set(
        Organisation.objects.filter(kind=OrganisationKind.POLICE_STATION).values_list("name", flat=True)
    )
    assert len(stations) == 25
    assert {x["scope"] for x in logins if x["role"] == "police"} == stations
    text = out.getvalue()
    assert "Username" in text and "county_admin" in text and "已生成 300 名" in text
    # `make run` prints the secrets
    assert ["county", by_name["county"]["totp_secret"]] in [line.split() for line in text.splitlines()]

    assert Child.objects.count() == 300
    ids = 0
    for child in Child.objects.exclude(id_number_index__isnull=True):
        assert (
            validate_id_number(child.id_number, birth_date=child.birth_date, sex=child.sex) == child.id_number
        )
        ids += 1
    assert ids >= 290
    zxm = Child.objects.get(name="张晓明", village_id="500229102201")
    assert (zxm.name_pinyin, zxm.name_initials) == ("zhangxiaoming", "zxm")
    assert zxm.lb_status and zxm.school.name == "巴山中心小学"
    assert Parent.objects.count() == 600 and StatusPeriod.objects.count() == 300

    out = io.StringIO()
    events = Event.objects.count()
    call_command("seed_demo", children=300, seed=7, stdout=out)
    assert "已有 300 名儿童，未重复生成" in out.getvalue()
    assert Child.objects.count() == 300 and Event.objects.count() == events


@pytest.mark.django_db
def test_seed_demo_extends_a_smaller_run_without_duplicates() -> None:
    call_command("seed_demo", children=50, seed=7, today="2026-03-15", stdout=io.StringIO())
    first = set(Child.objects.values_list("id_number_index", flat=True))
    call_command("seed_demo", children=120, seed=7, today="2026-03-15", stdout=io.StringIO())
    assert Child.objects.count() == 120
    assert first <= set(Child.objects.values_list("id_number_index", flat=True))


# --- the generator -------------------------------------------------------------------------------


def test_generator_shares(sample: list[dict[str, Any]]) -> None:
    n = len(sample)
    lb = [r for r in sample if r["care_arrangement"] != "parent"]
    care = Counter(r["care_arrangement"] for r in lb)
    assert 0.80 <= len(lb) / n <= 0.90
    assert 0.90 <= care["grandparents"] / len(lb) <= 0.96
    assert 0.02 <= care["unattended"] / len(lb) <= 0.06
    bands = Counter(rules.age_band(r["birth_date"], TODAY) for r in sample)
    assert None not in bands
    for band, share in (("0-5", 22), ("6-13", 67), ("14-15", 11)):
        assert abs(100 * bands[band] / n - share) <= 4, (band, bands)
    males = sum(r["sex"] == "1" for r in sample) / n
    assert 0.48 <= males <= 0.56
    incapable = sum(any(not p["guardianship_capacity"] for p in r["parents"]) for r in lb) / len(lb)
    assert 0.05 <= incapable <= 0.11
    assert 0.01 <= sum(r["health"] == "disabled" for r in sample) / n <= 0.035
    assert 0.015 <= sum(r["health"] == "ill" for r in sample) / n <= 0.045
    assert 0.05 <= sum("dibao" in r["assistance"] for r in sample) / n <= 0.11
    ratings = Counter(r["guardianship_rating"] for r in sample)
    assert abs(100 * ratings["good"] / n - 40) <= 5 and abs(100 * ratings["poor"] / n - 15) <= 5
    phones = [p["phone"] for r in sample for p in r["parents"]]
    assert 0.75 <= sum(bool(p) for p in phones) / len(phones) <= 0.85
    provinces = Counter(p["work_province"] for r in sample for p in r["parents"] if p["away_for_work"])
    assert {"50", "44", "33", "32", "35", "51"} <= set(provinces)
    assert provinces.most_common(1)[0][0] == "50"


def test_generator_ids_valid_unique_and_consistent(sample: list[dict[str, Any]]) -> None:
    ids = [r["id_number"] for r in sample if r["id_number"]]
    parent_ids = [p["id_number"] for r in sample for p in r["parents"] if p["id_number"]]
    assert len(set(ids + parent_ids)) == len(ids) + len(parent_ids)
    for r in sample:
        if r["id_number"] is None:
            assert r["hukou_registered"] is False
            continue
        assert r["id_number"].startswith("500229")
        assert validate_id_number(r["id_number"], birth_date=r["birth_date"], sex=r["sex"]) == r["id_number"]
        for p in r["parents"]:
            if p["id_number"]:
                sex = "1" if p["relation"] == "father" else "2"
                validate_id_number(p["id_number"], birth_date=p["birth_date"], sex=sex)
            assert 20 <= rules.full_years(p["birth_date"], r["birth_date"]) <= 35
    assert 0 < sum(r["id_number"] is None for r in sample) <= 30


def test_generator_schooling_matches_age(sample: list[dict[str, Any]]) -> None:
    expected = {0: "not_in_kindergarten", 3: "kindergarten", 6: "primary", 12: "junior"}
    for r in sample:
        age = rules.full_years(r["birth_date"], TODAY)
        if r["schooling"] == "dropped_out":
            assert 12 <= age <= 15
            continue
        if age == 15:
            assert r["schooling"] in ("junior", "senior", "vocational")
        else:
            assert r["schooling"] == expected[max(a for a in expected if a <= age)]
        if r["schooling"] in ("primary", "kindergarten"):
            assert r["school"] is not None
            assert r["school"].region_id == r["village"].parent_id
        if r["boarding"]:
            assert r["schooling"] in ("junior", "senior", "vocational")
    assert any(r["boarding"] for r in sample if r["schooling"] == "junior")


def test_generator_first_child_and_polyphonic_surnames(sample: list[dict[str, Any]]) -> None:
    first = sample[0]
    assert first["name"] == "张晓明" and first["village"].code == "500229102201" and first["sex"] == "1"
    surnames = {r["name"][0] for r in sample}
    assert {"单", "曾", "解", "仇"} & surnames
    assert all(2 <= len(r["name"]) <= 3 for r in sample)


@pytest.mark.django_db
def test_generator_is_deterministic_and_prefix_stable(villages: list[Region]) -> None:
    a = generate_children(200, 7, villages, TODAY)
    b = generate_children(200, 7, villages, TODAY)
    c = generate_children(50, 7, villages, TODAY)
    d = generate_children(200, 8, villages, TODAY)
    key = [(r["name"], r["id_number"], r["village"].code, r["birth_date"]) for r in a]
    assert key == [(r["name"], r["id_number"], r["village"].code, r["birth_date"]) for r in b]
    assert key[:50] == [(r["name"], r["id_number"], r["village"].code, r["birth_date"]) for r in c]
    assert key[1:] != [(r["name"], r["id_number"], r["village"].code, r["birth_date"]) for r in d][1:]


@pytest.mark.django_db
def test_generator_output_is_what_validate_child_returns(villages: list[Region]) -> None:
    for row in generate_children(300, 3, villages, TODAY):
        assert validate_child(row, today=TODAY) == row


# --- bulk registration ---------------------------------------------------------------------------


def _variety(villages: list[Region], count: int = 20) -> list[dict[str, Any]]:
    """`count` generated rows covering every kind of decision and key-target reason."""
    pool = generate_children(600, 5, villages, TODAY)

    def kind(r: dict[str, Any]) -> tuple[Any, ...]:
        incapable = any(not p["guardianship_capacity"] for p in r["parents"])
        return (
            r["care_arrangement"],
            incapable,
            r["sex"],
            r["health"],
            bool(r["assistance"]),
            r["id_number"] is None,
        )

    picked: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for r in pool:
        if kind(r) not in seen:
            seen.add(kind(r))
            picked.append(r)
    picked = picked[:count] + [r for r in pool if r not in picked][: max(0, count - len(picked))]
    return picked[:count]


def _moved(row: dict[str, Any], village: Region, n: int) -> dict[str, Any]:
    """The same facts in another village with another (valid) ID number and no parent IDs."""
    out = {**row, "village": village, "parents": [{**p, "id_number": None} for p in row["parents"]]}
    if row["id_number"]:
        out["id_number"] = compose_id_number(
            "500230", row["birth_date"], (n * 2 + (1 if row["sex"] == "1" else 0))
        )
    return out


@pytest.mark.django_db
def test_bulk_register_derives_exactly_what_child_create_derives(
    users: dict[str, Any], villages: list[Region]
) -> None:
    rows = _variety(villages)
    assert len(rows) == 20
    kinds = {(r["care_arrangement"], any(not p["guardianship_capacity"] for p in r["parents"])) for r in rows}
    assert {("parent", False), ("grandparents", False), ("unattended", False)} <= kinds
    assert any(k[1] for k in kinds)
    other = [v for v in villages if v.code.startswith("500229201")]
    singly = [child_create(actor=users["county"], data=dict(r), today=TODAY) for r in rows]
    moved = [_moved(r, other[i % len(other)], i) for i, r in enumerate(rows)]
    bulk = bulk_register(actor=users["county"], rows=moved, today=TODAY)

    fields = [
        "lb_status",
        "lb_type",
        "lb_since",
        "lb_reasons",
        "key_target",
        "key_target_reasons",
        "status_on",
        "name_initials",
        "hukou_registered",
        "care_arrangement",
    ]
    for a, b in zip(singly, bulk, strict=True):
        a = Child.objects.get(pk=a.pk)
        b = Child.objects.get(pk=b.pk)
        assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}, a.name
        assert a.village_id != b.village_id
        pa = list(
            StatusPeriod.objects.filter(child=a).values_list("left_behind", "type", "start", "end", "reasons")
        )
        pb = list(
            StatusPeriod.objects.filter(child=b).values_list("left_behind", "type", "start", "end", "reasons")
        )
        assert pa == pb and len(pa) == 1
        ea = list(Event.objects.filter(child_id=str(a.pk)).order_by("seq").values_list("verb", "summary"))
        eb = list(Event.objects.filter(child_id=str(b.pk)).order_by("seq").values_list("verb", "summary"))
        assert ea == eb
        assert [(p.relation, p.away_for_work, p.phone, p.phone_index) for p in a.parents.all()] == [
            (p.relation, p.away_for_work, p.phone, p.phone_index) for p in b.parents.all()
        ]
    assert {c.lb_type for c in bulk} >= {"both_away", "one_away_other_incapable", ""}
    assert any(c.key_target for c in bulk) and not all(c.key_target for c in bulk)
    assert verify_chain(Event.objects.order_by("seq")) == []


@pytest.mark.django_db
def test_bulk_register_query_count_does_not_grow_with_rows(
    users: dict[str, Any], villages: list[Region]
) -> None:
    rows = generate_children(265, 21, villages, TODAY)[1:]
    bulk_register(actor=users["county"], rows=rows[:4], today=TODAY)  # warm the actor's cached scope
    rows = rows[4:]
    with CaptureQueriesContext(connection) as small:
        bulk_register(actor=users["county"], rows=rows[:40], today=TODAY)
    with CaptureQueriesContext(connection) as large:
        created = bulk_register(actor=users["county"], rows=rows[40:], today=TODAY)

    def others(ctx: CaptureQueriesContext) -> int:
        return sum(not q["sql"].startswith("INSERT") for q in ctx.captured_queries)

    if connection.vendor != "sqlite":  # SQLite's 999-parameter limit splits INSERTs into more statements
        assert len(large) == len(small)
    assert others(large) == others(small)
    selects = [q for q in large.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) <= 20  # scope, policy, duplicates, chain head, care's unattended alerts
    school = Child.objects.filter(pk__in=[c.pk for c in created], schooling="primary").exclude(school=None)
    assert school.exists()


@pytest.mark.django_db
def test_bulk_register_refuses_duplicates_and_out_of_scope(
    users: dict[str, Any], villages: list[Region]
) -> None:
    from django.core.exceptions import ValidationError

    rows = generate_children(5, 31, villages, TODAY)[1:]
    rows = [r for r in rows if r["id_number"]]
    bulk_register(actor=users["county"], rows=rows[:2], today=TODAY)
    with pytest.raises(DuplicateChild):
        bulk_register(actor=users["county"], rows=rows[1:], today=TODAY)
    with pytest.raises(DuplicateChild):
        bulk_register(actor=users["county"], rows=[rows[2], rows[2]], today=TODAY)
    assert Child.objects.count() == 2
    far = next(v for v in villages if not v.code.startswith("500229102201"))
    with pytest.raises(ValidationError):
        bulk_register(actor=users["vw"], rows=[{**rows[2], "village": far}], today=TODAY)
