"""Issue 16 part 2 on the server's side: tap-to-call for a revealed phone number and for 110, the
unattended alert one tap from a report, and ISO dates in the agreement form's date inputs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shouhu.care.alerts import AlertSpec, open_alert

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_revealed_phone_is_a_tel_link(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="王小丫")
    url = reverse("web:child_reveal", args=[child.pk])
    c = login(users["vw"])
    partial = c.post(url, {"field": "father.phone"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'href="tel:13800138000"' in partial
    page = c.post(url, {"field": "father.phone"}).content.decode()
    assert 'href="tel:13800138000"' in page


def test_the_report_form_calls_110_and_the_unattended_alert_leads_to_it(
    users: dict[str, Any], make_child: Any
) -> None:
    child = make_child(name="王小丫")
    c = login(users["vw"])
    assert 'href="tel:110"' in c.get(reverse("web:report_new")).content.decode()
    open_alert(
        kind="unattended",
        spec=AlertSpec(
            key=f"child:{child.pk}", region_id=child.village_id, message="王小丫：无人监护", child_id=child.pk
        ),
        at=timezone.now(),
    )
    today = c.get(reverse("web:care_today")).content.decode()
    assert 'href="tel:110"' in today
    assert f"{reverse('web:report_new')}?child={child.pk}" in today


def test_agreement_dates_render_as_iso_for_date_inputs() -> None:
    from shouhu.web.forms_family import DATE

    html = DATE.render("starts_on", date(2026, 12, 2))
    assert 'value="2026-12-02"' in html


def test_the_report_button_is_on_the_home_page_of_the_clinic_and_the_school(users: dict[str, Any]) -> None:
    for who in ("doctor", "school"):
        html = login(users[who]).get(reverse("web:home")).content.decode()
        assert f'href="{reverse("web:report_new")}"' in html and 'href="tel:110"' in html
