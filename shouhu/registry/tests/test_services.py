"""Writes to a child's file (R1.1–R1.7, R11.2, R11.3): status history, duplicates, concurrency, scope,
validation that writes nothing, audit events without plain identifiers, encryption at rest."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from shouhu.conftest import BASHAN_VILLAGE, BASHAN_VILLAGE_2, child_data
from shouhu.core.crypto import blind_index
from shouhu.core.identity import compose_id_number, mask_id_number
from shouhu.core.models import Event
from shouhu.registry import rules
from shouhu.registry.models import Child, Guardian, Parent, StatusPeriod
from shouhu.registry.selectors import query_q
from shouhu.registry.services import (
    DuplicateChild,
    OutOfScope,
    StaleVersion,
    child_create,
    child_update,
    guardian_set,
    refresh_statuses,
)

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")


def counts() -> tuple[int, ...]:
    return (
        Child.objects.count(),
        Parent.objects.count(),
        StatusPeriod.objects.count(),
        Event.objects.count(),
        Guardian.objects.count(),
    )


def verbs(child: Child) -> list[str]:
    return list(Event.objects.filter(child_id=str(child.pk)).order_by("seq").values_list("verb", flat=True))


def periods(child: Child) -> list[tuple[bool, str, date, date | None]]:
    return [
        (p.left_behind, p.type, p.start, p.end)
        for p in StatusPeriod.objects.filter(child=child).order_by("start")
    ]


def parents_with(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """child_data's parents with per-relation changes, e.g. father={"away_for_work": False}."""
    base = child_data()["parents"]
    return [{**p, **changes.get(p["relation"], {})} for p in base]


# --- create ----------------------------------------------------------------------------------------


def test_create_opens_status_period_and_records_events(users: dict[str, Any], make_child: Any) -> None:
    before = Event.objects.count()
    child = make_child(today=date(2025, 1, 10))
    child.refresh_from_db()
    assert child.lb_status is True
    assert child.lb_type == "both_away"
    assert child.lb_since == date(2021, 2, 1)  # the later of the parents' departures
    assert child.status_on == date(2025, 1, 10)
    assert child.lb_reasons and CJK.search(child.lb_reasons[0])
    assert child.version == 1
    assert child.created_by == users["vw"]
    assert periods(child) == [(True, "both_away", date(2021, 2, 1), None)]
    assert verbs(child) == ["child.created", "child.status_entered"]
    assert Event.objects.count() == before + 2
    entered = Event.objects.get(child_id=str(child.pk), verb="child.status_entered")
    assert entered.after is not None
    assert entered.after["since"] == "2021-02-01" and entered.after["type"] == "both_away"
    assert entered.actor == users["vw"] and entered.region_code == BASHAN_VILLAGE
    assert Parent.objects.filter(child=child).count() == 2


def test_create_not_left_behind_child_records_no_entry(make_child: Any) -> None:
    child = make_child(today=date(2025, 1, 10), parents=parents_with(mother={"away_for_work": False}))
    child.refresh_from_db()
    assert child.lb_status is False and child.lb_since is None and child.lb_type == ""
    assert periods(child) == [(False, "", date(2025, 1, 10), None)]
    assert verbs(child) == ["child.created"]


def test_duplicate_by_id_number_is_refused(make_child: Any, users: dict[str, Any]) -> None:
    first = make_child()
    # Another name, another village, the same number (with stray spaces): the same child.
    data = child_data(
        name="另一个名字", village=BASHAN_VILLAGE_2, id_number=f" {first.id_number[:9]} {first.id_number[9:]}"
    )
    snapshot = counts()
    with pytest.raises(DuplicateChild) as exc:
        child_create(actor=users["county"], data=data)
    assert exc.value.existing.pk == first.pk
    assert CJK.search(str(exc.value))
    assert counts() == snapshot


def test_duplicate_by_lower_case_x_id_number_is_refused(make_child: Any, users: dict[str, Any]) -> None:
    birth = date(2014, 3, 7)
    number = next(n for s in range(1, 999, 2) if (n := compose_id_number("500229", birth, s)).endswith("X"))
    first = make_child(birth_date=birth, id_number=number.lower())
    assert Child.objects.get(pk=first.pk).id_number == number  # stored upper-case (R1.7)
    with pytest.raises(DuplicateChild):
        child_create(actor=users["county"], data=child_data(birth_date=birth, name="王五", id_number=number))


def test_duplicate_without_id_by_name_birth_village(make_child: Any, users: dict[str, Any]) -> None:
    no_id = {"hukou_registered": False, "id_number": None, "name": "刘小花", "birth_date": date(2016, 8, 8)}
    first = make_child(actor=users["county"], **no_id)
    assert first.id_number is None and first.id_number_index is None
    snapshot = counts()
    with pytest.raises(DuplicateChild) as exc:
        child_create(actor=users["county"], data=child_data(**{**no_id, "name": " 刘 小花 "}))
    assert exc.value.existing.pk == first.pk
    assert counts() == snapshot
    # The same name and birth date in another village is another child.
    other = child_create(actor=users["county"], data=child_data(**no_id, village=BASHAN_VILLAGE_2))
    assert other.pk != first.pk
    # A different birth date in the same village too.
    child_create(actor=users["county"], data=child_data(**{**no_id, "birth_date": date(2016, 8, 9)}))


def test_create_outside_edit_scope_is_refused(users: dict[str, Any]) -> None:
    snapshot = counts()
    with pytest.raises(ValidationError) as exc:
        child_create(actor=users["vw_other"], data=child_data())
    assert "village" in exc.value.message_dict
    with pytest.raises(ValidationError):
        child_create(actor=users["officer"], data=child_data())
    assert counts() == snapshot


# --- validation writes nothing ---------------------------------------------------------------------


def _bad_check_char() -> dict[str, Any]:
    good = compose_id_number("500229", date(2015, 6, 1), 11)
    wrong = next(c for c in "0123456789X" if c != good[-1])
    return {"id_number": good[:-1] + wrong}


def _disabled_parent() -> dict[str, Any]:
    return {
        "parents": parents_with(
            mother={"away_for_work": False, "guardianship_capacity": False, "incapacity_reason": ""}
        )
    }


INVALID = [
    ("bad check character", _bad_check_char, "id_number"),
    (
        "sex mismatch",
        lambda: {"sex": "2", "id_number": compose_id_number("500229", date(2015, 6, 1), 13)},
        "id_number",
    ),
    ("birth mismatch", lambda: {"id_number": compose_id_number("500229", date(2015, 6, 2), 13)}, "id_number"),
    ("township, not a village", lambda: {"village": "500229102000"}, "village"),
    ("unknown region", lambda: {"village": "500229999999"}, "village"),
    (
        "future birth date",
        lambda: {
            "birth_date": date.today() + timedelta(days=30),
            "id_number": None,
            "hukou_registered": False,
        },
        "birth_date",
    ),
    ("disabled without type", lambda: {"health": "disabled", "disability_grade": "2"}, "disability_type"),
    ("parent incapable without reason", _disabled_parent, "parents.mother.incapacity_reason"),
    ("hukou registered without ID", lambda: {"id_number": "", "hukou_registered": True}, "id_number"),
    ("ID given but hukou not registered", lambda: {"hukou_registered": False}, "hukou_registered"),
    (
        "bad parent phone",
        lambda: {"parents": parents_with(father={"phone": "1380013"})},
        "parents.father.phone",
    ),
]


@pytest.mark.parametrize(("label", "overrides", "key"), INVALID, ids=[i[0] for i in INVALID])
def test_create_validation_error_writes_nothing(
    users: dict[str, Any], label: str, overrides: Any, key: str
) -> None:
    data = child_data(**overrides())
    snapshot = counts()
    with pytest.raises(ValidationError) as exc:
        child_create(actor=users["county"], data=data)
    errors = exc.value.message_dict
    assert key in errors, errors
    assert all(CJK.search(m) for m in errors[key]), errors[key]
    assert counts() == snapshot


def test_update_validation_error_writes_nothing(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child()
    snapshot = counts()
    stored = Child.objects.values().get(pk=child.pk)
    with pytest.raises(ValidationError) as exc:
        child_update(
            actor=users["vw"],
            child_id=child.pk,
            version=child.version,
            data={"name": "新名字", "health": "disabled"},
        )
    assert "disability_type" in exc.value.message_dict
    assert counts() == snapshot
    assert Child.objects.values().get(pk=child.pk) == stored


# --- update: concurrency and scope -----------------------------------------------------------------


def test_update_with_stale_version_writes_nothing(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child()
    updated = child_update(
        actor=users["vw"], child_id=child.pk, version=1, data={"address": "巴山镇梨山村5组"}
    )
    assert updated.version == 2
    assert verbs(child)[-1] == "child.updated"
    snapshot = counts()
    stored = Child.objects.values().get(pk=child.pk)
    with pytest.raises(StaleVersion) as exc:
        child_update(actor=users["vw"], child_id=child.pk, version=1, data={"address": "别处"})
    assert exc.value.current == 2
    assert counts() == snapshot
    assert Child.objects.values().get(pk=child.pk) == stored
    assert Child.objects.get(pk=child.pk).address == "巴山镇梨山村5组"


@pytest.mark.parametrize("who", ["vw_other", "officer", "sup_other", "school", "edu", "admin", "nobody"])
def test_update_out_of_edit_scope(make_child: Any, users: dict[str, Any], who: str) -> None:
    child = make_child()
    snapshot = counts()
    with pytest.raises(OutOfScope):
        child_update(actor=users[who], child_id=child.pk, version=child.version, data={"name": "改名"})
    assert counts() == snapshot
    assert Child.objects.get(pk=child.pk).name == child.name


def test_update_in_scope_by_supervisor_and_county(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child()
    child_update(actor=users["sup"], child_id=child.pk, version=1, data={"notes": "a"})
    child_update(actor=users["county"], child_id=child.pk, version=2, data={"notes": "b"})
    assert Child.objects.get(pk=child.pk).version == 3


def test_update_missing_child_is_out_of_scope(users: dict[str, Any]) -> None:
    import uuid

    with pytest.raises(OutOfScope):
        child_update(actor=users["county"], child_id=uuid.uuid4(), version=1, data={})


def test_update_cannot_move_child_out_of_scope(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child()
    snapshot = counts()
    with pytest.raises(ValidationError) as exc:
        child_update(actor=users["vw"], child_id=child.pk, version=1, data={"village": BASHAN_VILLAGE_2})
    assert "village" in exc.value.message_dict
    assert counts() == snapshot
    assert Child.objects.get(pk=child.pk).village_id == BASHAN_VILLAGE


def test_update_without_changes_records_no_event(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child(today=date(2025, 1, 10))
    n = Event.objects.count()
    child_update(actor=users["vw"], child_id=child.pk, version=1, data={}, today=date(2025, 1, 10))
    assert Event.objects.count() == n
    assert StatusPeriod.objects.filter(child=child).count() == 1


# --- status history --------------------------------------------------------------------------------


def test_parent_returns_then_leaves_again(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child(today=date(2025, 1, 10))
    # The father came back on 20 May; the worker records it on 1 June with the effective date.
    child = child_update(
        actor=users["vw"],
        child_id=child.pk,
        version=1,
        today=date(2025, 6, 1),
        effective=date(2025, 5, 20),
        data={"parents": parents_with(father={"away_for_work": False})},
    )
    child.refresh_from_db()
    assert child.lb_status is False and child.lb_since is None
    assert periods(child) == [
        (True, "both_away", date(2021, 2, 1), date(2025, 5, 20)),
        (False, "", date(2025, 5, 20), None),
    ]
    exited = Event.objects.filter(child_id=str(child.pk), verb="child.status_exited").get()
    assert exited.after is not None
    assert exited.after["date"] == "2025-05-20" and exited.after["left_behind"] is False
    assert exited.before == {"left_behind": True, "type": "both_away", "since": "2021-02-01"}
    current = StatusPeriod.objects.get(child=child, end__isnull=True)
    assert any("在家且有监护能力" in r for r in current.reasons)

    # He leaves again on 15 August: re-entry dated by the departure, not by the day it was recorded.
    child = child_update(
        actor=users["vw"],
        child_id=child.pk,
        version=2,
        today=date(2025, 9, 1),
        data={"parents": parents_with(father={"away_since": date(2025, 8, 15)})},
    )
    child.refresh_from_db()
    assert child.lb_status is True and child.lb_type == "both_away"
    assert child.lb_since == date(2025, 8, 15)
    assert periods(child) == [
        (True, "both_away", date(2021, 2, 1), date(2025, 5, 20)),
        (False, "", date(2025, 5, 20), date(2025, 8, 15)),
        (True, "both_away", date(2025, 8, 15), None),
    ]
    assert verbs(child) == [
        "child.created",
        "child.status_entered",
        "child.updated",
        "child.status_exited",
        "child.updated",
        "child.status_entered",
    ]


def test_at_home_parent_loses_capacity_changes_type(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child(today=date(2025, 1, 10), parents=parents_with(mother={"away_for_work": False}))
    assert periods(child) == [(False, "", date(2025, 1, 10), None)]
    child_update(
        actor=users["vw"],
        child_id=child.pk,
        version=1,
        today=date(2025, 3, 1),
        effective=date(2025, 2, 20),
        data={
            "parents": parents_with(
                mother={
                    "away_for_work": False,
                    "guardianship_capacity": False,
                    "incapacity_reason": "serious_illness",
                }
            )
        },
    )
    child.refresh_from_db()
    assert child.lb_status is True and child.lb_type == "one_away_other_incapable"
    assert periods(child) == [
        (False, "", date(2025, 1, 10), date(2025, 2, 20)),
        (True, "one_away_other_incapable", date(2025, 2, 20), None),
    ]


def test_effective_date_in_the_future_is_refused(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child(today=date(2025, 1, 10))
    snapshot = counts()
    with pytest.raises(ValidationError) as exc:
        child_update(
            actor=users["vw"],
            child_id=child.pk,
            version=1,
            today=date(2025, 6, 1),
            effective=date(2025, 6, 2),
            data={"parents": parents_with(father={"away_for_work": False})},
        )
    assert "effective" in exc.value.message_dict
    assert counts() == snapshot


def test_refresh_statuses_ages_out_exactly_at_age_out_date(make_child: Any, users: dict[str, Any]) -> None:
    birth = date(2010, 5, 10)
    child = make_child(birth_date=birth, today=date(2026, 1, 5))
    still = make_child(birth_date=date(2012, 1, 1), today=date(2026, 1, 5))
    assert periods(child) == [(True, "both_away", date(2021, 2, 1), None)]
    # On the 16th birthday nothing changes.
    assert refresh_statuses(on=date(2026, 5, 10)) == []
    assert periods(child) == [(True, "both_away", date(2021, 2, 1), None)]
    n_events = Event.objects.count()
    # The scan runs late (it was down for a week): the exit is still dated the day after the birthday.
    changes = refresh_statuses(on=date(2026, 5, 18), actor=users["county"])
    assert [c.child_id for c in changes] == [str(child.pk)]
    assert changes[0].before == (True, "both_away") and changes[0].after == (False, "")
    assert periods(child) == [
        (True, "both_away", date(2021, 2, 1), date(2026, 5, 11)),
        (False, "", date(2026, 5, 11), None),
    ]
    assert rules.age_out_date(birth) == date(2026, 5, 11)
    exited = Event.objects.get(child_id=str(child.pk), verb="child.status_exited")
    assert exited.after is not None
    assert exited.after["date"] == "2026-05-11"
    assert exited.actor == users["county"]
    assert Event.objects.count() == n_events + 1
    child.refresh_from_db()
    assert child.lb_status is False and child.status_on == date(2026, 5, 18)
    assert any("已满16周岁" in r for r in child.lb_reasons)
    assert periods(still) == [(True, "both_away", date(2021, 2, 1), None)]

    # Idempotent: the same scan again changes nothing.
    snapshot = counts()
    stored = list(StatusPeriod.objects.values().order_by("id"))
    assert refresh_statuses(on=date(2026, 5, 18)) == []
    assert counts() == snapshot
    assert list(StatusPeriod.objects.values().order_by("id")) == stored


def test_refresh_statuses_on_the_day_after_the_birthday(make_child: Any) -> None:
    birth = date(2010, 7, 20)
    child = make_child(birth_date=birth, today=date(2026, 1, 5))
    changes = refresh_statuses(on=date(2026, 7, 21))
    assert [c.child_id for c in changes] == [str(child.pk)]
    assert periods(child)[0][3] == date(2026, 7, 21)
    assert verbs(child)[-1] == "child.status_exited"
    n = Event.objects.count()
    assert refresh_statuses(on=date(2026, 7, 21)) == []
    assert Event.objects.count() == n


# --- audit trail and encryption at rest (R11.2, R11.3) ---------------------------------------------


def test_events_carry_masked_identifiers_only(make_child: Any, users: dict[str, Any]) -> None:
    father_id = compose_id_number("500229", date(1985, 4, 3), 17)
    child = make_child(
        parents=parents_with(father={"id_number": father_id, "birth_date": date(1985, 4, 3)}),
        village_contact_phone="023-59221234",
    )
    # Change every identifier so that updates record before and after values too.
    new_id = compose_id_number("500229", child.birth_date, 555)
    child_update(
        actor=users["vw"],
        child_id=child.pk,
        version=1,
        data={
            "id_number": new_id,
            "village_contact_phone": "13912345678",
            "parents": parents_with(
                father={"id_number": father_id, "birth_date": date(1985, 4, 3), "phone": "13700137000"}
            ),
        },
    )
    guardian_set(
        actor=users["vw"],
        child=child,
        role="entrusted",
        data={
            "name": "张奶奶",
            "relationship": "62",
            "phone": "13600136000",
            "id_number": compose_id_number("500229", date(1955, 1, 2), 24),
        },
    )
    plain = [
        child.id_number,
        new_id,
        father_id,
        "13800138000",
        "13700137000",
        "13912345678",
        "02359221234",
        "13600136000",
        compose_id_number("500229", date(1955, 1, 2), 24),
    ]
    events = list(Event.objects.filter(child_id=str(child.pk)))
    assert len(events) >= 4
    text = json.dumps([[e.before, e.after, e.summary] for e in events], ensure_ascii=False)
    for value in plain:
        assert value not in text, value
    masked = mask_id_number(new_id)
    assert masked is not None and masked in text  # the change is still visible, masked
    with connection.cursor() as cur:
        cur.execute("select before, after from core_event")
        raw = json.dumps([list(r) for r in cur.fetchall()], ensure_ascii=False)
    for value in plain:
        assert value not in raw, value


def test_identifiers_are_encrypted_at_rest_and_found_by_blind_index(
    make_child: Any, users: dict[str, Any]
) -> None:
    child = make_child()
    number = child.id_number
    assert number and len(number) == 18
    with connection.cursor() as cur:
        cur.execute("select id_number, id_number_index from registry_child")
        rows = cur.fetchall()
        cur.execute("select id_number, phone from registry_parent")
        parent_rows = cur.fetchall()
    assert rows
    for raw_number, raw_index in rows:
        assert number not in (raw_number or "")
        assert number not in (raw_index or "")
    assert any(r[0] for r in rows)  # something is stored, just not the plain number
    for raw in parent_rows:
        assert "13800138000" not in json.dumps(raw)
    # The model decrypts; the blind index finds the child; the search by ID number goes through it.
    assert Child.objects.get(pk=child.pk).id_number == number
    assert Child.objects.get(id_number_index=blind_index("id", number)).pk == child.pk
    assert list(Child.objects.filter(query_q(number)).values_list("pk", flat=True)) == [child.pk]
    assert list(Child.objects.filter(query_q("138 0013 8000")).values_list("pk", flat=True)) == [child.pk]


# --- guardians (R1.3) ------------------------------------------------------------------------------


def test_guardian_with_bad_phone_is_refused_and_writes_nothing(
    make_child: Any, users: dict[str, Any]
) -> None:
    child = make_child()
    snapshot = counts()
    with pytest.raises(ValidationError) as exc:
        guardian_set(
            actor=users["vw"],
            child=child,
            role="carer",
            data={"name": "张爷爷", "relationship": "61", "phone": "12345"},
        )
    assert "phone" in exc.value.message_dict
    assert CJK.search(exc.value.message_dict["phone"][0])
    assert counts() == snapshot


def test_guardian_eligibility_lists_unknown_answers(make_child: Any, users: dict[str, Any]) -> None:
    child = make_child()
    g = guardian_set(
        actor=users["vw"],
        child=child,
        role="entrusted",
        data={
            "name": "张奶奶",
            "relationship": "62",
            "phone": "13600136000",
            "birth_date": date(1958, 3, 3),
            "no_addiction": True,
        },
    )
    g = Guardian.objects.get(pk=g.pk)
    assert g.phone == "13600136000" and g.phone_index == blind_index("phone", "13600136000")
    facts = rules.GuardianFacts(
        g.birth_date, g.full_civil_capacity, g.no_violence_history, g.no_addiction, g.no_prior_neglect
    )
    ok, problems = rules.guardian_eligibility(facts, date(2025, 1, 1))
    assert not ok
    assert len(problems) == 3 and all(p.startswith("尚未核实") for p in problems)
    assert any("完全民事行为能力" in p for p in problems)
    assert not any("恶习" in p for p in problems)
    # Updating the same role edits the row and records only what changed.
    guardian_set(
        actor=users["vw"],
        child=child,
        role="entrusted",
        data={
            "name": "张奶奶",
            "relationship": "62",
            "phone": "13600136000",
            "birth_date": date(1958, 3, 3),
            "no_addiction": True,
            "full_civil_capacity": True,
            "no_violence_history": True,
            "no_prior_neglect": True,
        },
    )
    assert Guardian.objects.filter(child=child, role="entrusted").count() == 1
    g = Guardian.objects.get(child=child, role="entrusted")
    ok, problems = rules.guardian_eligibility(
        rules.GuardianFacts(
            g.birth_date, g.full_civil_capacity, g.no_violence_history, g.no_addiction, g.no_prior_neglect
        ),
        date(2025, 1, 1),
    )
    assert ok and problems == ()
    last = Event.objects.filter(child_id=str(child.pk), verb="guardian.set").order_by("-seq").first()
    assert set(last.after) == {"full_civil_capacity", "no_violence_history", "no_prior_neglect"}


# --- added with the school field and the fuzzy duplicate rule (R1.7) ----------------------------------


def test_homophone_name_without_id_is_a_duplicate(users, make_child):
    from shouhu.registry.services import DuplicateChild, similar_names

    make_child(name="张晓明", hukou_registered=False, id_number=None)
    with pytest.raises(DuplicateChild):
        make_child(name="张小明", hukou_registered=False, id_number=None)  # same pinyin: entry typo
    assert similar_names("张晓明", "张晓鸣") and not similar_names("张晓明", "李大山")


def test_duplicate_out_of_scope_reveals_nothing(users, make_child):
    from shouhu.conftest import LONGTIAN_VILLAGE
    from shouhu.registry.services import DuplicateChild

    existing = make_child(
        actor=users["county"],
        village=LONGTIAN_VILLAGE,
        name="王芳",
        sex="2",
        hukou_registered=False,
        id_number=None,
    )
    with pytest.raises(DuplicateChild) as exc:
        from shouhu.registry.services import find_duplicate

        found = find_duplicate(
            id_number=None, name="王芳", birth_date=existing.birth_date, village_code=LONGTIAN_VILLAGE
        )
        assert found is not None
        raise DuplicateChild(found)
    message, link = exc.value.explain(users["vw"])
    assert link is None and "王芳" not in message and "已在其他地方建档" in message
    assert "请联系所在乡镇" in message  # says whom to ask, names nothing (issue 9 part 8)
    # the answer about a file out of reach is an identifier look-up: logged, counted for the day
    from shouhu.core.accesslog import lookups_used

    assert lookups_used(users["vw"], "duplicate") == 1
    message, link = exc.value.explain(users["county"])
    assert link == existing and "王芳" in message
    assert lookups_used(users["county"], "duplicate") == 0


def test_duplicate_answers_are_limited_per_day_whatever_the_database_holds(users, make_child):
    """Once a user's duplicate answers for the day are used up, every registration with an ID number is
    refused with the same message — a new number as much as one on file elsewhere — so the refusal
    cannot be used to test numbers against the county (issue 9 part 8)."""
    from django.core.exceptions import ValidationError

    from shouhu.conftest import LONGTIAN_VILLAGE, child_data
    from shouhu.core.models import PolicyParameter
    from shouhu.registry.services import DuplicateChild, child_create

    PolicyParameter.objects.update_or_create(
        key="duplicate_answers_per_day", defaults={"value": 1, "description": "test"}
    )
    elsewhere = make_child(actor=users["county"], village=LONGTIAN_VILLAGE, name="龙田某")
    with pytest.raises(DuplicateChild) as exc:
        child_create(actor=users["vw"], data=child_data(name="另一个名字", id_number=elsewhere.id_number))
    exc.value.explain(users["vw"])  # the one answer of the day
    for number in (elsewhere.id_number, child_data()["id_number"]):  # on file elsewhere / not on file
        with pytest.raises(ValidationError) as refused:
            child_create(actor=users["vw"], data=child_data(name="再登记", id_number=number))
        assert "查重次数已用完" in refused.value.message_dict["id_number"][0]
    # without an ID number nothing is looked up: registration goes on
    assert child_create(
        actor=users["vw"], data=child_data(name="无号码", id_number=None, hukou_registered=False)
    )


def test_school_is_validated_and_saved(users, make_child):
    from django.core.exceptions import ValidationError

    from shouhu.core.models import Organisation

    school = Organisation.objects.get(name="巴山中心小学")
    child = make_child(school=school.pk)
    assert child.school_id == school.pk
    clinic = Organisation.objects.get(name="巴山卫生院")
    with pytest.raises(ValidationError) as e:
        make_child(school=clinic.pk)
    assert "学校" in e.value.message_dict["school"][0]


# --- provisional files opened by a mandatory report (child_create_provisional) ----------------------


def test_provisional_file_is_created_with_an_event_and_no_scope_check(users):
    from shouhu.conftest import LONGTIAN_VILLAGE
    from shouhu.registry.services import child_create_provisional

    # a school in 巴山镇 may report a child anywhere in the county: no edit scope is checked
    child = child_create_provisional(
        actor=users["school"], name=" 小 红 ", village=LONGTIAN_VILLAGE, sex="2", today=date(2025, 3, 1)
    )
    child.refresh_from_db()
    assert child.is_provisional and child.name == "小红" and child.sex == "2"
    assert not child.hukou_registered and child.id_number is None and child.id_number_index is None
    assert child.birth_date == date(2015, 1, 1)  # no birth date reported: estimated at 10 years
    assert "临时档案" in child.notes and "估计" in child.notes
    assert child.name_pinyin and child.name_initials
    assert not child.lb_status and child.status_on == date(2025, 3, 1)
    assert periods(child) == [(False, "", date(2025, 3, 1), None)]
    assert verbs(child) == ["child.created_provisional"]
    event = Event.objects.get(child_id=str(child.pk))
    assert event.actor_id == users["school"].pk and event.region_code == LONGTIAN_VILLAGE
    assert event.after is not None and event.after["is_provisional"] is True
    # a citizen without an account reports too
    anonymous = child_create_provisional(actor=None, name="小明", village=BASHAN_VILLAGE, note="左手有伤疤")
    assert anonymous.sex == "" and anonymous.created_by is None and "左手有伤疤" in anonymous.notes


def test_provisional_file_refuses_what_a_report_cannot_be(users):
    from shouhu.registry.services import child_create_provisional

    before = counts()
    with pytest.raises(ValidationError) as e:
        child_create_provisional(actor=None, name="  ", village="500229102000", sex="3")
    errors = e.value.message_dict
    assert set(errors) == {"name", "village", "sex"}
    assert errors["name"] == ["请填写儿童姓名。"] and "不是村（居）委会" in errors["village"][0]
    assert all(CJK.search(m) for ms in errors.values() for m in ms)
    with pytest.raises(ValidationError) as e:
        child_create_provisional(
            actor=None,
            name="小红",
            village="999999999999",
            birth_date=date(2025, 3, 2),
            today=date(2025, 3, 1),
        )
    assert set(e.value.message_dict) == {"village", "birth_date"}
    assert "不能晚于今天" in e.value.message_dict["birth_date"][0]
    assert counts() == before  # a refusal writes nothing


def test_completing_a_provisional_file_clears_the_flag(users):
    from shouhu.registry.services import child_create_provisional

    child = child_create_provisional(actor=users["school"], name="张晓明", village=BASHAN_VILLAGE)
    data = child_data(name="张晓明", village=BASHAN_VILLAGE)
    data.pop("parents")
    child = child_update(actor=users["vw"], child_id=child.pk, data=data, version=child.version)
    child.refresh_from_db()
    assert not child.is_provisional and child.hukou_registered and child.id_number
    update = Event.objects.filter(child_id=str(child.pk), verb="child.updated").get()
    assert update.before is not None and update.after is not None
    assert update.before["is_provisional"] is True and update.after["is_provisional"] is False
    # an ordinary edit of an ordinary file does not mention the flag
    child = child_update(
        actor=users["vw"], child_id=child.pk, data={"address": "巴山镇梨山村4组"}, version=child.version
    )
    last = Event.objects.filter(child_id=str(child.pk), verb="child.updated").order_by("-seq").first()
    assert last is not None and last.after is not None
    assert "is_provisional" not in last.after and last.after["address"] == "巴山镇梨山村4组"
