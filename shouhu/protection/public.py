"""The public report page's limits (issue 10 part 8, R5.1): per address and per browser, enforced
atomically, with a county-wide surge flagged to the county.

Anyone may report a child in danger without an account, so the page is the platform's one anonymous
write. Its limits count the public reports of the last hour from the client's address (behind trusted
proxies only: `core/clientip.py`) and from the browser (a random id in a signed cookie the page sets);
both are stored as keyed digests, never in clear. One row (`PublicReportGate`) is locked while the
limits are counted and the report is written, so twenty simultaneous posts cannot all pass a limit of
five. A surge — more public reports in an hour than the county ever expects — is not refused (it may be
a real emergency) but flagged once an hour to the county as an event and a notice on its case list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.core.access import can
from shouhu.core.crypto import blind_index
from shouhu.core.events import EventSpec, record_events
from shouhu.core.policy import param
from shouhu.protection.intake import report_submit
from shouhu.protection.models import PublicReportGate, Report

COOKIE = "shouhu_reporter"
COOKIE_SALT = "shouhu.protection.public_report"
WINDOW = timedelta(hours=1)


class Refused(Exception):
    """A public report refused before anything is written (the page answers 429 or 400)."""

    def __init__(self, message: str, status: int = 429):
        super().__init__(message)
        self.message, self.status = message, status


def browser_digest(browser: str | None) -> str:
    return blind_index("browser", browser) if browser else ""


def _recent(at: datetime) -> Any:
    return Report.objects.filter(reporter__isnull=True, reported_at__gt=at - WINDOW)


@transaction.atomic
def public_report_submit(
    *, data: dict[str, Any], ip: str | None, browser: str | None, at: datetime | None = None
) -> Report:
    """A citizen's report from the public page: the limits, then `report_submit` (actor None), in one
    transaction holding the gate's lock."""
    at = at or timezone.now()
    if not browser:
        raise Refused(_("请先打开举报页面再提交（浏览器须允许 Cookie）；紧急情况请直接拨打 110。"), 400)
    gate, _created = PublicReportGate.objects.select_for_update().get_or_create(pk=1)
    recent = _recent(at)
    per_address = int(param("protection_public_reports_per_hour"))
    if ip and recent.filter(source_digest=blind_index("ip", ip)).count() >= per_address:
        raise Refused(
            _("同一网络地址一小时内最多提交 %(n)d 次举报，请稍后再试；紧急情况请直接拨打 110。")
            % {"n": per_address}
        )
    per_browser = int(param("protection_public_reports_per_browser_hour"))
    if recent.filter(browser_digest=browser_digest(browser)).count() >= per_browser:
        raise Refused(
            _("同一浏览器一小时内最多提交 %(n)d 次举报，请稍后再试；紧急情况请直接拨打 110。")
            % {"n": per_browser}
        )
    report = report_submit(actor=None, data=data, ip=ip, at=at)
    Report.objects.filter(pk=report.pk).update(browser_digest=browser_digest(browser))
    _flag_surge(gate, report, at)
    return report


def _flag_surge(gate: PublicReportGate, report: Report, at: datetime) -> None:
    total = _recent(at).count()
    if total < int(param("protection_public_surge_per_hour")):
        return
    if gate.surge_flagged_at is not None and gate.surge_flagged_at > at - WINDOW:
        return
    gate.surge_flagged_at, gate.surge_count = at, total
    gate.save(update_fields=["surge_flagged_at", "surge_count"])
    county = report.village_id[:6] + "000000"
    record_events(
        [
            EventSpec(
                verb="protection.public_surge",
                subject_type="protection.public_gate",
                subject_id="1",
                region_code=county,
                summary=_("公众举报激增：一小时内收到 %(n)d 份，请县民政局核查是否为恶意提交或突发事件。")
                % {"n": total},
                after={"count": total, "window_hours": 1},
                occurred_at=at,
            )
        ]
    )


def surge_notice(user: Any, at: datetime | None = None) -> str:
    """The county's notice of a surge in the last day, for users who act for the whole county."""
    at = at or timezone.now()
    gate = PublicReportGate.objects.filter(pk=1, surge_flagged_at__gt=at - timedelta(days=1)).first()
    if gate is None or gate.surge_flagged_at is None:
        return ""
    county = Report.objects.filter(reporter__isnull=True).values_list("village_id", flat=True).first()
    if not county or not can(user, "case.assist", county[:6] + "000000"):
        return ""
    return _("%(at)s 起一小时内收到公众举报 %(n)d 份，超过正常水平，请核查。") % {
        "at": timezone.localtime(gate.surge_flagged_at).strftime("%Y-%m-%d %H:%M"),
        "n": gate.surge_count,
    }
