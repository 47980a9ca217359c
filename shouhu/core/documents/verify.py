"""Checking a verification code (R11.6): is this a document the platform issued, unaltered?

A code is genuine when it is well formed, names an issued document, and that document's row still
matches what its event sealed in the chain (an edited row — another hash, issuer or date — is caught
by the seal, which cannot be recomputed without the audit key). Given the file itself, its SHA-256 is
compared with the issued one, so an edited PDF is told apart from the original.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from shouhu.core.documents import kinds, vcode
from shouhu.core.documents.models import GeneratedDocument
from shouhu.core.documents.services import sealed_facts
from shouhu.core.events import jsonable, seal_event
from shouhu.core.models import Event

GENUINE, MALFORMED, UNKNOWN, ALTERED = "genuine", "malformed", "unknown", "altered"


@dataclass(frozen=True)
class Verdict:
    status: str
    code: str
    document: GeneratedDocument | None = None
    file_matches: bool | None = None  # None: no file given

    @property
    def genuine(self) -> bool:
        return self.status == GENUINE and self.file_matches is not False

    @property
    def kind_label(self) -> Any:
        k = kinds.find(self.document.kind) if self.document else None
        return k.label if k else ""

    @property
    def issuer(self) -> str:
        return self.document.issuer if self.document else ""

    @property
    def issued_on(self) -> date | None:
        return timezone.localdate(self.document.issued_at) if self.document else None


def _sealed_matches(doc: GeneratedDocument) -> bool:
    event = (
        Event.objects.filter(subject_type="core.document", subject_id=str(doc.pk), verb="document.generated")
        .order_by("seq")
        .first()
    )
    if event is None or not hmac.compare_digest(seal_event(event), event.hash):
        return False
    return event.after == jsonable(sealed_facts(doc))


def verify(code_text: str, pdf: bytes | None = None) -> Verdict:
    code = vcode.normalize(code_text)
    if not vcode.well_formed(code):
        return Verdict(MALFORMED, code)
    doc = GeneratedDocument.objects.filter(code=code).first()
    if doc is None:
        return Verdict(UNKNOWN, code)
    if not _sealed_matches(doc):
        return Verdict(ALTERED, code, doc)
    matches = None if pdf is None else hmac.compare_digest(hashlib.sha256(pdf).hexdigest(), doc.sha256)
    return Verdict(GENUINE, code, doc, matches)
