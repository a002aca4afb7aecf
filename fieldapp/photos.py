"""Photos from phones: sniffed, bounded, shrunk while decoding, turned upright, made sRGB, stripped, stored by hash.

Every feature that takes photos goes through `store()` (or `read_limited()` + `process()` + `save()`). The
stored files live in the photo store (fieldapp/storage.py: the instance folder or an S3 bucket, never under
static/) and are served by views that check the person's role on the record's site.

Cost bound (issue 14): no upload within MAX_BYTES and MAX_PIXELS costs a worker more than 2 s of CPU or
300 MB of memory (`python bench/photos.py --attacks-only` prints the worst files). What keeps it there,
all checked before a pixel is decoded:
- the file's structure is walked first (JPEG segments, PNG chunks) with a cap on their number and on the
  stray bytes between a JPEG's segments, because Pillow parses the headers in Python (15 MB of empty COM
  or APP segments cost it 3.6 s and 600 MB, 15 MB of 0xFF fill 4 s);
- a JPEG may have at most MAX_SCANS scans: libjpeg passes over the whole image once per scan, so 10,000
  empty scans kept a worker busy for 24 s;
- a progressive (or any multi-scan) JPEG keeps every DCT coefficient of the whole image (2 bytes each)
  until its last scan: at most MAX_PROGRESSIVE_BYTES of them (a 50 MP 4:2:0 photo fits; 4:4:4 or CMYK
  at 50 MP does not; a baseline JPEG of one scan is streamed and has no such limit);
- the long side may be at most MAX_ASPECT times the short one: Pillow keeps a pointer and an allocation per
  row, so a 97 KB PNG of 1 x 50,000,000 px cost 2.5 GB;
- a PNG may inflate to at most MAX_PNG_RAW_BYTES of pixel data (zlib and 16-bit conversion dominate);
- Pillow holds a WebP three times over (libwebp's canvas, a bytes copy, the image): at most MAX_WEBP_PIXELS.
A baseline JPEG is decoded at 1/2, 1/4 or 1/8 scale by libjpeg (draft); a big PNG or WebP is decoded whole
(at most 4 bytes a pixel) and then reduced strip by strip, so no full-size copy is ever made.

The same bound holds per request, not only per photo: one report may carry MAX_PHOTOS photos, and six
7000x7000 Paeth PNGs (each under 1 s) cost 4.7 s together. A caller that decodes several photos in one
request passes one `Budget` to each `process()`: each photo's decoding cost is estimated from its header
(`decode_cost()`) and charged before a pixel is decoded; a photo that no longer fits is refused as
"budget" and the caller keeps the others.

Embedded ICC profiles: a profile over MAX_ICC_BYTES is ignored (the pixels taken as sRGB, as for a
damaged profile): real camera and phone profiles are under 64 KB, and a 14 MB one only costs memory.
Built transforms are cached by the SHA-256 of the profile, never by its bytes.
"""
import hashlib
import io
import math
import re
import struct
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageCms, ImageFile, UnidentifiedImageError

from .inputs import InputError

FORMATS = ("JPEG", "PNG", "WEBP")
MAX_BYTES = 15 * 1024 * 1024  # a 50 MP phone JPEG; the browser usually sends ~0.5 MB
MAX_PIXELS = 50_000_000
MAX_ASPECT = 20  # panoramas from phones are about 1:4 to 1:10
MAX_SCANS = 100  # libjpeg's own progressive JPEGs have 10 scans, mozjpeg's about a dozen
MAX_SEGMENTS = 1000  # JPEG markers: phones write about 20
MAX_STRAY_BYTES = 65_536  # fill or junk between a JPEG's header segments: Pillow reads it a byte at a time
MAX_PNG_CHUNKS = 10_000  # libpng writes 8 KB IDAT chunks: 1,920 for 15 MB
# Pixel data a PNG inflates to: 8-bit RGBA at 50 MP fits, 16-bit RGBA up to 25 MP (at 50 MP it took 1.4 s).
MAX_PNG_RAW_BYTES = 200_000_000
MAX_PROGRESSIVE_BYTES = 160 * 1024 * 1024  # DCT coefficients held while decoding a multi-scan JPEG
MAX_WEBP_PIXELS = 12_500_000  # Pillow holds ~16 bytes a pixel while decoding: ~200 MB; a 12 MP phone photo fits
LONG_EDGE = 1600
THUMB_WIDTH = 320
QUALITY = 80
THUMB_QUALITY = 70
# Draft decoding leaves at most a 2x step to the long edge; Hamming keeps it sharp at half Lanczos's cost.
RESAMPLE = Image.Resampling.HAMMING
STRIP_PIXELS = 1 << 20  # a big PNG or WebP is converted and reduced this many pixels at a time
MAX_ICC_BYTES = 1024 * 1024  # larger embedded profiles are ignored (phones and cameras embed < 64 KB)
TRANSFORM_CACHE = 16  # ICC transforms kept per worker, keyed by the profile's digest

# Estimated decoding cost of one photo, in CPU milliseconds on the bench machine (`python bench/photos.py
# --attacks-only`, which also prints whole report requests), from its header and file size. Fitted on the
# bench's files and rounded up: none there costs more than ~1.1x its estimate, most much less.
COST_PER_PHOTO_MS = 20  # resize, upright, encode the photo and its thumbnail
COST_NS = {
    "jpeg_byte": 8,  # baseline JPEG: entropy decoding, a whole file's worth even when drafted
    "jpeg_pixel": 1,  # baseline JPEG: IDCT at the draft scale
    "progressive_byte": 18,  # multi-scan JPEG: every scan is decoded into the coefficient buffer
    "coefficient_byte": 3,  # ... and the whole image is then transformed at full size
    "png_raw_byte": 4,  # inflate and undo the row filters (Paeth, the dearest, assumed)
    "png_pixel": 4,  # palette, transparency and 16-bit conversions, strip reduction
    "webp_byte": 40,
    "webp_pixel": 15,
}
PNG_INTERLACED = 1.1  # Adam7: seven passes, each unfiltered on its own
# What one request may spend decoding photos: a single photo at any limit fits (the dearest estimate, a
# 50 MP interlaced PNG of 200 MB raw, is ~1,120 ms), as do ten ordinary phone photos (12 MP baseline JPEG:
# ~55-100 ms; 1600 px from the browser: ~25 ms). Six 7000x7000 Paeth PNGs (~1,000 ms each estimated,
# ~720 ms real): one fits, and the request stays near 1 s. Estimates run about 0.4-1.1x the real cost.
REQUEST_BUDGET_MS = 1200

# Pillow's own guard, for any code path that opens images: warning above this, error above twice it.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# EXIF orientation -> the transposition that makes the photo upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
ORIENTATION_TAG = 0x0112

# The HTTP status of each reason; the message shown to the person is in fieldapp/inputs.py.
STATUS = {
    "empty_file": 422,
    "not_image": 415,
    "damaged": 422,  # truncated or corrupt pixel data: never stored half black
    "too_big": 413,  # over MAX_BYTES
    "too_many_pixels": 413,  # over MAX_PIXELS
    "bad_shape": 422,  # one side over MAX_ASPECT times the other
    "too_complex": 422,  # too many scans, segments or chunks; a progressive JPEG or WebP too big to decode
    "budget": 413,  # this request's photos together cost too much to decode: send it in another request
}


class PhotoError(InputError):
    """One photo refused: the only exception `read_limited()`, `process()` and `store()` raise for bad input.

    `reason` is a key of STATUS (and of inputs.messages(), which words it for the person);
    `status` is its HTTP status (413, 415 or 422). A caller that takes several photos catches it per photo.
    """

    @property
    def status(self):
        return STATUS[self.reason]


@dataclass(frozen=True)
class Processed:
    digest: str  # sha256 of the stored photo: its name
    photo: bytes
    thumb: bytes
    width: int
    height: int


class Budget:
    """What one request may still spend decoding photos, in estimated CPU ms (see decode_cost())."""

    def __init__(self, total_ms=None):
        self.left_ms = REQUEST_BUDGET_MS if total_ms is None else total_ms

    def charge(self, cost_ms):
        """Take `cost_ms` from what is left, or raise PhotoError("budget") and take nothing."""
        if cost_ms > self.left_ms:
            raise PhotoError("budget")
        self.left_ms -= cost_ms


def read_limited(stream, limit=None):
    """The upload's bytes, refusing more than `limit` (MAX_BYTES) without reading them all."""
    limit = MAX_BYTES if limit is None else limit
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PhotoError("too_big")
    if not data:
        raise PhotoError("empty_file")
    return data


# --- structure, before Pillow parses anything ------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Where a JPEG scan's entropy-coded data ends: 0xFF followed by a marker byte, not by a stuffed 0x00,
# another 0xFF (fill) or a restart marker RST0-RST7 (part of the scan), as libjpeg reads it.
_SCAN_END = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
# libjpeg's next_marker(): skips stray bytes and 0xFF fill. One 0xFF, not "\xff+": a run of fill bytes
# would make the regex backtrack quadratically (15 MB of 0xFF: hours).
_MARKER = re.compile(rb"\xff[^\x00\xff]")
_PROGRESSIVE_SOF = (0xC2, 0xC6, 0xCA, 0xCE)
_SOF = (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)
_STANDALONE = (0x01, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7)  # TEM, RSTn: no length


@dataclass(frozen=True)
class JpegLayout:
    scans: int
    segments: int
    stray_bytes: int  # fill and junk between segments before the first scan, which Pillow parses
    progressive: bool
    coefficient_bytes: int  # what libjpeg holds for a multi-scan decode: 128 bytes per 8x8 block


def jpeg_layout(data):
    """Walk a JPEG's segments as libjpeg reads them, up to EOI -> JpegLayout.

    Stops early (with the counts so far, already over the cap) after MAX_SEGMENTS markers,
    MAX_SCANS + 1 scans or MAX_STRAY_BYTES stray bytes: a few hundred Python steps at most, and one C
    regex pass over the bytes (1.3 ms for a 12 MP phone photo). A structure that ends early is left for
    the decoder to call damaged. Source: ITU-T T.81 annex B (B.1.1.2 markers, B.1.1.5 fill bytes).
    """
    pos, scans, segments, stray, progressive, coefficients = 2, 0, 0, 0, False, 0
    while segments <= MAX_SEGMENTS and scans <= MAX_SCANS and stray <= MAX_STRAY_BYTES:
        found = _MARKER.search(data, pos)
        if found is None or found.end() + 2 > len(data):
            stray += 0 if scans else len(data) - pos
            break
        if not scans:
            stray += found.start() - pos
        marker, pos = data[found.end() - 1], found.end()
        segments += 1
        if marker == 0xD9:  # EOI: libjpeg reads nothing after it
            break
        if marker in _STANDALONE:
            continue
        length = struct.unpack_from(">H", data, pos)[0]
        if marker in _SOF and length >= 8 and pos + length <= len(data):
            progressive = marker in _PROGRESSIVE_SOF
            coefficients = _coefficient_bytes(data[pos + 2:pos + length])
        pos += length
        if marker == 0xDA:
            scans += 1
            end = _SCAN_END.search(data, pos)
            pos = len(data) if end is None else end.start()
    return JpegLayout(scans, segments, stray, progressive, coefficients)


def _coefficient_bytes(frame):
    """A SOF segment's body (precision, height, width, components) -> bytes of its DCT coefficients."""
    height, width, count = struct.unpack_from(">HHB", frame, 1)
    components = [frame[6 + 3 * i + 1] for i in range(count) if 6 + 3 * i + 2 < len(frame)]
    if not components:
        return 0
    h_max = max(c >> 4 for c in components) or 1
    v_max = max(c & 15 for c in components) or 1
    blocks = sum(math.ceil(width / (8 * h_max)) * (c >> 4) * math.ceil(height / (8 * v_max)) * (c & 15)
                 for c in components)
    return blocks * 64 * 2


def png_layout(data):
    """(chunks up to IEND, counting at most MAX_PNG_CHUNKS + 1; pixels; bytes of raw pixel data).

    Source: PNG specification, 3rd edition, 5.3 (chunk layout) and 11.2.1 (IHDR).
    """
    pos, chunks, pixels, raw = len(PNG_SIGNATURE), 0, 0, 0
    while pos + 8 <= len(data) and chunks <= MAX_PNG_CHUNKS:
        length, kind = struct.unpack_from(">I4s", data, pos)
        chunks += 1
        if kind == b"IHDR" and chunks == 1 and length == 13 and pos + 21 <= len(data):
            width, height, depth, colour = struct.unpack_from(">IIBB", data, pos + 8)
            channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 4)
            pixels, raw = width * height, (width * channels * depth + 7) // 8 * height
        if kind == b"IEND":
            break
        pos += 12 + length
    return chunks, pixels, raw


def check_structure(data):
    """Refuse ("too_complex") a JPEG or PNG whose structure would cost too much to parse or decode.

    Returns what it found for decode_cost(): a JpegLayout, a PNG's (chunks, pixels, raw bytes), or None.
    """
    layout = None
    if data.startswith(b"\xff\xd8"):
        layout = jpeg_layout(data)
        if layout.segments > MAX_SEGMENTS or layout.scans > MAX_SCANS or layout.stray_bytes > MAX_STRAY_BYTES:
            raise PhotoError("too_complex")
        # libjpeg buffers the whole image's coefficients for any JPEG of several scans, progressive or not.
        if (layout.progressive or layout.scans > 1) and layout.coefficient_bytes > MAX_PROGRESSIVE_BYTES:
            raise PhotoError("too_complex")
    elif data.startswith(PNG_SIGNATURE):
        layout = chunks, pixels, raw = png_layout(data)
        # Over MAX_PIXELS is refused as such below, with its own message.
        if chunks > MAX_PNG_CHUNKS or (raw > MAX_PNG_RAW_BYTES and pixels <= MAX_PIXELS):
            raise PhotoError("too_complex")
    return layout


def decode_cost(fmt, size, file_bytes, layout=None, interlaced=False):
    """Estimated CPU ms to process a photo, from its header: format, (width, height), file size, the
    layout check_structure() returned and whether a PNG is interlaced. Nothing is decoded.
    """
    pixels = size[0] * size[1]
    if fmt in ("JPEG", "MPO"):
        if isinstance(layout, JpegLayout) and (layout.progressive or layout.scans > 1):
            ns = file_bytes * COST_NS["progressive_byte"] + layout.coefficient_bytes * COST_NS["coefficient_byte"]
        else:
            ns = file_bytes * COST_NS["jpeg_byte"] + pixels * COST_NS["jpeg_pixel"]
    elif fmt == "PNG":
        raw = layout[2] if isinstance(layout, tuple) else pixels * 8  # 16-bit RGBA when unknown
        ns = raw * COST_NS["png_raw_byte"] + pixels * COST_NS["png_pixel"]
        ns *= PNG_INTERLACED if interlaced else 1
    else:
        ns = file_bytes * COST_NS["webp_byte"] + pixels * COST_NS["webp_pixel"]
    return COST_PER_PHOTO_MS + ns / 1e6


def fit(size, long_edge, rounding=round):
    """(width, height) scaled so that the long edge is long_edge, keeping the photo's aspect ratio.

    With rounding=math.ceil it is a box for draft(), which keeps both sides at least that large.
    """
    width, height = size
    scale = long_edge / max(width, height)
    return max(1, rounding(width * scale)), max(1, rounding(height * scale))


def process(data, long_edge=LONG_EDGE, budget=None):
    """Bytes of an uploaded photo -> Processed (upright sRGB JPEG without any metadata, and its thumbnail).

    Raises PhotoError (see STATUS) for anything we do not store; never stores a partly decoded photo.
    budget: the request's Budget, charged with the photo's estimated cost before it is decoded
    (PhotoError("budget") when it does not fit; a photo refused for another reason costs nothing).
    """
    if not data:
        raise PhotoError("empty_file")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Pillow would then fill a damaged photo's missing part with black and call it loaded.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    layout = check_structure(data)
    try:
        with warnings.catch_warnings():
            # Our own, lower limit is checked below with a clear message; Pillow's warning is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise PhotoError("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        raise PhotoError("not_image") from None
    with source:
        width, height = source.size
        # Checked from the header, before a single pixel is decoded.
        if width * height > MAX_PIXELS or width < 1 or height < 1:
            raise PhotoError("too_many_pixels")
        if max(width, height) > MAX_ASPECT * min(width, height):
            raise PhotoError("bad_shape")
        if source.format == "WEBP" and width * height > MAX_WEBP_PIXELS:
            raise PhotoError("too_complex")
        if budget is not None:
            budget.charge(decode_cost(source.format, (width, height), len(data), layout,
                                      bool(source.info.get("interlace"))))
        if source.format in ("JPEG", "MPO") and max(width, height) > long_edge:
            # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: a fraction of the time and memory.
            # MPO: a JPEG with an MPF index (phones' HDR gain maps, depth maps); its first image is the photo.
            source.draft("RGB", fit((width, height), long_edge, math.ceil))
        try:
            source.load()
        except (OSError, SyntaxError, ValueError, struct.error, Image.DecompressionBombError):
            raise PhotoError("damaged") from None
        # Read after load(): a PNG's eXIf chunk may follow the pixels, and reading it first would decode
        # the image inside the EXIF guard, where a damaged image would pass as loaded.
        orientation = _orientation(source)
        image = _displayable(source, long_edge)
        # Resize before turning upright and converting colours: the same result, on fewer pixels.
        if max(image.size) > long_edge:
            image = image.resize(fit(image.size, long_edge), RESAMPLE)
        image = _to_srgb(image, source.info.get("icc_profile"))
        for step in _UPRIGHT.get(orientation, ()):
            image = image.transpose(step)
        image.info.clear()  # Pillow's JPEG writer copies info["comment"] (a JPEG COM, a PNG tEXt) into the file
        photo = _jpeg(image, QUALITY)
        thumb = _jpeg(_thumbnail(image), THUMB_QUALITY)
    return Processed(hashlib.sha256(photo).hexdigest(), photo, thumb, image.width, image.height)


def _orientation(image):
    """The EXIF orientation (1-8), or 1 when there is none or the EXIF block is damaged."""
    try:
        with warnings.catch_warnings():
            # Pillow warns once per bad tag, each with its own text: 65,535 log lines for a crafted block.
            warnings.simplefilter("ignore", UserWarning)
            value = image.getexif().get(ORIENTATION_TAG, 1)
    except (SyntaxError, ValueError, struct.error, KeyError, TypeError, OSError):
        return 1  # a damaged EXIF block must not stop the photo: keep it as it is
    return value if value in _UPRIGHT else 1


def _displayable(image, long_edge):
    """A loaded image -> mode RGB, L or CMYK, alpha laid on white, less than 2x the long edge.

    A big PNG or WebP is converted and reduced by a whole factor one strip at a time, so no second
    full-size image is ever made (a 50 MP RGBA image is 200 MB once; converting it whole would double that).
    """
    factor = max(1, max(image.size) // long_edge)  # as draft(): the resize after it is at most 2x
    if factor == 1:
        return _plain(image)
    width, height = image.size
    rows = max(factor, STRIP_PIXELS // width // factor * factor)
    out = None
    for top in range(0, height, rows):
        strip = _plain(image.crop((0, top, width, min(height, top + rows)))).reduce(factor)
        if out is None:
            out = Image.new(strip.mode, (math.ceil(width / factor), math.ceil(height / factor)))
        out.paste(strip, (0, top // factor))
    return out


def _plain(image):
    """Any mode Pillow gives for our formats -> RGB, L or CMYK (kept for its colour profile)."""
    mode = image.mode
    if mode in ("RGB", "L", "CMYK"):
        return image
    if mode.startswith("I"):  # 16-bit greyscale PNG: 0..65535 -> 0..255 (convert("L") would clip at 255: white)
        if mode not in ("I", "I;16"):  # the modes point() can scale
            image = image.convert("I")
        return image.point(lambda value: value / 256).convert("L")
    if mode == "1":
        return image.convert("L")
    if mode in ("RGBA", "LA", "PA") or image.has_transparency_data:
        grey = mode in ("LA", "L")
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat.convert("L") if grey else flat
    return image.convert("RGB")


_transforms = {}  # (SHA-256 of the profile, mode) -> transform or None; least recently used first
_transforms_lock = threading.Lock()


def _srgb_transform(profile, mode):
    """An embedded ICC profile's bytes and the image mode -> an ImageCms transform to sRGB, or None.

    None when the profile is over MAX_ICC_BYTES, unreadable or describes another colour space than the
    pixels (then the pixels are taken as sRGB, as browsers do), and when it is sRGB itself: a probe of
    125 colours comes back within 1 of where it went in (most Android phones embed sRGB; the transform
    costs ~11 ns a pixel, 22 ms for a stored photo). Cached, TRANSFORM_CACHE at most, by the profile's
    digest (a transform holds no copy of its source profile): phones embed the same few profiles.
    """
    if len(profile) > MAX_ICC_BYTES:
        return None  # not parsed, not hashed, not cached
    key = (hashlib.sha256(profile).digest(), mode)
    with _transforms_lock:
        if key in _transforms:
            _transforms[key] = _transforms.pop(key)  # now the most recently used
            return _transforms[key]
    transform = _build_transform(profile, mode)  # outside the lock: two threads may both build it
    with _transforms_lock:
        _transforms[key] = transform
        while len(_transforms) > TRANSFORM_CACHE:
            del _transforms[next(iter(_transforms))]
    return transform


def _build_transform(profile, mode):
    spaces = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK"}
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if source.profile.xcolor_space.strip() != spaces[mode]:
            return None
        transform = ImageCms.buildTransform(source, _SRGB, mode, "RGB")
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        return None  # a damaged profile must not stop the photo
    if mode == "RGB":
        diff = ImageChops.difference(ImageCms.applyTransform(_PROBE, transform), _PROBE)
        if max(high for _low, high in diff.getextrema()) <= 1:
            return None
    return transform


_SRGB = ImageCms.createProfile("sRGB")
# 5 x 5 x 5 colours over the cube, for telling an sRGB profile from the rest.
_PROBE = Image.frombytes("RGB", (125, 1), bytes(channel for r in range(0, 256, 63) for g in range(0, 256, 63)
                                                  for b in range(0, 256, 63) for channel in (r, g, b)))


def _to_srgb(image, profile):
    """The pixels as sRGB RGB or L: through the embedded profile, else as they are (taken as sRGB)."""
    if profile and image.mode in ("RGB", "L", "CMYK"):
        transform = _srgb_transform(profile, image.mode)
        if transform is not None:
            image = ImageCms.applyTransform(image, transform)
    if image.mode == "CMYK":
        image = image.convert("RGB")
    return image


def _fit_width(size, target):
    width, height = size
    return target, max(1, round(height * target / width))


def _thumbnail(image):
    """About THUMB_WIDTH wide: a box reduction by a whole factor (cheap), then a small exact step."""
    if image.width <= THUMB_WIDTH:
        return image
    factor = image.width // THUMB_WIDTH
    small = image.reduce(factor) if factor > 1 else image
    return small.resize(_fit_width(small.size, THUMB_WIDTH), Image.Resampling.BILINEAR)


def _jpeg(image, quality):
    out = io.BytesIO()
    # No exif=, icc_profile=, xmp= or comment=, and image.info is empty: nothing from the phone's file
    # (GPS, serial numbers, comments) is kept. The pixels are sRGB, which a JPEG without a profile means.
    # Baseline JPEG with standard tables: optimize=True saves ~5% of the bytes for ~40% more encoding
    # time, progressive three times the time; photos are already far under the size target.
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- storage (fieldapp/storage.py: a local folder or an S3 bucket) -------------------------------------

def save(store, processed):
    """Store the photo and its thumbnail (the thumbnail first: a photo never exists without it) in `store`
    (a fieldapp.storage store); returns the digest. StorageUnavailable / OSError(ENOSPC) pass through."""
    store.put(processed.digest, processed.thumb, thumb=True)
    store.put(processed.digest, processed.photo)
    return processed.digest


def store(target, stream):
    """An uploaded file stream -> the stored photo's Processed record (PhotoError for bad input)."""
    processed = process(read_limited(stream))
    save(target, processed)
    return processed
