"""The dropout case as an owner of documents, and its written report (书面报告) to the county education
commission and the township when persuasion failed (R4.2, R11.6).

Who sees the case (`dropout.view`: the school, the pupil's village and township, the education
commission, the county) sees its documents; the school that holds `dropout.report` issues the report.
Its events take the schooling class: on the child's timeline only for readers of the schooling group.
Registered from `SchoolingConfig.ready`.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.access import can
from shouhu.core.documents import kinds, owners
from shouhu.core.documents.kinds import BuildContext, DocumentKind
from shouhu.core.documents.owners import OwnerType
from shouhu.core.identity import mask_id_number
from shouhu.core.visibility import SCHOOLING
from shouhu.schooling import dropout
from shouhu.schooling.models import DropoutCase, DropoutState
from shouhu.schooling.workflow import DROPOUT

DROPOUT_CASE = owners.register(
    OwnerType(
        code="schooling.dropout",
        label=_("控辍保学个案"),
        view=("dropout.view",),
        fetch=lambda user, pk: dropout.get_case(user, pk),
        subject=lambda case: case,
        child_id=lambda case: str(case.child_id),
        region_code=lambda case: case.child.village_id,
        url=lambda case: reverse("web:schooling_dropout", args=[case.pk]),
        title=lambda case: str(_("%(name)s 的控辍保学个案") % {"name": case.child.name}),
        attach=(),
        sees_identifiers=lambda user, case: can(user, "child.identifiers", case.child),
        groups=lambda user, case: frozenset({"identity", "schooling"}),
        visibility=SCHOOLING,
    )
)


def report_data(case: DropoutCase, ctx: BuildContext) -> dict[str, Any]:
    child, e = case.child, case.enrolment
    steps = list(case.steps.select_related("actor").all())
    number = e.id_number or child.id_number
    return {
        "school": case.school.name,
        "name": child.name,
        "sex": child.get_sex_display(),
        "birth_date": child.birth_date,
        "id_number": (number if ctx.reveal else mask_id_number(number)) or "",
        "village": str(child.village.parent.name if child.village.parent else "") + child.village.name,
        "grade": f"{e.grade}{e.class_name}",
        "student_number": e.student_number,
        "opened_on": case.opened_on,
        "trigger": case.trigger,
        "state": DROPOUT.label(case.state),
        "attempts": [
            {
                "at": timezone.localtime(s.at),
                "unit": {"school": "学校", "village": "村（居）"}.get(s.by_unit, ""),
                "what": "劝返" if s.attempt else DROPOUT.label(s.to_state),
                "note": s.note,
            }
            for s in steps
            if s.attempt or s.to_state in (DropoutState.PERSUADING, DropoutState.REPORTED)
        ],
        "case_id": str(case.pk),
    }


def _not_yet(case: DropoutCase) -> str | None:
    if case.state not in (DropoutState.PERSUADING, DropoutState.REPORTED):
        return str(_("劝返未果时才出具书面报告（个案须处于“劝返中”或“已书面报告”）。"))
    return None


kinds.register(
    DocumentKind(
        code="schooling.dropout_report",
        label=_("辍学书面报告"),
        owner_type=DROPOUT_CASE.code,
        template="schooling/documents/dropout_report.html",
        build=report_data,
        version=lambda case: f"{case.state}:{int(case.state_since.timestamp())}",  # fits data_version (40)
        issuer=lambda case, user: case.school.name,
        capability=("dropout.report",),
        groups=frozenset({"identity", "schooling"}),
        unavailable=_not_yet,
        description=_(
            "控辍保学：劝返未果，学校书面报告县教委和乡镇人民政府（城府办发〔2016〕153号 二(一)3）。"
        ),
    )
)
