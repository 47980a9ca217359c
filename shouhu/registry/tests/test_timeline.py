"""A child's timeline by visibility class (R11.1, issue 9 part 3): each reader sees the events their
capabilities allow; protection events only with the right to that very case; the reporter only with
`case.reporter`; identifiers in old events only for those who may see them in full."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shouhu.core.events import record_event, verify_chain
from shouhu.core.models import Event, Organisation, User
from shouhu.core.visibility import (
    CARE,
    FAMILY,
    FILE,
    PROTECTION,
    REPORT,
    RESTRICTED,
    STATUS,
    visibility_of_verb,
)
from shouhu.registry.fields import groups_of
from shouhu.registry.selectors import events_of
from shouhu.registry.services import child_update, guardian_set
from shouhu.registry.timeline import timeline_for

pytestmark = pytest.mark.django_db


def visible(user: User, child: Any) -> list[Any]:
    user = User.objects.get(pk=user.pk)
    return timeline_for(user, groups_of(user, child), events_of(child))


@pytest.fixture
def child(users: dict[str, Any], make_child: Any) -> Any:
    from shouhu.protection import services

    c = make_child(name="时间线", school=Organisation.objects.get(name="巴山中心小学").pk)
    child_update(actor=users["vw"], child_id=c.pk, version=1, data={"illness": "哮喘", "health": "ill"})
    guardian_set(actor=users["vw"], child=c, role="carer", data={"name": "王奶奶", "relationship": "62"})
    report = services.report_submit(
        actor=users["school"],
        data={
            "child": str(c.pk),
            "situations": ["domestic_violence"],
            "discovered_at": timezone.now(),
            "description": "淤青",
        },
    )
    services.case_transition(actor=users["officer"], case_id=report.case_id, to="received", note="出警核实")
    return c


def test_verbs_have_classes_and_unknown_verbs_are_restricted() -> None:
    assert visibility_of_verb("child.updated") == FILE
    assert visibility_of_verb("child.status_entered") == STATUS
    assert visibility_of_verb("guardian.set") == FAMILY
    assert visibility_of_verb("care.visit_logged") == CARE
    assert visibility_of_verb("case.opened") == REPORT
    assert visibility_of_verb("case.transition") == PROTECTION
    assert visibility_of_verb("something.new") == RESTRICTED


def test_protection_events_stay_in_the_case_file(users: dict[str, Any], child: Any) -> None:
    for who in ("edu", "school"):  # see the file, not the case: no case event at all
        verbs = {e.event.verb for e in visible(users[who], child)}
        assert not {v for v in verbs if v.startswith("case.")}, who
        assert "guardian.set" not in verbs  # nor the family's
    police = visible(users["officer"], child)
    assert {"case.opened", "case.transition"} <= {e.event.verb for e in police}


def test_the_reporter_only_for_police_and_civil_affairs(users: dict[str, Any], child: Any) -> None:
    def opened(who: str) -> Any:
        return next(e for e in visible(users[who], child) if e.event.verb == "case.opened")

    assert opened("officer").show_actor and opened("county").show_actor and opened("sup").show_actor
    assert not opened("vw").show_actor  # the village's worker sees the case, not who reported it


def test_change_rows_follow_the_field_groups(users: dict[str, Any], child: Any) -> None:
    edu_updates = [e for e in visible(users["edu"], child) if e.event.verb == "child.updated"]
    assert edu_updates and all("illness" not in (e.after or {}) for e in edu_updates)
    vw_updates = [e for e in visible(users["vw"], child) if e.event.verb == "child.updated"]
    assert any((e.after or {}).get("illness") == "哮喘" for e in vw_updates)


def test_identifiers_of_old_events_are_shown_only_to_who_may_see_them(
    users: dict[str, Any], child: Any
) -> None:
    """Events sealed before the mask changed hold the former mask (6 + last 4): re-shown to no one who
    may not see the number in full."""
    with transaction.atomic():
        record_event(
            verb="child.updated",
            subject_type="registry.child",
            subject_id=str(child.pk),
            child_id=str(child.pk),
            region_code=child.village_id,
            summary="修改档案",
            before={"id_number": "500229********1234", "name": "时间线"},
            after={"id_number": "500229********5678", "name": "时间线"},
        )
    edu = next(e for e in visible(users["edu"], child) if e.event.verb == "child.updated")
    assert "id_number" not in (edu.after or {}) and "id_number" not in (edu.before or {})
    county = next(e for e in visible(users["county"], child) if e.event.verb == "child.updated")
    assert county.after["id_number"] == "500229********5678"


def test_the_class_is_sealed_and_old_events_still_verify(users: dict[str, Any], child: Any) -> None:
    event = Event.objects.filter(verb="case.transition").get()
    assert event.visibility == PROTECTION
    assert verify_chain(Event.objects.order_by("seq")) == []
    with connection.cursor() as cursor:  # someone widens who may see it
        cursor.execute("UPDATE core_event SET visibility = %s WHERE id = %s", [FILE, event.pk])
    assert any("content altered" in p for p in verify_chain(Event.objects.order_by("seq")))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_event SET visibility = %s WHERE id = %s", [PROTECTION, event.pk])
    assert verify_chain(Event.objects.order_by("seq")) == []
