"""Management commands of API.md and operations: run_scan, verify_audit, load_villages."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from shouhu.core.models import Event, Region
from shouhu.registry.models import Child, StatusPeriod


def _scan(at: str) -> dict:
    out = StringIO()
    call_command("run_scan", at=at, stdout=out)
    return json.loads(out.getvalue())["registry"]


def test_run_scan_ages_out_on_the_day_after_the_16th_birthday_and_is_idempotent(make_child):
    child = make_child(birth_date=date(2010, 5, 3), schooling="junior", today=date(2026, 1, 1))
    assert child.lb_status
    assert _scan("2026-05-03T12:00:00+08:00")["status_changes"] == 0  # the birthday: still under 16
    first = _scan("2026-05-04T08:00:00+08:00")
    assert first["status_changes"] == 1 and first["exits"] == 1
    events = Event.objects.count()
    assert _scan("2026-05-04T08:00:00+08:00")["status_changes"] == 0
    assert Event.objects.count() == events
    child.refresh_from_db()
    assert not child.lb_status
    periods = list(
        StatusPeriod.objects.filter(child=child).order_by("start").values_list("left_behind", "end")
    )
    assert periods == [(True, date(2026, 5, 4)), (False, None)]


def test_run_scan_rejects_a_bad_moment():
    with pytest.raises(CommandError, match="not a date-time"):
        call_command("run_scan", at="next tuesday")


def test_verify_audit_detects_an_edited_event(make_child):
    make_child()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()
    Event.objects.filter(seq=1).update(summary="篡改")
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit", stdout=StringIO(), stderr=StringIO())


def test_load_villages_checks_every_row_before_writing(tmp_path, db):
    good = tmp_path / "good.csv"
    good.write_text(
        "code,name,kind,parent_code\n500229102201,真实村,village,500229102000\n"
        "500229102099,新社区,community,500229102000\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,kind,parent_code\n500229102401,错号村,village,500229102000\n"
        "500229102098,另一社区,community,500229102000\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="nothing loaded"):
        call_command("load_villages", str(bad), stdout=StringIO(), stderr=StringIO())
    assert not Region.objects.filter(code="500229102098").exists()
    call_command("load_villages", str(good), stdout=StringIO())
    real = Region.objects.get(code="500229102201")
    assert real.name == "真实村" and not real.is_demo
    assert Region.objects.get(code="500229102099").kind == "community"
    assert Child.objects.count() == 0
