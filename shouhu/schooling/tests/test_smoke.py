from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shouhu.schooling import dropout, services
from shouhu.schooling.tests.conftest import enrol, make_child

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def test_three_days_open_a_case(users: dict[str, Any], school: Any) -> None:
    child = make_child(users)
    e = enrol(school, child)
    now = datetime(2026, 11, 20, 17, tzinfo=TZ)
    cases = []
    for d in (16, 17, 18):
        _a, case = services.absence_record(
            actor=users["school"], enrolment=e, data={"date": date(2026, 11, d)}, now=now
        )
        cases.append(case)
    assert cases[0] is None and cases[1] is None and cases[2] is not None
    assert cases[2].opened_on == date(2026, 11, 18)
    case = dropout.dropout_transition(actor=users["school"], case_id=cases[2].pk, to="registered", now=now)
    assert case.state == "registered"
