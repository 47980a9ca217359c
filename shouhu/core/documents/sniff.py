"""What an uploaded file really is: decided from its content (magic bytes), never from its name.

`filetype` reads the signature; images are then decoded by Pillow (a file that only starts like a JPEG
is refused) and saved again without their metadata, so a phone photo's EXIF (GPS position of a child's
home, device, time) never reaches the server (R11.3). Allowed types and the size limit are policy
parameters (`attachment_types`, `attachment_max_bytes`).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

# type code → (MIME type, label shown to users)
TYPES: dict[str, tuple[str, object]] = {
    "pdf": ("application/pdf", gettext_lazy("PDF 文件")),
    "jpg": ("image/jpeg", gettext_lazy("JPEG 图片")),
    "png": ("image/png", gettext_lazy("PNG 图片")),
    "webp": ("image/webp", gettext_lazy("WebP 图片")),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        gettext_lazy("Word 文档（.docx）"),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        gettext_lazy("Excel 表格（.xlsx）"),
    ),
}
IMAGE_TYPES = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
MAX_PIXELS = 60_000_000  # a 60-megapixel photo is already more than any phone takes
# Active content a PDF viewer may run: refused (a court decision or a scanned agreement has none).
_PDF_ACTIVE = (b"/JavaScript", b"/Launch", b"/EmbeddedFile")


@dataclass(frozen=True)
class Checked:
    file_type: str
    content_type: str
    data: bytes


def allowed_labels(allowed: list[str]) -> str:
    return "、".join(str(TYPES[t][1]) for t in allowed if t in TYPES)


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _clean_image(data: bytes, fmt: str) -> bytes:
    """Decode fully (refuses truncated or disguised files) and re-encode without metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refuse(_("图片像素过大，请缩小后再上传。"))
                probe.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                upright = ImageOps.exif_transpose(img)
                if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                out = io.BytesIO()
                options = {"quality": 92} if fmt in ("JPEG", "WEBP") else {"optimize": True}
                upright.save(out, format=fmt, **options)
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Warning,
    ) as exc:
        raise _refuse(_("图片文件已损坏或不是真正的图片，请重新拍照或导出后上传。")) from exc
    return out.getvalue()


def check(data: bytes, *, allowed: list[str], max_bytes: int) -> Checked:
    """The file's real type, or a ValidationError that says what to do instead."""
    if not data:
        raise _refuse(_("文件是空的（0 字节），请重新选择文件。"))
    if len(data) > max_bytes:
        raise _refuse(
            _("文件过大（%(size)s），上限为 %(limit)s。请压缩或分拆后上传。")
            % {"size": human_size(len(data)), "limit": human_size(max_bytes)}
        )
    kind = filetype.guess(data)
    code = kind.extension if kind is not None else ""
    if code not in TYPES or code not in allowed:
        raise _refuse(
            _("不支持的文件类型（按文件内容识别，与文件名后缀无关）。可上传：%(types)s。")
            % {"types": allowed_labels(allowed)}
        )
    if code == "pdf":
        if b"%%EOF" not in data[-2048:]:
            raise _refuse(_("PDF 文件不完整（可能未下载或扫描完），请重新导出后上传。"))
        if any(marker in data for marker in _PDF_ACTIVE):
            raise _refuse(_("该 PDF 含有脚本或嵌入文件，不能上传。请打印为 PDF 或扫描后再上传。"))
    if code in IMAGE_TYPES:
        data = _clean_image(data, IMAGE_TYPES[code])
    return Checked(file_type=code, content_type=TYPES[code][0], data=data)


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"
