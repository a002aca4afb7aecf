"""The photo module with real files through Pillow: sniffing, bombs, orientation, metadata, storage."""
import io
import os
import struct
import zlib

import pytest
from PIL import Image

from fieldapp import photos


def jpeg(size=(400, 300), orientation=None, gps=False, colour="orange", marker=True, quality=90):
    """A JPEG whose top-left corner is red, so that the orientation can be checked after processing."""
    image = Image.new("RGB", size, colour)
    if marker:
        image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (59.0, 54.0, 50.0), 3: "E", 4: (10.0, 45.0, 10.0)}
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png_header_only(width, height):
    """A tiny PNG that claims to be width x height: a decompression bomb in a few bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")


def reason(data):
    with pytest.raises(photos.PhotoError) as caught:
        photos.process(data)
    return caught.value.reason


def red_corner(image):
    """Which corner of a processed photo is red."""
    image = image.convert("RGB")
    w, h = image.size
    corners = {"top_left": (5, 5), "top_right": (w - 6, 5), "bottom_left": (5, h - 6), "bottom_right": (w - 6, h - 6)}
    for name, xy in corners.items():
        r, g, b = image.getpixel(xy)
        if r > 200 and g < 80 and b < 80:
            return name
    return None


def test_a_phone_photo_is_shrunk_upright_and_stripped():
    # A phone held upright writes the sensor's landscape pixels with orientation 6 (rotate 90° clockwise).
    data = jpeg((4032, 3024), orientation=6, gps=True)
    out = photos.process(data)
    stored = Image.open(io.BytesIO(out.photo))
    assert stored.format == "JPEG"
    assert stored.size == (1200, 1600) == (out.width, out.height)  # portrait now, long edge 1600
    # Rotating 90° clockwise moves the sensor's top-left corner to the top right.
    assert red_corner(stored) == "top_right"
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info and "icc_profile" not in stored.info
    assert b"PhoneMaker" not in out.photo and b"GPS" not in out.photo
    thumb = Image.open(io.BytesIO(out.thumb))
    assert thumb.width == 320 and thumb.height == round(1600 * 320 / 1200)
    assert dict(thumb.getexif()) == {}


@pytest.mark.parametrize("orientation,corner", [(1, "top_left"), (3, "bottom_right"), (6, "top_right"),
                                                (8, "bottom_left"), (2, "top_right")])
def test_every_orientation_is_made_upright(orientation, corner):
    out = photos.process(jpeg((800, 600), orientation=orientation))
    assert red_corner(Image.open(io.BytesIO(out.photo))) == corner


def test_small_png_and_webp_with_transparency_become_jpeg():
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    for fmt in ("PNG", "WEBP"):
        data = io.BytesIO()
        image.save(data, fmt)
        out = photos.process(data.getvalue())
        stored = Image.open(io.BytesIO(out.photo))
        assert stored.format == "JPEG" and stored.size == (200, 100)
        assert stored.getpixel((10, 10))[0] > 240  # transparent became white, not black


def test_a_file_that_is_not_a_photo_is_refused():
    assert reason(b"%PDF-1.7 not a photo at all") == "not_image"
    assert reason(b"GIF89a" + b"\0" * 100) == "not_image"  # an image, but not a format we take
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert reason(svg) == "not_image"


def test_an_empty_file_is_refused():
    assert reason(b"") == "empty_file"
    with pytest.raises(photos.PhotoError) as caught:
        photos.read_limited(io.BytesIO(b""))
    assert caught.value.reason == "empty_file"


def test_a_truncated_jpeg_is_refused():
    data = jpeg((800, 600))
    assert reason(data[: len(data) // 2]) == "damaged"


def test_a_pixel_flood_is_refused_before_decoding():
    bomb = png_header_only(20000, 20000)
    assert len(bomb) < 300
    assert reason(bomb) == "too_many_pixels"
    assert reason(png_header_only(8000, 7000)) == "too_many_pixels"  # 56 MP: over the 50 MP cap


def test_a_file_over_the_cap_is_refused_without_reading_it_all():
    class Endless(io.RawIOBase):
        read_total = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"\xff" * len(buffer)
            self.read_total += len(buffer)
            return len(buffer)

    endless = Endless()
    with pytest.raises(photos.PhotoError) as caught:
        photos.read_limited(io.BufferedReader(endless), limit=1000)
    assert caught.value.reason == "too_big"
    assert endless.read_total < 100_000


def test_stored_files_are_named_by_content_and_written_whole(tmp_path):
    out = photos.store(tmp_path, io.BytesIO(jpeg()))
    path = photos.path_for(tmp_path, out.digest)
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() == out.digest
    assert photos.path_for(tmp_path, out.digest, thumb=True).exists()
    # No temporary files left behind, and storing the same photo again changes nothing.
    photos.store(tmp_path, io.BytesIO(jpeg()))
    leftovers = [name for _root, _dirs, files in os.walk(tmp_path) for name in files if name.startswith(".upload-")]
    assert leftovers == []
    with pytest.raises(ValueError):
        photos.path_for(tmp_path, "../../etc/passwd")
