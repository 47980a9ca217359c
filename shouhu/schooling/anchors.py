"""How schooling rows are reached (R11.1): a school's staff reach their own school's rows (SCHOOL), a
region's users the rows of pupils living in their region (REGION: the ledger child's village, or for a
roster pupil not on the ledger the village the roster gives). Registered from `SchoolingConfig.ready`."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from shouhu.core.access import prefix_q, register_anchor
from shouhu.core.capabilities import REGION, SCHOOL


def _school_q(ids: tuple[Any, ...]) -> Q:
    return Q(school_id__in=ids)


def _school_test(obj: Any, ids: tuple[Any, ...]) -> bool:
    return obj.school_id in ids


def register() -> None:
    from shouhu.schooling.models import Absence, DropoutCase, Enrolment, Pairing, SchoolContact, Wellbeing

    for model in (Enrolment, Absence, DropoutCase, Pairing, SchoolContact, Wellbeing):
        register_anchor(model, SCHOOL, _school_q, _school_test)
    register_anchor(
        Enrolment,
        REGION,
        lambda p: prefix_q("child__village__pk", p) | (Q(child__isnull=True) & prefix_q("village__pk", p)),
    )
    for model in (Absence, DropoutCase, Pairing, SchoolContact, Wellbeing):
        register_anchor(model, REGION, lambda p: prefix_q("child__village__pk", p))
