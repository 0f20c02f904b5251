"""The image of a post: real JPEG/PNG/WebP within limits, re-encoded with no metadata left."""

import io
from collections.abc import Iterator

import pytest
from django.utils import translation
from PIL import ExifTags, Image

from cms.images import ImageRejected, post_image_reencode


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    """The messages are checked in English (the site's default language is French)."""
    with translation.override("en"):
        yield


LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (48.0, 26.0, 52.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (1.0, 29.0, 18.0),
}


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int = 1) -> bytes:
    """A photo as a phone writes it: camera model, GPS position and orientation in EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Phone 15"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it is there
    return data


def encoded(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


def test_gps_and_camera_exif_are_stripped() -> None:
    data = post_image_reencode(jpeg_with_gps(), **LIMITS)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (64, 48)
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert len(image.getexif()) == 0
        assert "icc_profile" not in image.info
    assert b"Phone 15" not in data and b"Exif" not in data


def test_orientation_is_applied_before_the_metadata_goes() -> None:
    data = post_image_reencode(jpeg_with_gps(size=(64, 48), orientation=6), **LIMITS)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (48, 64)


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_png_and_webp_with_transparency_become_jpeg_on_white(image_format: str) -> None:
    data = post_image_reencode(
        encoded(Image.new("RGBA", (20, 10), (0, 0, 0, 0)), image_format), **LIMITS
    )
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert min(image.getpixel((5, 5))) > 240  # type: ignore[arg-type]


def test_large_images_are_scaled_down() -> None:
    data = post_image_reencode(encoded(Image.new("RGB", (5000, 1000)), "PNG"), **LIMITS)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (2560, 512)


def test_too_many_pixels_are_refused_before_decoding() -> None:
    big = encoded(Image.new("L", (8000, 6000)), "PNG")  # 48 MP, a few kB
    assert len(big) < 1_000_000
    with pytest.raises(ImageRejected, match="too many pixels"):
        post_image_reencode(big, **LIMITS)


def test_too_many_bytes_are_refused() -> None:
    with pytest.raises(ImageRejected, match="too large"):
        post_image_reencode(jpeg_with_gps(), max_bytes=100, max_pixels=40_000_000)


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 100,  # a real format, not one we take
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"not an image at all",
        b"\xff\xd8\xff" + b"\x00" * 200,  # JPEG magic, nothing behind it
        encoded(Image.new("RGB", (10, 10)), "BMP"),
    ],
)
def test_what_is_not_a_jpeg_png_or_webp_is_refused(data: bytes) -> None:
    with pytest.raises(ImageRejected):
        post_image_reencode(data, **LIMITS)


def test_a_truncated_jpeg_is_refused() -> None:
    data = encoded(Image.effect_noise((400, 400), 50).convert("RGB"), "JPEG")
    with pytest.raises(ImageRejected, match="not a readable image"):
        post_image_reencode(data[: len(data) // 3], **LIMITS)
