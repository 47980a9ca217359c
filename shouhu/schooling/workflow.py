"""The dropout chain (控辍保学, R4.2; API.md "Schooling") as one table on core's workflow engine.

absent → registered → persuading → returned | transferred | exempted; persuading can end in reported
(the written report to the education commission and the township), after which the child may still
return, transfer or be exempted. Time limits are policy data (`dropout_limit_*_days`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shouhu.core.workflow import DAYS, Step, Workflow
from shouhu.schooling.models import DropoutState as S

ACT = ("dropout.act",)
OPEN_AFTER_REGISTRATION = (S.REGISTERED, S.PERSUADING, S.REPORTED)

DROPOUT = Workflow(
    name="dropout",
    states=S,
    initial=S.ABSENT,
    final=frozenset({S.RETURNED, S.TRANSFERRED, S.EXEMPTED}),
    steps=(
        Step((S.ABSENT,), S.REGISTERED, ACT, _("登记辍学"), (), "dropout_limit_registered_days", DAYS),
        Step((S.ABSENT,), S.RETURNED, ACT, _("已返校"), ("note",)),
        Step(
            (S.REGISTERED,),
            S.PERSUADING,
            ACT,
            _("上门劝返"),
            ("note",),
            "dropout_limit_persuading_days",
            DAYS,
        ),
        Step(
            (S.PERSUADING,),
            S.REPORTED,
            ("dropout.report",),
            _("书面报告县教委和乡镇"),
            ("note",),
            "dropout_limit_reported_days",
            DAYS,
        ),
        Step(OPEN_AFTER_REGISTRATION, S.RETURNED, ACT, _("劝返复学"), ("note",)),
        Step(OPEN_AFTER_REGISTRATION, S.TRANSFERRED, ACT, _("转学"), ("note",)),
        Step(OPEN_AFTER_REGISTRATION, S.EXEMPTED, ("dropout.decide",), _("认定免于（缓）入学"), ("note",)),
    ),
)
