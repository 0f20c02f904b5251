"""The image of a resident's post: checked, then re-encoded so nothing of the original is kept.

Pure: bytes in, JPEG bytes out, or an ``ImageRejected`` whose message a resident can act on.
The checks run cheapest first and before any decoding: the size in bytes, the magic bytes
(JPEG, PNG or WebP only), then the dimensions read from the header against the pixel limit
(a small file can declare a huge picture). Only then is the picture decoded, turned upright
from its EXIF orientation, flattened onto white, scaled down to ``MAX_SIDE`` and written as a
fresh JPEG with no EXIF (GPS, camera), no XMP and no ICC profile.
"""

import io
import warnings

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 2560
JPEG_QUALITY = 85
FORMATS = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG\r\n\x1a\n"}


class ImageRejected(ValueError):
    """The file cannot be the image of a post; the message says why."""


def post_image_reencode(data: bytes, *, max_bytes: int, max_pixels: int) -> bytes:
    """A clean JPEG made from ``data`` (a JPEG, PNG or WebP within the limits)."""
    check_size(len(data), max_bytes=max_bytes)
    image_format = sniff_format(data)
    with _open(data, image_format) as image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRejected(
                _("The image has too many pixels (at most %(mp)s megapixels).")
                % {"mp": max_pixels // 1_000_000}
            )
        return _reencoded(image)


def check_size(size: int, *, max_bytes: int) -> None:
    """Refuse a file larger than ``max_bytes`` (before it is even read)."""
    if size > max_bytes:
        raise ImageRejected(
            _("The image is too large (at most %(mb)s MB).") % {"mb": max_bytes // 1_000_000}
        )


def sniff_format(data: bytes) -> str:
    """The format announced by the first bytes; anything else is refused unparsed."""
    for name, magic in FORMATS.items():
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise ImageRejected(_("The image must be a JPEG, PNG or WebP file."))


def _open(data: bytes, image_format: str) -> Image.Image:
    """``Image.open`` restricted to the sniffed format (reads the header only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=[image_format])
    except Image.DecompressionBombWarning as err:
        raise ImageRejected(_("The image has too many pixels.")) from err
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise ImageRejected(_("This file is not a readable image.")) from err


def _reencoded(image: Image.Image) -> bytes:
    try:
        image.seek(0)  # the first frame of an animation
        upright = ImageOps.exif_transpose(image)
        flat = _flattened(upright)
        flat.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ImageRejected(_("This file is not a readable image.")) from err
    out = io.BytesIO()
    flat.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _flattened(image: Image.Image) -> Image.Image:
    """RGB on a white background (transparency and palettes included)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
