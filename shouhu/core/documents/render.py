"""HTML templates to PDF with WeasyPrint (R11.6).

Templates extend `documents/pdf_base.html` (A4, Chinese official-document look after GB/T 9704: Song
body, bold titles, page numbers "— n —", the verification code on every page and a QR code to the
verify page on the first). Fonts are Debian's `fonts-noto-cjk` (installed by `make docs-deps`).
WeasyPrint may fetch nothing: only `data:` URIs (the QR code) are allowed, so a template or a value in
it can never make the server read a file or call out to the network.

Official documents are always rendered in Chinese, whatever the user's interface language: they are
printed, signed and filed with the county's paper records.
"""

from __future__ import annotations

from typing import Any

import segno
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

DOCUMENT_LANGUAGE = "zh-hans"


def qr_data_uri(text: str) -> str:
    """A QR code (error correction M) as a PNG data URI: base64, so HTML escaping cannot alter it."""
    return segno.make(text, error="m", micro=False).png_data_uri(scale=6, border=2)


def render_html(template: str, context: dict[str, Any]) -> str:
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string(template, context)


def render_pdf(template: str, context: dict[str, Any]) -> tuple[bytes, int]:
    """The PDF bytes and its page count."""
    html = render_html(template, context)
    fetcher = URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    document = HTML(string=html, url_fetcher=fetcher, base_url=None).render()
    pdf = document.write_pdf()
    assert pdf is not None
    return pdf, len(document.pages)
