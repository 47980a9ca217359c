"""Care's write paths outside the test transaction (issue 11 part 5): a test inside one cannot see a
missing `atomic`, so these run on a real, committing connection (pytest-django `transaction=True`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from shouhu.care import services
from shouhu.care.models import CareAssignment

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failed_event_leaves_no_pairing_behind(
    users: dict[str, Any], make_child: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = make_child(name="王小丫")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the audit chain is unavailable")

    monkeypatch.setattr(services, "record_events", broken)
    with pytest.raises(RuntimeError):
        services.assignment_add(
            actor=users["vw"], child=child, data={"kind": "volunteer", "person_name": "志愿者甲"}
        )
    assert not CareAssignment.objects.filter(child=child).exists()


def test_over_long_names_are_refused_not_cut(users: dict[str, Any], make_child: Any) -> None:
    child = make_child(name="王小丫")
    with pytest.raises(ValidationError) as e:
        services.assignment_add(
            actor=users["vw"],
            child=child,
            data={"kind": "volunteer", "person_name": "甲" * 51, "organisation": "乙" * 101},
        )
    assert set(e.value.message_dict) == {"person_name", "organisation"}
    assert not CareAssignment.objects.filter(child=child).exists()
