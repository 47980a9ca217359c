"""The `run_scan` step of the ledger (issue 10 part 5; PIPL art. 19, kept no longer than needed):

- an upload waiting to be committed, or kept for its error report, is deleted `ledger_upload_keep_hours`
  after its check ended; a job still waiting is cancelled and says why;
- a job still marked running that long after it was created (its worker died) is ended as failed, so
  no job stays at "analysing" for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from shouhu.core.policy import param
from shouhu.ledger.models import ImportJob

S = ImportJob.State
RUNNING = (S.QUEUED, S.ANALYSING, S.COMMITTING)


def run(at: datetime) -> dict[str, Any]:
    cutoff = at - timedelta(hours=int(param("ledger_upload_keep_hours")))
    stalled = ImportJob.objects.filter(state__in=RUNNING, created_at__lt=cutoff).update(
        state=S.FAILED,
        message=_("处理中断（超过时限），未写入任何数据。请重新上传。"),
        content=None,
        finished_at=at,
    )
    expired = ImportJob.objects.filter(state=S.READY, finished_at__lt=cutoff).update(
        state=S.CANCELLED,
        message=_("检查完成后长时间未导入，上传的文件已按规定删除。请重新上传。"),
        content=None,
    )
    removed = (
        ImportJob.objects.filter(~Q(state__in=RUNNING), content__isnull=False)
        .filter(Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff))
        .update(content=None)
    )
    return {"stalled_jobs": stalled, "expired_uploads": expired, "removed_uploads": removed}
