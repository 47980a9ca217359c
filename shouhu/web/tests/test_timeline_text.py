"""Issue 12 part 7 (R11.5): every event kind on a child's timeline reads as Chinese sentences and
labelled lines — no raw keys, dicts, ISO stamps or ids."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shouhu.care import scan
from shouhu.care import services as care
from shouhu.care.models import CareAssignment
from shouhu.conftest import BASHAN_VILLAGE, BASHAN_VILLAGE_2
from shouhu.core.models import Event
from shouhu.registry import lifecycle
from shouhu.registry.services import child_update
from shouhu.web.timeline_text import details, when

pytestmark = pytest.mark.django_db

RAW = [
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),  # an ISO time stamp
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"),  # a uuid
    re.compile(r"\b(child|plan|village):[0-9a-f]"),  # an alert key
    re.compile(r"\{'|'\}|\{&#x27;"),  # a Python dict
    re.compile(r"\b[a-z]+_[a-z_]+\b"),  # a snake_case code (kind, channel, reason …)
    re.compile(r"(^|[>\s])(routine|in_person|phone|video|father|mother|moved_away|archived|active)\b"),
]


def timeline_html(client: Any, child: Any) -> str:
    page = client.get(reverse("web:child_detail", args=[child.pk])).content.decode()
    return page.split('id="timeline"')[1]


def test_every_event_kind_renders_readably(client: Any, users: dict[str, Any], make_child: Any) -> None:
    vw, sup = users["vw"], users["sup"]
    now = timezone.now()
    a = make_child(guardianship_rating="poor")
    care.contact_log(actor=vw, child=a, data={"parent": "father", "channel": "in_person", "occurred_at": now})
    care.visit_log(
        actor=vw,
        child=a,
        data={
            "occurred_at": now,
            "kind": "routine",
            "findings": {"study": "成绩稳定", "safety_hazards": "无"},
            "guardianship_rating": "adequate",
        },
    )
    pairing = care.assignment_add(
        actor=vw,
        child=a,
        data={"kind": "party_member", "person_name": "刘书记", "starts_on": date(2026, 1, 1)},
    )
    care.assignment_end(
        actor=vw, assignment=CareAssignment.objects.get(pk=pairing.pk), on=timezone.localdate()
    )
    care.admonition_add(
        actor=vw,
        child=a,
        data={
            "kind": "admonish",
            "by_body": "village_committee",
            "guardian_name": "张大山",
            "reason": "长期不联系孩子",
            "occurred_at": now,
        },
    )
    scan.run(now + timedelta(days=30))  # alerts open (contact, visit …)
    a.refresh_from_db()
    child_update(actor=vw, child_id=a.pk, data={"care_arrangement": "unattended"}, version=a.version)
    lifecycle.child_transfer(actor=sup, child_id=a.pk, village=BASHAN_VILLAGE_2, note="搬迁")
    lifecycle.child_transfer(actor=sup, child_id=a.pk, village=BASHAN_VILLAGE)
    lifecycle.child_archive(actor=vw, child_id=a.pk, reason="moved_away", note="迁往广东")
    lifecycle.child_reactivate(actor=vw, child_id=a.pk, note="返回本村")
    verbs = set(Event.objects.filter(child_id=str(a.pk)).values_list("verb", flat=True))
    assert {
        "care.contact_logged",
        "care.visit_logged",
        "care.assignment_added",
        "care.assignment_ended",
        "care.admonition_recorded",
        "alert.opened",
        "child.transferred",
        "child.archived",
        "child.reactivated",
    } <= verbs
    client.force_login(vw)
    html = timeline_html(client, a)
    # The page's scripts carry their own keys (the JSON of the offline queue's words); the timeline is text.
    html = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)
    for pattern in RAW:
        found = pattern.search(html)
        assert found is None, (pattern.pattern, html[max(0, found.start() - 80) : found.end() + 80])
    for text in ("学习情况", "成绩稳定", "见面", "父亲", "梨山", "迁出", "定期走访排查", "党员结对", "劝诫"):
        assert text in html, text


def test_details_never_show_machine_keys() -> None:
    rows = details(
        "alert.opened", {"kind": "visit_overdue", "key": "child:0b9f0e3a-1", "message": "x", "child": "abc"}
    )
    assert rows == [{"label": "类型", "value": "走访逾期"}]
    assert when("2026-03-04T02:00:00+00:00") == "2026-03-04 10:00"
    assert when(datetime(2026, 3, 4, 2, tzinfo=timezone.get_fixed_timezone(0))) == "2026-03-04 10:00"
