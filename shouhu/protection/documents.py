"""The protection chain's records for documents and attachments, and the written answer to a reporter
(书面回复, Minors Protection Law art. 11; R5.4).

Owner types, each fetched through this app's scoped selectors (out of scope → 404):
- `protection.case`: a case, for those whose protection scope reaches it;
- `protection.petition`: a petition to revoke guardianship, through its case (court decisions);
- `protection.report`: a report, for its own reporter and for those who may see the reporter's identity
  (police of the station, civil affairs) — never the village worker who assists the case.
Registered from `ProtectionConfig.ready`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu.core.documents import kinds, owners
from shouhu.core.documents.kinds import BuildContext, DocumentKind
from shouhu.core.documents.owners import OwnerType
from shouhu.core.identity import mask_phone
from shouhu.core.jurisdiction import scope_of
from shouhu.protection import selectors
from shouhu.protection.models import Case, Petition, Report, Situation

CIVIL_ROLES = ("township_supervisor", "county_admin")


def _sees_ids(user: Any, case: Case) -> bool:
    return scope_of(user).sees_identifiers_in(case.village_id)


def _petition(user: Any, petition_id: str) -> Petition:
    return owners.guarded(
        lambda: Petition.objects.select_related("case__child", "case__village", "case__station").get(
            pk=int(petition_id), case__in=selectors.visible_cases(user).values("pk")
        )
    )


def _report(user: Any, report_id: str) -> Report:
    """The reporter's own report, or a report whose reporter this user may know (R5.1, R11.1)."""

    def get_one() -> Report:
        report = Report.objects.select_related(
            "case__station", "case__village", "reporter", "reporter_unit"
        ).get(Q(pk=report_id) & (Q(reporter=user) | Q(case__in=selectors.visible_cases(user).values("pk"))))
        if report.reporter_id != getattr(user, "pk", None) and not selectors.sees_reporter(user, report.case):
            raise Report.DoesNotExist
        return report

    return owners.guarded(get_one)


CASE = owners.register(
    OwnerType(
        code="protection.case",
        label=_("救助保护个案"),
        fetch=lambda user, pk: selectors.get_case(user, pk),
        child_id=lambda case: str(case.child_id),
        region_code=lambda case: case.village_id,
        url=lambda case: reverse("web:case_detail", args=[case.pk]),
        title=lambda case: str(_("个案 %(number)s") % {"number": case.number}),
        may_attach=lambda user, case: (
            True
        ),  # everyone the case reaches works on it (police, township, village)
        sees_identifiers=_sees_ids,
        categories=("photo", "certificate", "court_decision", "school_report", "other"),
    )
)

PETITION = owners.register(
    OwnerType(
        code="protection.petition",
        label=_("撤销监护人资格申请"),
        fetch=_petition,
        child_id=lambda p: str(p.case.child_id),
        region_code=lambda p: p.case.village_id,
        url=lambda p: reverse("web:case_detail", args=[p.case_id]) + "#intervention",
        title=lambda p: str(
            _("撤销监护人资格申请（%(court)s，%(date)s）") % {"court": p.court, "date": p.filed_on}
        ),
        may_attach=lambda user, p: selectors.may_act(user, p.case, CIVIL_ROLES),
        sees_identifiers=lambda user, p: _sees_ids(user, p.case),
        categories=("court_decision", "certificate", "other"),
    )
)

REPORT = owners.register(
    OwnerType(
        code="protection.report",
        label=_("报告"),
        fetch=_report,
        child_id=lambda r: str(r.case.child_id),
        region_code=lambda r: r.village_id,
        url=lambda r: reverse("web:case_detail", args=[r.case_id]),
        title=lambda r: str(
            _("%(date)s 的报告（个案 %(number)s）")
            % {"date": timezone.localtime(r.reported_at).strftime("%Y-%m-%d %H:%M"), "number": r.case.number}
        ),
        may_attach=lambda user, r: False,  # evidence goes on the case
        sees_identifiers=lambda user, r: selectors.sees_reporter(user, r.case),
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
    return report.reporter_id == getattr(user, "pk", None) or selectors.may_act(
        user, report.case, ("police", *CIVIL_ROLES)
    )


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
        may_generate=_may_answer,
        unavailable=_not_yet,
        description=_("未成年人保护法第十一条：受理部门书面回复报告人。"),
    )
)
