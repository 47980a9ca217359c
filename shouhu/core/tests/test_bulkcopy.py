"""bulk_insert stores exactly what Model.save() stores (COPY on PostgreSQL, bulk_create elsewhere).

The values chosen are the ones COPY's text format must escape (tabs, line breaks, backslashes, the
\\N of NULL, quotes inside JSON), lazy translations, aware datetimes, encrypted identifiers, and foreign
keys to an auto and a character primary key.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils.translation import gettext_lazy

from shouhu.core.bulkcopy import bulk_insert
from shouhu.core.models import Event
from shouhu.registry.models import Child, Parent

BASE = 900_000_000  # far above the chain the fixtures write
AWKWARD = "甲\t乙\n丙\\N 丁\\ 戊\"'；\r"


def _event(seq: int, actor: Any) -> Event:
    return Event(
        seq=seq,
        occurred_at=datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC),
        actor=actor,
        verb="test.copy",
        subject_type="t",
        subject_id=str(seq),
        child_id="",
        region_code="500229102200",
        summary=gettext_lazy("建立档案"),  # type: ignore[misc]  # a lazy string, as services pass them
        before=None,
        after={"text": AWKWARD, "list": [1, None, "二"], "nested": {"d": "2026-03-01", "ok": True}},
        prev_hash="0" * 64,
        hash=AWKWARD,
    )


def _row(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


@pytest.mark.django_db
def test_events_inserted_in_bulk_read_back_as_saved_ones(users: dict[str, Any]) -> None:
    fields = [f.attname for f in Event._meta.concrete_fields if f.attname != "id"]
    with transaction.atomic():
        Event.objects.bulk_create([_event(BASE + 1, users["county"])])
        bulk = [_event(BASE + 2, users["county"]), _event(BASE + 3, None)]
        bulk_insert(Event, bulk)
    got = {e.seq - BASE: e for e in Event.objects.filter(seq__gt=BASE)}
    assert (
        got[2].after
        == got[1].after
        == {
            "text": AWKWARD,
            "list": [1, None, "二"],
            "nested": {"d": "2026-03-01", "ok": True},
        }
    )
    assert got[2].before is None and got[2].hash == AWKWARD
    assert got[2].summary == "建立档案" and got[2].occurred_at == got[1].occurred_at
    assert got[2].actor_id == users["county"].pk and got[3].actor_id is None
    assert _row(got[2], fields) | {"seq": BASE + 1, "subject_id": str(BASE + 1)} == _row(got[1], fields)
    assert not bulk[0]._state.adding


@pytest.mark.django_db
def test_children_and_parents_inserted_in_bulk_keep_encrypted_identifiers(
    users: dict[str, Any], make_child: Any
) -> None:
    model = make_child()
    child = Child(
        name=AWKWARD[:10],
        sex="1",
        birth_date=date(2015, 5, 3),
        id_number="50022920150503001X",
        id_number_index="copy-test-index",
        village_id=model.village_id,
        schooling="primary",
        care_arrangement="grandparents",
        lb_reasons=["父母均外出务工", AWKWARD],
        village_contact_phone="13800138000",
        notes=AWKWARD,
        created_by=users["county"],
    )
    father = Parent(child=child, relation="father", name="王大", phone="13912345678", id_number=None)
    with transaction.atomic():
        bulk_insert(Child, [child])
        bulk_insert(Parent, [father])
    back = Child.objects.get(pk=child.pk)
    assert back.id_number == "50022920150503001X" and back.village_contact_phone == "13800138000"
    assert back.notes == AWKWARD and back.lb_reasons == ["父母均外出务工", AWKWARD]
    assert back.created_by_id == users["county"].pk and back.village_id == model.village_id
    with connection.cursor() as cur:  # stored encrypted, not in clear
        cur.execute(
            f"SELECT id_number FROM {Child._meta.db_table} WHERE id_number_index = %s", ["copy-test-index"]
        )
        assert "50022920150503001X" not in cur.fetchone()[0]
    p = Parent.objects.get(child=child)
    assert p.pk is not None and p.phone == "13912345678" and p.id_number is None and p.name == "王大"
