"""Uploaded photos are judged by their bytes, not their names, and what others see of them is a
copy re-encoded from the pixels: no GPS position, no comment, nothing appended (issue 15, item 6)."""

import io
import struct
import zlib

import pytest
from django.core.cache import cache
from PIL import Image
from rest_framework.test import APIClient

from tsur.appeals.models import Appeal, AppealPhoto
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role

pytestmark = pytest.mark.django_db
URL = "/api/v1/appeals/"
SCRIPT = b"<script>alert(document.cookie)</script>"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


def named(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def photo_with_gps(fmt: str = "JPEG", orientation: int | None = None) -> bytes:
    """A phone's photo: maker, orientation and the GPS position in EXIF (59°56'15.5" N, 30°18'42.25" E)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (59.0, 56.0, 15.5), "E", (30.0, 18.0, 42.25)
    buffer = io.BytesIO()
    Image.new("RGB", (32, 16), (10, 200, 10)).save(buffer, fmt, exif=exif)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares `width`×`height` pixels in a few hundred bytes: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


def file_(upload):
    response = APIClient().post(
        URL,
        {"personal_data_consent": True, "text": "Граффити на фасаде", "photos": [upload]},
        format="multipart",
    )
    return response


def stored_bytes() -> bytes:
    photo = AppealPhoto.objects.get()
    with photo.image.open("rb") as stored:
        return stored.read()


def test_the_gps_position_is_gone_from_the_stored_and_served_copy():
    original = photo_with_gps(orientation=6)  # taken with the phone on its side
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(0x8825)[2] == (59.0, 56.0, 15.5)  # the fixture carries it

    response = file_(named(original, "street.jpg"))

    assert response.status_code == 201, response.content
    kept = stored_bytes()
    assert b"PhoneMaker" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert dict(image.getexif()) == {} and image.getexif().get_ifd(0x8825) == {}
        assert image.size == (16, 32)  # turned upright, as the citizen saw it
    photo = AppealPhoto.objects.get()
    assert (photo.width, photo.height, photo.size) == (16, 32, len(kept))
    served = APIClient()
    served.force_authenticate(user_with_role(Role.OPERATOR))
    answer = served.get(f"{URL}{response.json()['number']}/photos/{photo.pk}/")
    assert b"".join(answer.streaming_content) == kept
    assert answer["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_the_gps_position_is_gone_from_png_and_webp_too(fmt):
    assert file_(named(photo_with_gps(fmt), f"street.{fmt.lower()}")).status_code == 201
    with Image.open(io.BytesIO(stored_bytes())) as image:
        assert image.getexif().get_ifd(0x8825) == {}


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><body>" + SCRIPT + b"</body></html>", "photo.jpg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "photo.jpg"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj", "photo.png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "photo.jpg"),  # a JPEG's first bytes and nothing after
        (b"GIF89a" + SCRIPT, "photo.jpg"),
    ],
    ids=["html", "svg", "pdf", "truncated-jpeg", "gif-polyglot"],
)
def test_a_file_that_is_not_an_allowed_image_is_refused_whatever_its_name(data, name):
    response = file_(named(data, name))

    assert response.status_code == 400, response.content
    assert response.json()["field"] == "photos"
    assert (Appeal.objects.count(), AppealPhoto.objects.count()) == (0, 0)


@pytest.mark.parametrize("side", [8000, 30000], ids=["64-megapixels", "900-megapixels"])
def test_a_decompression_bomb_is_refused_before_it_is_decoded(side):
    bomb = png_header(side, side)
    assert len(bomb) < 1000

    response = file_(named(bomb, "small.png"))

    assert response.status_code == 400, response.content
    assert "слишком велико по размеру в пикселях" in response.json()["detail"]
    assert (Appeal.objects.count(), AppealPhoto.objects.count()) == (0, 0)


def jpeg_with_comment() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "JPEG", comment=SCRIPT)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        jpeg_with_comment(),  # a script in the JPEG's COM segment
        photo_with_gps() + b"PK\x03\x04" + SCRIPT,  # an archive or a page after the image data
    ],
    ids=["comment", "appended"],
)
def test_a_polyglot_is_stored_as_a_picture_and_nothing_else(data):
    assert SCRIPT in data

    assert file_(named(data, "street.jpg")).status_code == 201

    kept = stored_bytes()
    assert SCRIPT not in kept and b"script" not in kept and b"PK\x03\x04" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert (image.format, image.info.get("comment")) == ("JPEG", None)


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.TSUR = {**settings.TSUR, "PHOTO_MAX_BYTES": 2048}
    big = io.BytesIO()
    Image.effect_noise((128, 128), 64).convert("RGB").save(big, "PNG")
    assert len(big.getvalue()) > 2048

    response = file_(named(big.getvalue(), "noise.png"))

    assert response.status_code == 400
    assert response.json()["detail"] == "Файл «noise.png» больше 2 КБ."
    assert AppealPhoto.objects.count() == 0
