"""Issue 16 part 1, the server's side of field work without signal: a client-made idempotency key makes a
retried post find the record it already made (never a duplicate, also when two copies race), a key is
not usable for another child or user, the queue gets JSON answers, and a visit typed against a file that
changed meanwhile is refused with the conflict instead of overwriting the change."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shouhu.care import services
from shouhu.care.models import ParentContact, Visit
from shouhu.registry.models import Child
from shouhu.registry.services import child_update

SYNC = {"HTTP_X_SHOUHU_SYNC": "1"}


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def visit_post(**extra: Any) -> dict[str, Any]:
    return {
        "occurred_at": _now(),
        "kind": "routine",
        "visitor_role": "child_director",
        "living_conditions": "干净整洁",
        **extra,
    }


def contact_post(**extra: Any) -> dict[str, Any]:
    return {
        "parent": "father",
        "channel": "phone",
        "facilitated_by": "village",
        "occurred_at": _now(),
        **extra,
    }


@pytest.mark.django_db
def test_the_same_key_twice_makes_one_visit_and_one_event(users: dict[str, Any], make_child: Any) -> None:
    from shouhu.core.models import Event

    child = make_child(name="王小丫")
    key = str(uuid.uuid4())
    url = reverse("web:care_visit_add", args=[child.pk])
    c = login(users["vw"])
    first = c.post(url, visit_post(client_key=key))
    assert first.status_code == 302 and first["Location"] == reverse("web:care_child", args=[child.pk])
    events = Event.objects.filter(verb="care.visit_logged").count()
    again = c.post(url, visit_post(client_key=key), **SYNC)
    assert again.status_code == 201 and again.json()["ok"] is True
    assert Visit.objects.filter(child=child).count() == 1
    assert Event.objects.filter(verb="care.visit_logged").count() == events
    other = c.post(url, visit_post(client_key=str(uuid.uuid4())), **SYNC)
    assert other.status_code == 201
    assert Visit.objects.filter(child=child).count() == 2


@pytest.mark.django_db
def test_the_same_key_twice_makes_one_contact(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="王小丫")
    key = str(uuid.uuid4())
    url = reverse("web:care_contact_add", args=[child.pk])
    c = login(users["vw"])
    assert c.post(url, contact_post(client_key=key), **SYNC).status_code == 201
    assert c.post(url, contact_post(client_key=key), **SYNC).status_code == 201
    assert ParentContact.objects.filter(child=child).count() == 1


@pytest.mark.django_db
def test_a_key_is_not_usable_for_another_child_or_user(users: dict[str, Any], make_child: Any) -> None:
    a, b = make_child(name="甲"), make_child(name="乙")
    key = uuid.uuid4()
    services.contact_log(
        actor=users["vw"], child=a, data={**contact_post(), "occurred_at": timezone.now(), "client_key": key}
    )
    r = login(users["vw"]).post(
        reverse("web:care_contact_add", args=[b.pk]), contact_post(client_key=str(key)), **SYNC
    )
    assert r.status_code == 400 and "幂等键" in str(r.json()["errors"])
    r = login(users["sup"]).post(
        reverse("web:care_contact_add", args=[a.pk]), contact_post(client_key=str(key)), **SYNC
    )
    assert r.status_code == 400
    assert ParentContact.objects.count() == 1


@pytest.mark.django_db
def test_the_queue_gets_every_error_as_json_and_nothing_is_written(
    users: dict[str, Any], make_child: Any
) -> None:
    child = make_child(name="王小丫")
    r = login(users["vw"]).post(
        reverse("web:care_visit_add", args=[child.pk]),
        {"occurred_at": "2999-01-01T10:00", "kind": "nonsense", "client_key": "not-a-uuid"},
        **SYNC,
    )
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert {"kind", "visitor_role"} <= set(errors)
    assert Visit.objects.count() == 0


@pytest.mark.django_db
def test_the_page_shows_every_error_at_once_in_a_summary(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="王小丫")
    r = login(users["vw"]).post(
        reverse("web:care_visit_add", args=[child.pk]), {"occurred_at": "", "kind": "x"}
    )
    html = r.content.decode()
    assert r.status_code == 200
    summary = html.split('class="alert alert-danger error-summary"')[1].split("</div>")[0]
    for field in ("id_occurred_at", "id_kind", "id_visitor_role"):
        assert f'href="#{field}"' in summary
    assert 'aria-invalid="true"' in html


@pytest.mark.django_db
def test_a_visit_that_would_change_a_changed_file_is_a_conflict(
    users: dict[str, Any], make_child: Any
) -> None:
    child = make_child(name="王小丫")
    base = child.version
    child_update(actor=users["sup"], child_id=child.pk, data={"address": "新地址"}, version=base)
    url = reverse("web:care_visit_add", args=[child.pk])
    c = login(users["vw"])
    # Only adds to the record: no conflict, whatever happened to the file.
    assert c.post(url, visit_post(base_version=base), **SYNC).status_code == 201
    r = c.post(url, visit_post(base_version=base, guardianship_rating="poor"), **SYNC)
    assert r.status_code == 409 and "已被修改" in r.json()["conflict"]
    now = Child.objects.get(pk=child.pk)
    assert r.json()["version"] == now.version and now.guardianship_rating != "poor"
    assert Visit.objects.filter(child=child).count() == 1
    # On the page: the message, and the form again with the current version, so 保存 is a decision.
    page = c.post(url, visit_post(base_version=base, guardianship_rating="poor"))
    assert "已被修改" in page.content.decode()
    assert f'name="base_version" value="{now.version}"' in page.content.decode()
    assert c.post(url, visit_post(base_version=now.version, guardianship_rating="poor")).status_code == 302
    assert Child.objects.get(pk=child.pk).guardianship_rating == "poor"


@pytest.mark.django_db
def test_the_service_worker_is_served_from_the_root(client: Client, users: dict[str, Any]) -> None:
    r = client.get("/sw.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/javascript")
    assert r["Service-Worker-Allowed"] == "/" and "no-cache" in r["Cache-Control"]
    body = r.content.decode()
    assert "importScripts(" in body and "web/queue.js" in body and "王" not in body
    assert client.get("/offline/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_one_post_racing_make_one_contact(county: dict[str, Any]) -> None:
    """Outside the test transaction: the unique key decides, the loser answers the winner's record."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    from shouhu.conftest import child_data
    from shouhu.registry.services import child_create

    actor = county["vw_102201"]
    child = child_create(actor=actor, data=child_data(name="并发"))
    key = uuid.uuid4()
    data = {**contact_post(), "occurred_at": timezone.now(), "client_key": key}
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(services.contact_log(actor=actor, child=child, data=dict(data)).pk)
        except Exception as exc:  # the assertion below names it
            results.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ParentContact.objects.filter(child=child).count() == 1
    assert len(set(results)) == 1, results


@pytest.mark.django_db
def test_the_county_villages_page_filters_by_township_and_pages(users: dict[str, Any]) -> None:
    """Issue 16 part 4: not one 14,000 px table of every village."""
    c = login(users["county"])
    first = c.get(reverse("web:care_villages"))
    townships = first.context["townships"]
    assert len(townships) > 1 and first.context["page"].paginator.count > len(first.context["rows"])
    code, _name = townships[0]
    one = c.get(reverse("web:care_villages"), {"township": code})
    assert one.context["rows"] and all(r["village"].parent_id == code for r in one.context["rows"])
    assert c.get(reverse("web:care_villages"), {"township": "nonsense", "page": "x"}).status_code == 200
