"""Photos from phones: sniffed, bounded, shrunk while decoding, turned upright, stripped, stored by hash.

Every feature that takes photos goes through `store()`. The stored files live in the instance folder
(never under static/) and are served by views that check the person's role on the record's site.
"""
import hashlib
import io
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

FORMATS = ("JPEG", "PNG", "WEBP")
MAX_BYTES = 15 * 1024 * 1024  # a 50 MP phone JPEG; the browser usually sends ~0.5 MB
MAX_PIXELS = 50_000_000
LONG_EDGE = 1600
THUMB_WIDTH = 320
QUALITY = 80
THUMB_QUALITY = 70
# Draft decoding leaves at most a 2x step to the long edge; Hamming keeps it sharp at half Lanczos's cost.
RESAMPLE = Image.Resampling.HAMMING

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


class PhotoError(Exception):
    """The upload is not a photo we take; `reason` picks the message shown to the person."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Processed:
    digest: str  # sha256 of the stored photo: its name
    photo: bytes
    thumb: bytes
    width: int
    height: int


def read_limited(stream, limit=None):
    """The upload's bytes, refusing more than `limit` (MAX_BYTES) without reading them all."""
    limit = MAX_BYTES if limit is None else limit
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PhotoError("too_big")
    if not data:
        raise PhotoError("empty_file")
    return data


def fit(size, long_edge, rounding=round):
    """(width, height) scaled so that the long edge is long_edge, keeping the photo's aspect ratio.

    With rounding=math.ceil it is a box for draft(), which keeps both sides at least that large.
    """
    width, height = size
    scale = long_edge / max(width, height)
    return max(1, rounding(width * scale)), max(1, rounding(height * scale))


def process(data, long_edge=LONG_EDGE):
    """Bytes of an uploaded photo -> Processed (upright JPEG without metadata, and its thumbnail)."""
    if not data:
        raise PhotoError("empty_file")
    try:
        with warnings.catch_warnings():
            # Our own, lower limit is checked below with a clear message; Pillow's warning is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise PhotoError("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError("not_image") from None
    with source:
        width, height = source.size
        # Checked from the header, before a single pixel is decoded.
        if width * height > MAX_PIXELS or width < 1 or height < 1:
            raise PhotoError("too_many_pixels")
        try:
            orientation = source.getexif().get(ORIENTATION_TAG, 1)
        except Exception:  # a damaged EXIF block must not stop the photo: keep it as it is
            orientation = 1
        if source.format == "JPEG" and max(width, height) > long_edge:
            # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: a fraction of the time and memory.
            source.draft("RGB", fit((width, height), long_edge, math.ceil))
        try:
            source.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise PhotoError("damaged") from None
        image = source
        if image.mode not in ("RGB", "L"):
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                image = Image.new("RGB", rgba.size, "white")
                image.paste(rgba, mask=rgba.getchannel("A"))
            else:
                image = image.convert("RGB")
        # Resize before turning upright: the long edge is the same either way, and it is cheaper.
        if max(image.size) > long_edge:
            image = image.resize(fit(image.size, long_edge), RESAMPLE)
        for step in _UPRIGHT.get(orientation, ()):
            image = image.transpose(step)
        photo = _jpeg(image, QUALITY)
        thumb = _jpeg(_thumbnail(image), THUMB_QUALITY)
    return Processed(hashlib.sha256(photo).hexdigest(), photo, thumb, image.width, image.height)


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
    # No exif=, icc_profile= or comment: nothing from the phone's file (GPS, serial numbers) is kept.
    # Baseline JPEG with standard tables: optimize=True saves ~5% of the bytes for ~40% more encoding
    # time, progressive three times the time; photos are already far under the size target.
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- storage --------------------------------------------------------------------------------------

def folder(app):
    return Path(app.instance_path) / "uploads"


def path_for(root, digest, thumb=False):
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a photo name")
    return Path(root) / digest[:2] / (digest + ("_t" if thumb else "") + ".jpg")


def _write_atomically(path, data):
    """Write to a temporary file beside the target, flush it to disk, then rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return  # named by content: the same photo is already there
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def save(root, processed):
    """Store the photo and its thumbnail under the instance folder; returns the digest."""
    _write_atomically(path_for(root, processed.digest, thumb=True), processed.thumb)
    _write_atomically(path_for(root, processed.digest), processed.photo)
    return processed.digest


def store(root, stream):
    """An uploaded file stream -> the stored photo's Processed record (PhotoError for bad input)."""
    processed = process(read_limited(stream))
    save(root, processed)
    return processed
