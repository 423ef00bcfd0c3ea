"""Checks of uploaded photos: a real image of an allowed type, within the size limit."""

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from tsur.core.errors import DomainError

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 50_000_000


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} МБ"
    return f"{max(limit // 1024, 1)} КБ"


def inspect(upload) -> tuple[str, int, int]:
    """Return (content type, width, height) of an uploaded image, or refuse it."""
    size = getattr(upload, "size", None) or 0
    limit = settings.TSUR["PHOTO_MAX_BYTES"]
    if size > limit:
        raise DomainError(f"Файл «{upload.name}» больше {_size(limit)}.", field="photos")
    if size == 0:
        raise DomainError(f"Файл «{upload.name}» пуст.", field="photos")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise DomainError(
                    f"Изображение «{upload.name}» слишком велико по размеру в пикселях.", field="photos"
                )
            image.verify()
    except Image.DecompressionBombError as error:  # so large that Pillow refuses to open it at all
        raise DomainError(
            f"Изображение «{upload.name}» слишком велико по размеру в пикселях.", field="photos"
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DomainError(
            f"Файл «{upload.name}» не является изображением JPEG, PNG или WebP.", field="photos"
        ) from error
    finally:
        upload.seek(0)
    if kind not in ALLOWED_FORMATS:
        raise DomainError(f"Формат {kind} не поддерживается: загрузите JPEG, PNG или WebP.", field="photos")
    return ALLOWED_FORMATS[kind], width, height


def clean_copy(upload, content_type: str) -> tuple[ContentFile, int, int]:
    """The picture re-encoded from its pixels alone, with its width and height as shown: EXIF and XMP
    (with the phone's GPS position), comments (a JPEG's COM segment survives Pillow's own re-encoding
    unless dropped: a script hidden there made a polyglot of the copy), colour profiles and anything
    appended after the image data are dropped. The name is random, so it tells nothing."""
    upload.seek(0)
    with Image.open(upload) as image:
        image = ImageOps.exif_transpose(image)  # keep what the citizen saw, then forget the tags
        kind = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[content_type]
        if kind == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # Pillow writes some of what it read (a JPEG's comment) back out: only a palette's
        # transparency, which is pixels, not text, is kept
        image.info = {k: v for k, v in image.info.items() if k == "transparency" and image.mode == "P"}
        buffer = io.BytesIO()
        image.save(buffer, kind, **({"quality": 88} if kind in ("JPEG", "WEBP") else {}))
        width, height = image.size
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[kind]
    return ContentFile(buffer.getvalue(), name=f"{uuid.uuid4().hex}.{extension}"), width, height
