"""The audit chain (R11.2): every change sealed, edits and deletions detected, rows append-only."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from django.db import transaction

from shouhu.conftest import child_data
from shouhu.core.events import EventSpec, jsonable, record_event, record_events, verify_chain
from shouhu.core.models import AuditChainHead, Event
from shouhu.registry.services import child_update, guardian_set, refresh_statuses


def chain() -> list[Event]:
    return list(Event.objects.order_by("seq"))


@pytest.fixture
def written(users: dict[str, Any], make_child: Any) -> list[Event]:
    """Several service writes: two files, an edit, a guardian, an age-out by the scan."""
    child = make_child(today=date(2026, 1, 5))
    make_child(birth_date=date(2010, 2, 3), today=date(2026, 1, 5))
    child_update(actor=users["vw"], child_id=child.pk, version=1, data={"notes": "走访发现奶奶腿脚不便"})
    guardian_set(
        actor=users["vw"],
        child=child,
        role="carer",
        data={"name": "张奶奶", "relationship": "62", "phone": "13600136000"},
    )
    assert refresh_statuses(on=date(2026, 2, 4))
    events = chain()
    assert len(events) >= 7
    return events


@pytest.mark.django_db
def test_chain_verifies_after_service_writes(written: list[Event]) -> None:
    assert verify_chain(written) == []
    assert [e.seq for e in written] == list(range(1, len(written) + 1))
    assert written[0].prev_hash == "0" * 64
    for prev, ev in itertools.pairwise(written):
        assert ev.prev_hash == prev.hash
    head = AuditChainHead.objects.get(id=1)
    assert (head.last_seq, head.last_hash) == (written[-1].seq, written[-1].hash)
    assert {
        "child.created",
        "child.status_entered",
        "child.updated",
        "guardian.set",
        "child.status_exited",
    } <= {e.verb for e in written}


@pytest.mark.django_db
def test_altered_content_is_detected(written: list[Event]) -> None:
    target = written[2]
    Event.objects.filter(pk=target.pk).update(after={**(target.after or {}), "notes": "改过的内容"})
    problems = verify_chain(chain())
    assert problems == [f"seq {target.seq}: content altered"]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["summary", "verb", "actor_id", "region_code", "before", "occurred_at"])
def test_any_altered_field_is_detected(written: list[Event], field: str) -> None:
    target = written[1]
    new = {
        "summary": "x",
        "verb": "child.deleted",
        "actor_id": None,
        "region_code": "500229201201",
        "before": {"forged": True},
        "occurred_at": target.occurred_at.replace(year=2020),
    }[field]
    Event.objects.filter(pk=target.pk).update(**{field: new})
    assert f"seq {target.seq}: content altered" in verify_chain(chain())


@pytest.mark.django_db
def test_resealing_a_row_without_the_key_breaks_the_next_link(written: list[Event]) -> None:
    import hashlib

    target = written[1]
    Event.objects.filter(pk=target.pk).update(hash=hashlib.sha256(b"forged").hexdigest())
    problems = verify_chain(chain())
    assert f"seq {target.seq}: content altered" in problems
    assert f"seq {target.seq + 1}: link to the previous event broken" in problems


@pytest.mark.django_db
def test_deleting_the_last_event_is_detected(written: list[Event]) -> None:
    last = written[-1]
    Event.objects.filter(pk=last.pk).delete()
    problems = verify_chain(chain())
    assert len(problems) == 1
    assert problems[0].startswith(f"chain head at seq {last.seq}, last event seq {last.seq - 1}")


@pytest.mark.django_db
def test_deleting_a_middle_event_is_detected(written: list[Event]) -> None:
    middle = written[3]
    Event.objects.filter(pk=middle.pk).delete()
    problems = verify_chain(chain())
    assert f"seq {middle.seq}..{middle.seq} missing" in problems
    assert f"seq {middle.seq + 1}: link to the previous event broken" in problems


@pytest.mark.django_db
def test_deleting_everything_is_detected(written: list[Event]) -> None:
    Event.objects.all().delete()
    assert verify_chain(chain()) == [
        f"chain head at seq {written[-1].seq}, last event seq 0: events removed from the end"
    ]


@pytest.mark.django_db
def test_events_are_append_only(written: list[Event]) -> None:
    ev = Event.objects.get(seq=1)
    ev.summary = "改写"
    with pytest.raises(RuntimeError, match="append-only"):
        ev.save()
    with pytest.raises(RuntimeError, match="append-only"):
        ev.delete()
    assert Event.objects.get(seq=1).summary == written[0].summary
    assert Event.objects.count() == len(written)
    assert verify_chain(chain()) == []


@pytest.mark.django_db
def test_batches_continue_the_chain(users: dict[str, Any]) -> None:
    with transaction.atomic():
        record_events(
            [
                EventSpec(
                    verb="test.a",
                    subject_type="t",
                    subject_id=str(i),
                    actor=users["county"],
                    before={"d": date(2025, 1, i + 1)},
                    after=[1, "二"],
                )
                for i in range(3)
            ]
        )
    with transaction.atomic():
        one = record_event(verb="test.b", subject_type="t", subject_id="x", summary="长" * 300)
    assert record_events([]) == []
    events = chain()
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert len(one.summary) == 200
    assert events[0].before == {"d": "2025-01-01"} == jsonable({"d": date(2025, 1, 1)})
    assert verify_chain(events) == []


@pytest.mark.django_db
def test_failed_service_write_leaves_no_event_and_a_sound_chain(
    users: dict[str, Any], make_child: Any
) -> None:
    from django.core.exceptions import ValidationError

    from shouhu.registry.services import child_create

    make_child()
    n = Event.objects.count()
    with pytest.raises(ValidationError):
        child_create(actor=users["vw"], data=child_data(health="disabled"))
    assert Event.objects.count() == n
    assert AuditChainHead.objects.get(id=1).last_seq == n
    assert verify_chain(chain()) == []


@pytest.mark.django_db
def test_record_events_outside_a_transaction_raises() -> None:
    """A caller without a transaction (a worker thread with its own connection) is refused before it
    writes anything. A thread, not `transaction=True`: flushing the shared test database would take the
    demo county away from other modules' fixtures."""
    import threading

    from django.db import connection

    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            assert not connection.in_atomic_block
            record_events([EventSpec(verb="test", subject_type="t", subject_id="1")])
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=call)
    worker.start()
    worker.join()
    assert len(outcome) == 1 and isinstance(outcome[0], RuntimeError), outcome
    assert "inside the service's transaction" in str(outcome[0])
    assert not Event.objects.exists()
    assert not AuditChainHead.objects.filter(last_seq__gt=0).exists()
