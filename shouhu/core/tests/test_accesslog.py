"""The sealed access log (R11.2, issue 9 part 6): rows numbered without gaps and sealed one by one, a
sealed head, retention recorded in the event chain, checkpoints — and the tampering each one catches."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from shouhu.core import accesslog
from shouhu.core.accesslog import apply_retention, checkpoint, record_read, verify_access_log
from shouhu.core.models import AccessLog, AccessLogHead, Event, PolicyParameter

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(users: dict[str, Any]) -> list[AccessLog]:
    return [
        record_read(
            user=users["vw"], action="view", child_id=f"c{i}", region_code="500229102201", query={"q": "x"}
        )
        for i in range(5)
    ]


def test_rows_are_numbered_sealed_and_verify(rows: list[AccessLog]) -> None:
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 5))
    assert all(len(r.mac) == 64 for r in rows)
    assert verify_access_log() == []
    head = AccessLogHead.objects.get(id=1)
    assert head.last_seq == rows[-1].seq


def test_identifiers_in_a_query_are_logged_masked(users: dict[str, Any]) -> None:
    row = record_read(user=users["edu"], action="search", query={"q": "50022920150601123X"}, count=1)
    assert row.query == "q=500229************" and "2015" not in row.query
    row = record_read(user=users["edu"], action="search", query="phone=13800138000")
    assert row.query == "phone=138****8000"


def test_an_edited_row_is_detected(rows: list[AccessLog]) -> None:
    AccessLog.objects.filter(pk=rows[2].pk).update(count=999)
    assert any(f"#{rows[2].seq}: content altered" in p for p in verify_access_log())
    AccessLog.objects.filter(pk=rows[2].pk).update(count=1, user=rows[0].user_id)  # back as it was
    assert verify_access_log() == []
    AccessLog.objects.filter(pk=rows[3].pk).update(child_id="someone-else")
    assert verify_access_log()


def test_a_deleted_row_is_detected(rows: list[AccessLog]) -> None:
    AccessLog.objects.filter(pk=rows[1].pk).delete()
    assert any("missing" in p for p in verify_access_log())


def test_rows_cut_from_the_end_are_detected(rows: list[AccessLog]) -> None:
    AccessLog.objects.filter(pk=rows[-1].pk).delete()
    assert any("removed from the end" in p for p in verify_access_log())
    # moving the head back too needs the key: its seal no longer matches
    AccessLogHead.objects.filter(id=1).update(last_seq=rows[-2].seq)
    assert any("head altered" in p for p in verify_access_log())


def test_a_checkpoint_catches_a_cut_even_with_the_head_resealed(rows: list[AccessLog]) -> None:
    checkpoint(timezone.now())
    AccessLog.objects.filter(seq__gt=rows[1].seq).delete()
    head = AccessLogHead.objects.get(id=1)
    head.last_seq = rows[1].seq
    head.mac = accesslog.head_mac(head)  # as if the key had leaked
    head.save()
    assert any("checkpoint" in p for p in verify_access_log())


def test_a_forged_row_is_detected(rows: list[AccessLog]) -> None:
    forged = AccessLog(
        seq=rows[-1].seq + 1, user=rows[0].user, action="view", child_id="x", mac="0" * 64, at=timezone.now()
    )
    forged.save()
    problems = verify_access_log()
    assert any("content altered" in p for p in problems) or any("missing" in p for p in problems)


def test_rows_are_append_only(rows: list[AccessLog]) -> None:
    with pytest.raises(RuntimeError):
        rows[0].save()


def test_retention_removes_old_rows_and_verification_still_holds(users: dict[str, Any]) -> None:
    now = timezone.now()
    old = [record_read(user=users["vw"], action="view", at=now - timedelta(days=400)) for _ in range(3)]
    new = [record_read(user=users["vw"], action="view", at=now - timedelta(days=10)) for _ in range(2)]
    summary = apply_retention(now)
    assert summary["removed"] == 3 and summary["through_seq"] == old[-1].seq
    assert set(AccessLog.objects.values_list("seq", flat=True)) == {r.seq for r in new}
    assert verify_access_log() == []
    event = Event.objects.get(verb="audit.access_retention")
    assert (event.after or {})["through_seq"] == old[-1].seq and event.visibility == "admin"
    assert apply_retention(now) == {"retention_days": 183, "removed": 0}  # idempotent
    assert Event.objects.filter(verb="audit.access_retention").count() == 1


def test_retention_never_goes_below_six_months(users: dict[str, Any]) -> None:
    PolicyParameter.objects.update_or_create(
        key="audit_retention_days", defaults={"value": 30, "description": "x"}
    )
    now = timezone.now()
    kept = record_read(user=users["vw"], action="view", at=now - timedelta(days=100))
    assert apply_retention(now)["removed"] == 0 and AccessLog.objects.filter(pk=kept.pk).exists()
    PolicyParameter.objects.filter(key="audit_retention_days").update(value=365)
    record_read(user=users["vw"], action="view", at=now - timedelta(days=300))
    assert apply_retention(now)["removed"] == 0


def test_deleting_old_rows_without_a_recorded_retention_is_detected(users: dict[str, Any]) -> None:
    first = record_read(user=users["vw"], action="view")
    record_read(user=users["vw"], action="view")
    AccessLog.objects.filter(pk=first.pk).delete()
    AccessLogHead.objects.filter(id=1).update(first_seq=first.seq + 1)  # unsealed move
    problems = verify_access_log()
    assert any("head altered" in p for p in problems) or any("retention" in p for p in problems)


def test_verify_audit_command_covers_the_access_log(rows: list[AccessLog]) -> None:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "access log intact: 5 rows" in out.getvalue()
    AccessLog.objects.filter(pk=rows[0].pk).update(action="export")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=StringIO(), stderr=err)
    assert "access log" in err.getvalue()


def test_run_scan_applies_retention_and_writes_a_checkpoint(rows: list[AccessLog]) -> None:
    call_command("run_scan", stdout=StringIO())
    cp = Event.objects.filter(verb="audit.access_checkpoint").get()
    assert (cp.after or {})["last_seq"] == rows[-1].seq
    call_command("run_scan", stdout=StringIO())  # nothing new: nothing written
    assert Event.objects.filter(verb="audit.access_checkpoint").count() == 1


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_without_gaps_outside_the_test_transaction(county: dict[str, Any]) -> None:
    """With real commits each row takes the next number under the head's lock, and a failed request
    leaves no gap (the row and the head move in one transaction)."""
    from django.db import transaction

    user = county["vw_102201"]
    record_read(user=user, action="view")
    try:
        with transaction.atomic():
            record_read(user=user, action="view")
            raise RuntimeError("the request failed after reading")
    except RuntimeError:
        pass
    record_read(user=user, action="view")
    seqs = list(AccessLog.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) == 2
    assert verify_access_log() == []
