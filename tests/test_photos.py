"""The photo module with real files through Pillow: sniffing, bombs, orientation, metadata, storage."""
import hashlib
import io
import os
import struct
import zlib

import pytest
from helpers import jpeg, png_header_only
from PIL import Image, ImageFile

from fieldapp import photos, storage


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
    store = storage.LocalStorage(tmp_path)
    out = photos.store(store, io.BytesIO(jpeg()))
    path = store.path(out.digest)
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() == out.digest
    assert store.path(out.digest, thumb=True).exists()
    # No temporary files left behind, and storing the same photo again changes nothing.
    photos.store(store, io.BytesIO(jpeg()))
    leftovers = [name for _root, _dirs, files in os.walk(tmp_path) for name in files if name.startswith(".upload-")]
    assert leftovers == []
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


# --- issue 14: damaged pixels, metadata, colour, modes, shapes ------------------------------------

def encode(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def stored(data):
    return Image.open(io.BytesIO(photos.process(data).photo))


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_damaged_pixels():
    """A real PNG whose IDAT data is overwritten two thirds in, with a valid CRC: only the pixels are bad."""
    data = bytearray(encode(Image.linear_gradient("L").resize((300, 300)).convert("RGB"), "PNG"))
    pos = 8
    while data[pos + 4:pos + 8] != b"IDAT":
        pos += 12 + struct.unpack_from(">I", data, pos)[0]
    length = struct.unpack_from(">I", data, pos)[0]
    start = pos + 8
    data[start + length * 2 // 3:start + length * 2 // 3 + 16] = b"\xff" * 16
    data[start + length:start + length + 4] = struct.pack(">I", zlib.crc32(bytes(data[pos + 4:start + length])))
    return bytes(data)


def test_a_png_with_damaged_pixels_is_refused_not_stored_half_black():
    data = png_with_damaged_pixels()
    Image.open(io.BytesIO(data)).verify()  # the chunk structure and CRCs are fine: only the pixel data is bad
    assert reason(data) == "damaged"
    with pytest.raises(photos.PhotoError) as caught:
        photos.process(data)
    assert caught.value.status == 422


def test_truncated_png_and_webp_are_refused():
    png = encode(Image.effect_noise((300, 300), 40).convert("RGB"), "PNG")
    assert reason(png[: len(png) * 2 // 3]) == "damaged"
    webp = encode(Image.effect_noise((300, 300), 40).convert("RGB"), "WEBP")
    assert reason(webp[: len(webp) * 2 // 3]) in ("damaged", "not_image")


def test_truncated_images_are_never_loaded_half(monkeypatch):
    from PIL import ImageFile

    from fieldapp import create_app

    create_app  # importing the whole app must not switch Pillow's "load what is there" mode on
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        photos.process(jpeg())


def test_a_damaged_exif_block_keeps_the_photo_as_it_is():
    data = jpeg((400, 300), orientation=6)
    at = data.index(b"Exif\0\0") + 6
    broken = data[:at] + b"XX" + data[at + 2:]  # neither "II" nor "MM": not a TIFF header
    out = stored(broken)
    assert out.size == (400, 300) and red_corner(out) == "top_left"


def test_a_crafted_exif_block_neither_floods_the_log_nor_stops_the_photo():
    import warnings

    from bench.photos import broken_exif

    data = encode(Image.new("RGB", (64, 64), "grey"), "WEBP", exif=broken_exif(2000))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert photos.process(data).width == 64
    assert caught == []


def markers(data):
    """The JPEG markers before the first scan (an output file: no fill bytes, no stray data)."""
    found, pos = [], 2
    while data[pos + 1] != 0xDA:
        found.append(data[pos + 1])
        pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    return found


def srgb_bytes():
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_stored_photos_keep_no_metadata_at_all(fmt):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (59.0, 54.0, 50.0)}
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="59,54N"/></x:xmpmeta>'
    image = Image.new("RGB", (200, 100), (40, 90, 160))
    options = {"exif": exif.tobytes(), "icc_profile": srgb_bytes(), "xmp": xmp}
    if fmt == "JPEG":
        options["comment"] = b"secret comment"
    elif fmt == "PNG":
        from PIL import PngImagePlugin

        text = PngImagePlugin.PngInfo()
        text.add_text("comment", "secret comment")
        text.add_text("Description", "secret description", zip=True)
        text.add_itxt("Author", "secret author")
        text.add_itxt("XML:com.adobe.xmp", options.pop("xmp").decode())  # where PNG keeps XMP
        options["pnginfo"] = text
    data = encode(image, fmt, **options)
    source = Image.open(io.BytesIO(data))
    assert source.info.get("icc_profile") and source.getexif()[0x010F] == "PhoneMaker"
    assert source.info.get("xmp") or source.info.get("XML:com.adobe.xmp")
    if fmt != "WEBP":
        assert source.info.get("comment") == b"secret comment" or source.text["comment"] == "secret comment"
    out = photos.process(data)
    for blob in (out.photo, out.thumb):
        result = Image.open(io.BytesIO(blob))
        for key in ("comment", "exif", "icc_profile", "xmp"):
            assert key not in result.info, (fmt, key)
        assert dict(result.getexif()) == {}
        assert markers(blob) == [0xE0, 0xDB, 0xDB, 0xC0, 0xC4, 0xC4, 0xC4, 0xC4]  # JFIF, tables, frame
        for secret in (b"secret", b"PhoneMaker", b"xmpmeta", b"GPS"):
            assert secret not in blob


def icc_rgb(red, green, blue, gamma):
    """A minimal ICC v2 display profile (matrix and gamma curves), as cameras and editors embed."""
    def s15(value):
        return struct.pack(">i", round(value * 65536))

    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    name = b"test RGB\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(name)) + name + b"\0" * 79
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", xyz(*red)), (b"gXYZ", xyz(*green)),
            (b"bXYZ", xyz(*blue)), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table = body = b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (struct.pack(">I", offset + len(body)) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 28 + s15(0.9642) + s15(1.0) + s15(0.8249) + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + body


# sRGB's primaries adapted to D50, as in the sRGB ICC profile.
RED, GREEN, BLUE = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)


def close(pixel, expected, tolerance=4):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_colours_are_converted_to_srgb_before_the_profile_is_dropped(fmt):
    lossless = {"lossless": True} if fmt == "WEBP" else {}
    # A profile whose first channel is sRGB's green: pure "red" pixels in it are green on screen.
    swapped = icc_rgb(GREEN, RED, BLUE, 2.2)
    out = stored(encode(Image.new("RGB", (64, 64), (255, 0, 0)), fmt, icc_profile=swapped, **lossless))
    assert "icc_profile" not in out.info
    assert close(out.getpixel((10, 10)), (0, 255, 0)), out.getpixel((10, 10))
    # Linear light (gamma 1.0), sRGB primaries: 50% linear grey is 188 in sRGB, not 128.
    linear = icc_rgb(RED, GREEN, BLUE, 1.0)
    out = stored(encode(Image.new("RGB", (64, 64), (128, 128, 128)), fmt, icc_profile=linear, **lossless))
    assert close(out.getpixel((10, 10)), (188, 188, 188)), out.getpixel((10, 10))


def test_srgb_photos_keep_their_colours_and_bad_profiles_are_ignored():
    out = stored(encode(Image.new("RGB", (64, 64), (200, 100, 50)), "PNG", icc_profile=srgb_bytes()))
    assert close(out.getpixel((10, 10)), (200, 100, 50))
    assert photos._srgb_transform(srgb_bytes(), "RGB") is None  # sRGB in, sRGB out: no 22 ms transform
    assert photos._srgb_transform(icc_rgb(RED, GREEN, BLUE, 1.0), "RGB") is not None
    out = stored(encode(Image.new("RGB", (64, 64), (200, 100, 50)), "PNG", icc_profile=b"not a profile" * 20))
    assert close(out.getpixel((10, 10)), (200, 100, 50))
    # A profile for another colour space than the pixels' is ignored rather than misapplied.
    out = stored(encode(Image.new("L", (64, 64), 100), "PNG", icc_profile=icc_rgb(GREEN, RED, BLUE, 1.0)))
    assert abs(out.convert("L").getpixel((10, 10)) - 100) <= 3


@pytest.mark.parametrize("size", [(64, 48), (4000, 300)])  # whole, and reduced strip by strip
def test_16_bit_greyscale_is_scaled_not_clipped_to_white(size):
    image = Image.new("I;16", size, 0)
    width = size[0]
    for i, value in enumerate((0, 16384, 32768, 65535)):
        image.paste(Image.new("I;16", (width // 4, size[1]), value), (i * width // 4, 0))
    data = encode(image, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    out = stored(data).convert("L")
    w, h = out.size
    levels = [out.getpixel((int((i + 0.5) * w / 4), h // 2)) for i in range(4)]
    assert all(abs(got - want) <= 3 for got, want in zip(levels, (0, 64, 128, 255))), levels


@pytest.mark.parametrize("size", [(64, 48), (4000, 300)])
def test_palette_la_one_bit_and_cmyk_come_out_right(size):
    width, height = size
    left = (0, 0, width // 2, height)
    # Palette PNG with a transparent entry: transparent is white, the opaque entry keeps its colour.
    palette = Image.new("P", size, 0)
    palette.putpalette([255, 0, 0, 0, 0, 255])
    palette.paste(1, left)
    out = stored(encode(palette, "PNG", transparency=0))
    w, h = out.size
    assert close(out.getpixel((w // 4, h // 2)), (0, 0, 255)) and close(out.getpixel((3 * w // 4, h // 2)),
                                                                          (255, 255, 255))
    # Greyscale with alpha: the transparent half is white, the opaque half keeps its grey.
    la = Image.new("LA", size, (50, 0))
    la.paste((50, 255), left)
    out = stored(encode(la, "PNG")).convert("L")
    assert abs(out.getpixel((w // 4, h // 2)) - 50) <= 3 and out.getpixel((3 * w // 4, h // 2)) >= 250
    # 1-bit: black stays black, white stays white.
    bilevel = Image.new("1", size, 0)
    bilevel.paste(1, left)
    out = stored(encode(bilevel, "PNG")).convert("L")
    assert out.getpixel((w // 4, h // 2)) >= 250 and out.getpixel((3 * w // 4, h // 2)) <= 5
    # CMYK JPEG (Adobe, as print workflows write it): cyan, magenta and yellow stay themselves.
    cmyk = Image.new("CMYK", size, (0, 255, 255, 0))  # red
    cmyk.paste((255, 0, 0, 0), left)  # cyan
    out = stored(encode(cmyk, "JPEG", quality=95))
    assert out.mode == "RGB"
    assert close(out.getpixel((w // 4, h // 2)), (0, 255, 255), 8)
    assert close(out.getpixel((3 * w // 4, h // 2)), (255, 0, 0), 8)


def test_an_mpo_photo_is_decoded_at_reduced_scale_like_a_jpeg(monkeypatch):
    first = Image.new("RGB", (4000, 3000), "orange")
    first.paste((255, 0, 0), (0, 0, 1000, 750))
    data = encode(first, "MPO", save_all=True, append_images=[Image.new("RGB", (400, 300), "blue")])
    from PIL import JpegImagePlugin

    drafts = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        drafts.append(size)
        return original(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    out = stored(data)
    assert drafts and out.size == (1600, 1200) and red_corner(out) == "top_left"


def test_absurd_shapes_are_refused_before_decoding():
    assert reason(png_header_only(1, 50_000_000)) == "bad_shape"  # 97 KB in the wild; 2.5 GB once decoded
    assert reason(png_header_only(50_000_000, 1)) == "bad_shape"
    assert reason(encode(Image.new("RGB", (2100, 100), "grey"), "PNG")) == "bad_shape"
    assert photos.process(encode(Image.new("RGB", (2000, 100), "grey"), "PNG")).width == 1600  # 1:20 is taken
    with pytest.raises(photos.PhotoError) as caught:
        photos.process(png_header_only(1, 50_000_000))
    assert caught.value.status == 422


def test_too_many_jpeg_scans_are_refused_before_decoding():
    from bench.photos import many_scans_jpeg

    at_cap = many_scans_jpeg((256, 256), photos.MAX_SCANS)
    assert photos.jpeg_layout(at_cap).scans == photos.MAX_SCANS
    assert photos.process(at_cap).width == 256
    assert reason(many_scans_jpeg((256, 256), photos.MAX_SCANS + 1)) == "too_complex"
    assert reason(many_scans_jpeg((256, 256), 10_000)) == "too_complex"


def test_header_floods_are_refused_before_pillow_parses_them():
    small = jpeg((64, 64))
    com = b"\xff\xfe\x00\x02"
    assert photos.process(small[:2] + com * 500 + small[2:]).width == 64
    assert reason(small[:2] + com * (photos.MAX_SEGMENTS + 1) + small[2:]) == "too_complex"
    # 0xFF fill between segments is legal, and Pillow reads it a byte at a time: 15 MB of it cost 4 s.
    assert photos.process(small[:2] + b"\xff" * 1000 + small[2:]).width == 64
    assert reason(small[:2] + b"\xff" * (photos.MAX_STRAY_BYTES + 1) + small[2:]) == "too_complex"
    assert reason(b"\xff\xd8" + b"\xff" * photos.MAX_BYTES) == "too_complex"
    png = encode(Image.new("RGB", (64, 64), "red"), "PNG")
    empty = chunk(b"abCd", b"")
    assert photos.process(png[:33] + empty * 500 + png[33:]).width == 64
    assert reason(png[:33] + empty * photos.MAX_PNG_CHUNKS + png[33:]) == "too_complex"


def test_a_png_that_inflates_to_too_much_pixel_data_is_refused():
    def header(width, height, depth, colour):
        ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")

    # 16-bit RGBA is 8 bytes a pixel before Pillow brings it to 8 bits: 7000 x 3600 is 201.6 MB.
    assert reason(header(7000, 3600, 16, 6)) == "too_complex"
    photos.check_structure(header(7000, 3500, 16, 6))  # 196 MB: allowed
    photos.check_structure(header(7000, 7000, 8, 6))  # 8-bit RGBA at 49 MP: allowed
    assert photos.png_layout(encode(Image.new("RGBA", (300, 200)), "PNG")) == (3, 300 * 200, 300 * 4 * 200)


def test_a_progressive_jpeg_too_big_to_hold_is_refused(monkeypatch):
    image = Image.new("RGB", (1024, 1024), "grey")
    full = encode(image, "JPEG", progressive=True, subsampling=0)  # 4:4:4
    assert photos.jpeg_layout(full).coefficient_bytes == 3 * 128 * 128 * 128
    halved = encode(image, "JPEG", progressive=True, subsampling=2)  # 4:2:0: half the coefficients
    assert photos.jpeg_layout(halved).coefficient_bytes == (128 * 128 + 2 * 64 * 64) * 128
    monkeypatch.setattr(photos, "MAX_PROGRESSIVE_BYTES", 4 * 1024 * 1024)
    assert reason(full) == "too_complex"
    assert photos.process(halved).width == 1024
    baseline = encode(image, "JPEG", subsampling=0)
    assert photos.process(baseline).width == 1024  # one scan: libjpeg streams it, no whole-image buffer
    # A sequential JPEG of several scans is buffered whole like a progressive one.
    from bench.photos import _jpeg_scan_blocks

    (start, end), = _jpeg_scan_blocks(baseline)
    assert reason(baseline[:end] + baseline[start:end] + baseline[end:]) == "too_complex"


def test_a_webp_too_big_to_decode_is_refused(monkeypatch):
    data = encode(Image.new("RGB", (1000, 1000), "grey"), "WEBP")
    assert photos.process(data).width == 1000
    monkeypatch.setattr(photos, "MAX_WEBP_PIXELS", 999_999)
    assert reason(data) == "too_complex"


def test_every_reason_has_a_status_and_a_message_in_the_persons_language(app):
    from fieldapp import inputs

    with app.test_request_context():
        messages = inputs.messages()
        for name, status in photos.STATUS.items():
            assert messages[name][0] == status == photos.PhotoError(name).status
            assert messages[name][1]


def test_large_icc_profiles_are_ignored_and_the_cache_keeps_digests_not_profiles(monkeypatch):
    """A 14 MB profile, uploaded 12 times, kept ~100 MB per worker when the cache was keyed by its bytes."""
    linear = icc_rgb(RED, GREEN, BLUE, 1.0)  # a real transform: 50% linear grey -> 188
    big = linear + b"\0" * (photos.MAX_ICC_BYTES + 1 - len(linear))  # the same profile, padded over the cap
    built = []
    real_build = photos._build_transform
    monkeypatch.setattr(photos, "_build_transform", lambda *args: built.append(len(args[0])) or real_build(*args))
    monkeypatch.setattr(photos, "_transforms", {})
    # Ignored: the pixels are taken as sRGB, as for a damaged profile; nothing is parsed or cached.
    out = stored(encode(Image.new("RGB", (64, 64), (128, 128, 128)), "JPEG", icc_profile=big, quality=95))
    assert close(out.getpixel((10, 10)), (128, 128, 128)), out.getpixel((10, 10))
    assert photos._srgb_transform(big, "RGB") is None
    assert built == [] and photos._transforms == {}
    # Under the cap it is used, and cached by its SHA-256: a 32-byte key, built once.
    out = stored(encode(Image.new("RGB", (64, 64), (128, 128, 128)), "JPEG", icc_profile=linear, quality=95))
    assert close(out.getpixel((10, 10)), (188, 188, 188)), out.getpixel((10, 10))
    assert photos._srgb_transform(linear, "RGB") is not None
    assert built == [len(linear)]
    assert list(photos._transforms) == [(hashlib.sha256(linear).digest(), "RGB")]
    # At most TRANSFORM_CACHE entries, the least recently used dropped first.
    profiles = [icc_rgb(RED, GREEN, BLUE, 1.0 + i / 100) for i in range(1, photos.TRANSFORM_CACHE + 1)]
    photos._srgb_transform(profiles[0], "RGB")
    photos._srgb_transform(linear, "RGB")  # used again: now the most recent
    for profile in profiles[1:]:
        photos._srgb_transform(profile, "RGB")
    assert len(photos._transforms) == photos.TRANSFORM_CACHE
    assert (hashlib.sha256(linear).digest(), "RGB") in photos._transforms
    assert (hashlib.sha256(profiles[0]).digest(), "RGB") not in photos._transforms
    assert all(len(digest) == 32 for digest, _mode in photos._transforms)


def test_the_request_budget_fits_any_single_photo_and_ten_phone_photos():
    """Estimates from the header (issue 14): bench/photos.py --attacks-only shows them against real CPU."""
    budget = photos.REQUEST_BUDGET_MS
    dearest = [
        # 50 MP interlaced PNG at the raw cap; progressive JPEG at the coefficient cap, 15 MB; WebP at its cap.
        photos.decode_cost("PNG", (7071, 7071), 200_000, (3, 50_000_000, photos.MAX_PNG_RAW_BYTES), True),
        photos.decode_cost("JPEG", (8160, 6120), photos.MAX_BYTES,
                           photos.JpegLayout(10, 30, 0, True, photos.MAX_PROGRESSIVE_BYTES)),
        photos.decode_cost("WEBP", (3535, 3535), photos.MAX_BYTES),
    ]
    assert all(cost <= budget for cost in dearest), dearest
    phone = photos.decode_cost("JPEG", (4032, 3024), 6_000_000, photos.JpegLayout(1, 20, 0, False, 0))
    browser = photos.decode_cost("JPEG", (1600, 1200), 600_000, photos.JpegLayout(1, 10, 0, False, 0))
    assert 10 * phone <= budget and 10 * browser <= budget
    paeth = photos.decode_cost("PNG", (7000, 7000), 208_000, (3, 49_000_000, 196_000_000))
    assert 2 * paeth > budget  # six of them cost 4.7 s in one request


def test_a_photo_over_the_budget_is_refused_before_decoding_and_costs_nothing(monkeypatch):
    data = jpeg((800, 600))
    budget = photos.Budget(total_ms=photos.COST_PER_PHOTO_MS + 1)
    assert photos.process(data, budget=budget).width == 800
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self))
    with pytest.raises(photos.PhotoError) as refused:
        photos.process(data, budget=budget)
    assert refused.value.reason == "budget" and refused.value.status == 413 and loads == []
    assert 0 < budget.left_ms < photos.COST_PER_PHOTO_MS  # nothing taken for the refused one
    monkeypatch.undo()
    # Other reasons come first and take nothing from the budget.
    empty = photos.Budget(total_ms=0)
    for bad, why in ((b"%PDF-1.7\n", "not_image"), (png_header_only(20000, 20000), "too_many_pixels")):
        with pytest.raises(photos.PhotoError) as refused:
            photos.process(bad, budget=empty)
        assert refused.value.reason == why
    assert photos.Budget().left_ms == photos.REQUEST_BUDGET_MS
