"""The protection chain's records for documents and attachments, and the written answer to a reporter
(书面回复, Minors Protection Law art. 11; R5.4).

Owner types, each fetched with the case's capabilities of the access model (out of reach → 404):
- `protection.case`: a case, for those who may see it (`case.view`); evidence attached by those who act
  on it (`case.respond`, `case.assist`, `case.follow_up`);
- `protection.petition`: a petition to revoke guardianship, seen as its case is (court decisions
  attached by civil affairs, `case.assist`);
- `protection.report`: a report, for its own reporter and for those who may see the reporter's identity
  (`case.reporter`: police of the station, civil affairs) — never the village worker who assists the case.
Their events never reach the child's timeline for a reader who cannot open the case (class
`protection`), and the report's papers only for those who may see the reporter (class `reporter`).
Registered from `ProtectionConfig.ready`.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.access import can, get_or_404
from shouhu.core.documents import kinds, owners
from shouhu.core.documents.kinds import BuildContext, DocumentKind
from shouhu.core.documents.owners import OwnerType
from shouhu.core.identity import mask_phone
from shouhu.core.visibility import PROTECTION, REPORTER
from shouhu.protection import selectors
from shouhu.protection.models import Petition, Report, Situation

ACTS_ON_CASE = ("case.respond", "case.assist", "case.follow_up")
ANSWERS_REPORT = ("case.respond", "case.assist")  # the receiving department (art. 11)


def _petition(user: Any, petition_id: str) -> Petition:
    return get_or_404(
        Petition.objects.select_related("case__child", "case__village", "case__station"),
        user,
        "case.view",
        pk=petition_id,
    )


def _is_reporter(user: Any, report: Report) -> bool:
    return report.reporter_id is not None and report.reporter_id == getattr(user, "pk", None)


def _sees_reporter(user: Any, report: Report) -> bool:
    return _is_reporter(user, report) or selectors.sees_reporter(user, report.case)


def _report(user: Any, report_id: str) -> Report:
    """The reporter's own report, or a report whose reporter this user may know (R5.1, R11.1)."""
    report = owners.guarded(
        lambda: Report.objects.select_related(
            "case__station", "case__village", "reporter", "reporter_unit"
        ).get(pk=report_id)
    )
    if not _sees_reporter(user, report):
        raise Http404("not found")
    return report


CASE = owners.register(
    OwnerType(
        code="protection.case",
        label=_("救助保护个案"),
        view=("case.view",),
        fetch=lambda user, pk: selectors.get_case(user, pk),
        subject=lambda case: case,
        child_id=lambda case: str(case.child_id or ""),
        region_code=lambda case: case.village_id,
        url=lambda case: reverse("web:case_detail", args=[case.pk]),
        title=lambda case: str(_("个案 %(number)s") % {"number": case.number}),
        attach=ACTS_ON_CASE,
        sees_identifiers=lambda user, case: (
            case.child_id is not None and can(user, "child.identifiers", case.child)
        ),
        categories=("photo", "certificate", "court_decision", "school_report", "other"),
        visibility=PROTECTION,
        case_id=lambda case: str(case.pk),
    )
)

PETITION = owners.register(
    OwnerType(
        code="protection.petition",
        label=_("撤销监护人资格申请"),
        view=("case.view",),
        fetch=_petition,
        subject=lambda p: p.case,
        child_id=lambda p: str(p.case.child_id or ""),
        region_code=lambda p: p.case.village_id,
        url=lambda p: reverse("web:case_detail", args=[p.case_id]) + "#intervention",
        title=lambda p: str(
            _("撤销监护人资格申请（%(court)s，%(date)s）") % {"court": p.court, "date": p.filed_on}
        ),
        attach=("case.assist",),  # civil affairs files the petition and its court decisions
        sees_identifiers=lambda user, p: can(user, "child.identifiers", p.case.child),
        categories=("court_decision", "certificate", "other"),
        visibility=PROTECTION,
        case_id=lambda p: str(p.case_id),
    )
)

REPORT = owners.register(
    OwnerType(
        code="protection.report",
        label=_("报告"),
        view=("report.create", "case.reporter"),
        fetch=_report,
        subject=lambda r: r.case,
        child_id=lambda r: str(r.case.child_id or ""),
        region_code=lambda r: r.village_id,
        url=lambda r: reverse("web:case_detail", args=[r.case_id]),
        title=lambda r: str(
            _("%(date)s 的报告（个案 %(number)s）")
            % {"date": timezone.localtime(r.reported_at).strftime("%Y-%m-%d %H:%M"), "number": r.case.number}
        ),
        attach=(),  # evidence goes on the case
        sees_identifiers=_sees_reporter,
        visibility=REPORTER,
        case_id=lambda r: str(r.case_id),
    )
)


def _reporter_name(report: Report, reveal: bool) -> str:
    if report.anonymous:
        return "匿名报告人"
    if report.reporter_unit_id and report.mandated and report.reporter_unit:
        return report.reporter_unit.name
    name = report.reporter_name or (
        (report.reporter.full_name or report.reporter.username) if report.reporter else ""
    )
    return name or "报告人"


def written_answer_data(report: Report, ctx: BuildContext) -> dict[str, Any]:
    case = report.case
    names = dict(Situation.objects.filter(code__in=report.situations).values_list("code", "name_zh"))
    phone = report.reporter_phone or ""
    return {
        "to": _reporter_name(report, ctx.reveal),
        "anonymous": report.anonymous,
        "phone": "" if report.anonymous else (phone if ctx.reveal else (mask_phone(phone) or "")),
        "reported_at": timezone.localtime(report.reported_at),
        "discovered_at": timezone.localtime(report.discovered_at),
        "received_at": timezone.localtime(report.received_at) if report.received_at else None,
        "acknowledged_at": timezone.localtime(report.acknowledged_at) if report.acknowledged_at else None,
        "situations": [names.get(s, s) for s in report.situations],
        "station": case.station.name,
        "case_number": case.number,
        "answer": report.acknowledgement,
        "report_id": str(report.pk),
    }


def _may_answer(user: Any, report: Report) -> bool:
    """The receiving department answers (art. 11): police of the station and civil affairs print it;
    the reporter may print the answer addressed to them (issued in the station's name all the same)."""
    return _is_reporter(user, report) or selectors.may_act(user, report.case, ANSWERS_REPORT)


def _not_yet(report: Report) -> str | None:
    if report.received_at is None:
        return str(_("派出所受理报告后才能出具书面回复。"))
    return None


kinds.register(
    DocumentKind(
        code="protection.written_answer",
        label=_("书面回复"),
        owner_type=REPORT.code,
        template="protection/documents/written_answer.html",
        build=written_answer_data,
        version=lambda r: timezone.localtime(r.acknowledged_at).isoformat() if r.acknowledged_at else "",
        issuer=lambda r, user: r.case.station.name,
        capability=(*ANSWERS_REPORT, "report.create"),  # report.create: the reporter, for their own
        may_generate=_may_answer,
        unavailable=_not_yet,
        description=_("未成年人保护法第十一条：受理部门书面回复报告人。"),
    )
)
