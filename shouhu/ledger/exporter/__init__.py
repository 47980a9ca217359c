"""Ledger export (R1.9, R11.3): the official MCA 2016 layout (附件1, title, 填报单位 row, two-level headers,
signature line) or Shouhu's own (one header row), xlsx or csv; the township summary sheet (附件3) whose
every breakdown sums to its total (勾稽关系, `check_summary`).

Only the files the user may export are exported (`restrict(user, "ledger.export")`), identifiers masked
where the user may not see them in full; every export needs a reason and is an access record.
Text cells that start with = + - @ (or a tab / carriage return) are neutralised with a leading
apostrophe so that a spreadsheet never runs them as formulas; the import strips it again.

The package: `base` (layouts, refusal, formula guard), `rows` (selection, columns and cells),
`summary` (附件3), `writers` (CSV, xlsx); this module runs an export and re-exports the public names.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from shouhu.core.access import can
from shouhu.core.accesslog import record_read
from shouhu.core.models import Region, User
from shouhu.ledger.columns import G_CARE, G_CHILD, PARENT_PREFIX
from shouhu.ledger.exporter.base import LAYOUTS, STATUSES, ExportError, neutralise
from shouhu.ledger.exporter.rows import children_for_export, columns_for
from shouhu.ledger.exporter.summary import breakdowns, check_summary, summary_table
from shouhu.ledger.exporter.writers import _write_csv, _write_xlsx

__all__ = [
    "G_CARE",
    "G_CHILD",
    "LAYOUTS",
    "PARENT_PREFIX",
    "STATUSES",
    "ExportError",
    "breakdowns",
    "check_summary",
    "children_for_export",
    "columns_for",
    "export_ledger",
    "neutralise",
    "summary_table",
]


def export_ledger(
    out: Any,
    *,
    user: User,
    reason: str,
    region: Region | None = None,
    layout: str = "official",
    status: str = "left_behind",
    fmt: str = "xlsx",
    on: date | None = None,
    ip: str | None = None,
) -> int:
    """Write the ledger to `out` (a path or a binary file object); returns the number of children."""
    reason = (reason or "").strip()
    if not can(user, "ledger.export"):
        raise ExportError(_("您的角色不能导出台账。"))
    if not reason:
        raise ExportError(_("导出台账须填写用途（事由），并将记入访问日志。"))
    if layout not in LAYOUTS:
        raise ExportError(_("未知的样式：%(l)s（official 或 platform）") % {"l": layout})
    on = on or timezone.localdate()
    qs = children_for_export(user, region=region, status=status)
    with override("zh-hans"):  # the official form is Chinese whatever the user's language
        n = (_write_csv if fmt == "csv" else _write_xlsx)(
            out, user=user, qs=qs, region=region, layout=layout, on=on
        )
    query = f"layout={layout}&format={fmt}&region={region.code if region else '*'}&status={status}"
    full = can(user, "child.identifiers")
    record_read(user=user, action="export", count=n, query=query, identifiers=full, detail=reason, ip=ip)
    return n
