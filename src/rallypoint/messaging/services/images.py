"""Images uploaded for mailings: checked with Pillow, re-encoded, stored in the default storage
and served from /mail/m/i/ with a long cache life (the address is in mail already sent, so an
image is never changed in place: a new upload is a new address).

What is refused, each with its reason for the organizer: anything over MAILING_IMAGE_MAX_BYTES,
anything Pillow cannot open as PNG, JPEG, GIF or WebP (a renamed file, a truncated one, an SVG,
which could carry script), and images over MAX_PIXELS (a "decompression bomb": a small file
that unpacks to gigabytes).

What is kept: PNG, JPEG and WebP are turned upright (EXIF orientation), scaled down to
MAX_WIDTH (twice a mail's 600-pixel column, for sharp high-density screens) and written again
without their metadata (camera, location). A GIF is kept byte for byte (it may be animated);
it has no such metadata.
"""

import io
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from PIL import Image, ImageOps, UnidentifiedImageError

from ..models import MailImage

MAX_WIDTH = 1200
MAX_PIXELS = 40_000_000
FORMATS = {  # Pillow's format → (content type, file extension)
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# How each kind is written again (WebP and JPEG lossy at a quality photos keep well).
SAVE_OPTIONS: dict[str, dict[str, int | bool]] = {
    "JPEG": {"quality": 85, "optimize": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 85},
}
EXTENSIONS = {extension: content_type for content_type, extension in FORMATS.values()}
FORMATS_BY_TYPE = dict(FORMATS.values())
DAMAGED = "This image could not be read to the end. Save it again and upload the new file."


@dataclass(frozen=True)
class UploadedImage:
    image: MailImage
    url: str  # absolute: it goes into mail


def image_url(image: MailImage) -> str:
    extension = FORMATS_BY_TYPE[image.content_type]
    return settings.SITE_URL + reverse(
        "messaging:image", kwargs={"name": f"{image.token}.{extension}"}
    )


def mail_image_upload(upload, *, by=None) -> UploadedImage:
    """Check, re-encode and store an uploaded file. Raises ValidationError saying what is
    wrong with it."""
    limit = settings.MAILING_IMAGE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            f"This image is {filesizeformat(upload.size)}; the limit is "
            f"{filesizeformat(limit)}. Save it smaller and try again."
        )
    data = upload.read()
    try:
        probe = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            "This file is not an image we can use. Upload a PNG, JPEG, GIF or WebP."
        ) from None
    with probe:
        kind = probe.format
        width, height = probe.size
        try:
            probe.verify()  # a truncated or damaged file fails here
        except (OSError, SyntaxError, ValueError):
            raise ValidationError(DAMAGED) from None
    if kind not in FORMATS:
        raise ValidationError(f"{kind} images can't go into mail. Upload a PNG, JPEG, GIF or WebP.")
    if width * height > MAX_PIXELS:
        raise ValidationError(
            f"This image is {width} × {height} pixels, too large to send. Make it smaller than "
            f"{MAX_WIDTH * 2} pixels wide."
        )
    content_type, extension = FORMATS[kind]
    if kind != "GIF":
        data, width, height = _reencoded(data, kind)
    image = MailImage(
        content_type=content_type,
        width=width,
        height=height,
        size=len(data),
        original_name=PurePath(upload.name or "").name[:200],
        uploaded_by=by,
    )
    image.file.save(f"{image.token}.{extension}", ContentFile(data), save=False)
    image.save()
    return UploadedImage(image=image, url=image_url(image))


def _reencoded(data: bytes, kind: str) -> tuple[bytes, int, int]:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            picture = ImageOps.exif_transpose(opened)
            if picture.width > MAX_WIDTH:
                height = max(1, round(picture.height * MAX_WIDTH / picture.width))
                picture = picture.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
            if kind == "JPEG" and picture.mode not in ("RGB", "L"):
                picture = picture.convert("RGB")
            out = io.BytesIO()
            picture.save(out, format=kind, **SAVE_OPTIONS[kind])
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(DAMAGED) from None
    return out.getvalue(), picture.width, picture.height


def mail_image_by_name(name: str) -> MailImage | None:
    """The image at /mail/m/i/<name>, where name is "<token>.<extension>"."""
    token, _, extension = name.partition(".")
    if extension not in EXTENSIONS:
        return None
    try:
        key = uuid.UUID(token)
    except ValueError:
        return None
    return MailImage.objects.filter(token=key, content_type=EXTENSIONS[extension]).first()
