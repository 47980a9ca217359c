"""The audit chain anchored outside the database (issue 10 part 6, R11.2): signed checkpoints of the
chain head in a file; `verify_audit` detects events cut from the end with the head moved back; a deleted
head row is refused, never recreated at 0."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from shouhu.core.accesslog import record_read, verify_access_log
from shouhu.core.checkpoints import verify_checkpoints, write_checkpoint
from shouhu.core.events import AuditHeadMissing, record_event, verify_chain
from shouhu.core.models import AccessLog, AccessLogHead, AuditChainHead, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def cp(tmp_path: Path) -> Any:
    path = tmp_path / "cp.jsonl"
    with override_settings(SHOUHU_AUDIT_CHECKPOINT_FILE=path):
        yield path


def _events(n: int) -> list[Event]:
    from django.db import transaction

    with transaction.atomic():
        return [record_event(verb="test.thing", subject_type="t", subject_id=str(i)) for i in range(n)]


def _verify() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("verify_audit", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_truncated_chain_with_the_head_moved_back_is_detected(cp: Path, users: dict[str, Any]) -> None:
    _events(3)
    call_command("audit_checkpoint", stdout=StringIO())
    line = json.loads(cp.read_text().splitlines()[-1])
    assert line["seq"] == Event.objects.latest("seq").seq and len(line["mac"]) == 64
    out, _err = _verify()
    assert "1 checkpoint(s) hold" in out
    # The attacker's edit: delete the newest events, move the head back — a valid, shorter chain.
    last = Event.objects.order_by("-seq")[:2]
    cut = [e.seq for e in last]
    Event.objects.filter(seq__in=cut).delete()
    prev = Event.objects.order_by("-seq").first()
    assert prev is not None
    AuditChainHead.objects.filter(id=1).update(last_seq=prev.seq, last_hash=prev.hash)
    assert verify_chain(Event.objects.order_by("seq")) == []  # the chain alone cannot see it
    with pytest.raises(CommandError, match="against the checkpoints"):
        _verify()
    problems, _n = verify_checkpoints(cp)
    assert any("events removed from the end" in p for p in problems)


def test_a_rewritten_tail_and_an_edited_checkpoint_are_detected(cp: Path, users: dict[str, Any]) -> None:
    _events(2)
    write_checkpoint()
    last = Event.objects.latest("seq")
    Event.objects.filter(seq=last.seq).update(hash="f" * 64)
    assert any("differs from the checkpoint" in p for p in verify_checkpoints()[0])
    Event.objects.filter(seq=last.seq).update(hash=last.hash)
    assert verify_checkpoints()[0] == []
    # Moving the checkpoint back instead (editing the file) breaks its signature.
    lines = cp.read_text().splitlines()
    edited = json.loads(lines[-1])
    edited["seq"] -= 1
    cp.write_text(json.dumps(edited) + "\n")
    assert any("signature invalid" in p for p in verify_checkpoints()[0])
    cp.write_text("not json\n")
    assert any("not a checkpoint" in p for p in verify_checkpoints()[0])


def test_checkpoints_cover_the_access_log_end(cp: Path, users: dict[str, Any]) -> None:
    rows = [record_read(user=users["vw"], action="view", child_id=f"c{i}") for i in range(3)]
    write_checkpoint()
    AccessLog.objects.filter(seq=rows[-1].seq).delete()
    AccessLogHead.objects.filter(id=1).update(last_seq=rows[-2].seq)
    assert any("rows removed from the end" in p for p in verify_checkpoints()[0])


def test_writing_is_idempotent_and_signed_with_the_audit_key(cp: Path, users: dict[str, Any]) -> None:
    _events(1)
    assert write_checkpoint()["written"] is True
    assert write_checkpoint()["written"] is False  # nothing new: no new line
    _events(1)
    assert write_checkpoint()["written"] is True
    assert len(cp.read_text().splitlines()) == 2
    assert verify_checkpoints()[0] == [] and verify_checkpoints()[1] == 2
    with override_settings(AUDIT_SEAL_KEY="another-key"):
        assert any("another audit key" in p for p in verify_checkpoints()[0])


def test_no_checkpoint_file_is_a_warning_not_a_failure(cp: Path, users: dict[str, Any]) -> None:
    _events(1)
    out, err = _verify()
    assert "0 checkpoint(s)" in out and "no checkpoint" in err


def test_a_deleted_access_log_head_is_refused_not_recreated(client: Any, users: dict[str, Any]) -> None:
    record_read(user=users["vw"], action="view", child_id="c1")
    AccessLogHead.objects.filter(id=1).delete()
    with pytest.raises(AuditHeadMissing):
        record_read(user=users["vw"], action="view", child_id="c2")
    assert not AccessLogHead.objects.exists()  # not silently recreated at 0
    assert "access log head missing" in verify_access_log()
    client.force_login(users["vw"])
    page = client.get("/children/")
    assert page.status_code == 503 and "verify_audit" in page.content.decode()
    api = client.get("/api/v1/children/")
    assert api.status_code == 503 and api.json()["code"] == "audit_broken"


def test_a_deleted_event_chain_head_is_refused(users: dict[str, Any]) -> None:
    _events(1)
    AuditChainHead.objects.filter(id=1).delete()
    with pytest.raises(AuditHeadMissing):
        _events(1)
    assert any("head row missing" in p for p in verify_chain(Event.objects.order_by("seq")))
