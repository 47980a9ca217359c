"""Issue 16 part 5: the police officer's home page shows what waits and the next time limit; a case of
suspected sexual assault or injury stands out on the case list; the rule is a pure function."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from shouhu.protection import rules
from shouhu.protection.services import report_submit

TZ = ZoneInfo("Asia/Shanghai")


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@given(
    st.sets(st.sampled_from(["living_alone", "missing", "sexual_assault_under_14", "injury_or_harm", "x"]))
)
def test_a_case_is_urgent_exactly_when_a_situation_is_sexual_assault_or_injury(codes: set[str]) -> None:
    assert rules.is_urgent(codes) == bool(codes & rules.URGENT_SITUATIONS)


def _report(users: dict[str, Any], child: Any, situations: list[str]) -> Any:
    return report_submit(
        actor=users["doctor"],
        data={
            "child_name": child.name,
            "village": child.village_id,
            "situations": situations,
            "discovered_at": datetime.now(TZ) - timedelta(minutes=10),
            "description": "就诊时发现",
            "reporter_name": "赵医生",
            "reporter_phone": "13700001111",
        },
    )


@pytest.mark.django_db
def test_the_police_home_page_counts_what_waits_and_the_case_list_marks_the_urgent(
    users: dict[str, Any], make_child: Any
) -> None:
    child = make_child(name="李四妹", sex="2")
    other = make_child(name="王小丫")
    _report(users, child, ["sexual_assault_under_14"])
    _report(users, other, ["living_alone"])
    home = login(users["officer"]).get(reverse("web:home"))
    urgency = home.context["urgency"]
    assert urgency["awaiting"] == 2 and urgency["urgent"] == 1 and urgency["next_due"] is not None
    html = home.content.decode()
    assert "data-countdown" in html and "李四妹" not in html  # counts and a time, no names
    assert login(users["officer_other"]).get(reverse("web:home")).context["urgency"]["open"] == 0
    cases = login(users["officer"]).get(reverse("web:case_list")).content.decode()
    assert cases.count("data-urgent") == 1
