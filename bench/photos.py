"""The app's photo pipeline beside the naive one, on a realistic 12-megapixel phone JPEG.

    python bench/photos.py [--runs 7]

Makes a 4032x3024 JPEG (quality 92, EXIF orientation 6 as a phone held upright writes it, a GPS
block), then for each pipeline prints the median time, the peak memory (each pipeline runs in its
own fresh process; Linux VmHWM after resetting it), the output size and the PSNR against a
high-quality reference (full decode, upright, Lanczos to 1600 px, no compression).

Targets (issue 4): app >= 2.5x faster than naive, PSNR within 0.5 dB of naive's, output <= 400 KB,
peak memory <= half of naive's.

Then the worst uploads (issue 14): files built to cost the most within the 15 MB / 50 MP limits, each
run through the app's pipeline in a fresh process, printing its CPU seconds (user + system), its peak
memory above what was there before, and whether it was stored or refused (and why). Then whole report
requests (up to MAX_PHOTOS photos decoded in one request with one photos.Budget, as
reports.service.create_report does), with the same figures.
Target: none over 2 s of CPU or 300 MB. `--attacks-only` skips the normal photo.
"""
import argparse
import functools
import io
import math
import multiprocessing
import random
import re
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldapp import photos  # noqa: E402

WIDTH, HEIGHT = 4032, 3024

# Each costly file is processed in a process of its own, forked from a server that has imported this module (Pillow
# and the app's photos) once. Started from nothing, each such process spent ~0.8 s of CPU on imports, which its
# figures leave out anyway; forked, its CPU and peak memory are counted from the fork in the same way.
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload([__spec__.name if __spec__ else "__main__"])  # run as a script: itself


def _send_result(connection, function, args):
    connection.send(function(*args))
    connection.close()


def in_fresh_process(function, *args, timeout=600):
    """function(*args) -> its result, run in a new process forked from the server (multiprocessing's forkserver).

    function and args must pickle (module-level functions, paths). Raises TimeoutError after `timeout` seconds
    (the process is killed) and EOFError when the process ends without an answer.
    """
    receive, send = _FORKS.Pipe(duplex=False)
    process = _FORKS.Process(target=_send_result, args=(send, function, args))
    process.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise TimeoutError(f"{function.__name__} took over {timeout} s")
        return receive.recv()
    finally:
        receive.close()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()


def phone_photo(seed=7):
    """A building-site-like scene: sky gradient, concrete, scaffolding, rebar, sensor noise."""
    rng = random.Random(seed)
    sky = Image.linear_gradient("L").resize((WIDTH, HEIGHT)).convert("RGB")
    sky = ImageChops.multiply(sky, Image.new("RGB", (WIDTH, HEIGHT), (150, 190, 235)))
    image = ImageChops.invert(sky)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HEIGHT * 0.55, WIDTH, HEIGHT), fill=(128, 124, 118))  # concrete deck
    for _ in range(400):  # gravel, boards, formwork
        x, y = rng.randrange(WIDTH), rng.randrange(int(HEIGHT * 0.55), HEIGHT)
        w, h = rng.randrange(20, 400), rng.randrange(10, 120)
        shade = rng.randrange(60, 200)
        draw.rectangle((x, y, x + w, y + h), fill=(shade, shade - rng.randrange(0, 30), shade - rng.randrange(0, 50)))
    for i in range(0, WIDTH, 160):  # scaffolding
        draw.line((i, HEIGHT * 0.1, i + rng.randrange(-40, 40), HEIGHT * 0.6), fill=(200, 200, 205), width=14)
    for j in range(int(HEIGHT * 0.1), int(HEIGHT * 0.6), 220):
        draw.line((0, j, WIDTH, j + rng.randrange(-30, 30)), fill=(180, 180, 190), width=10)
    for _ in range(150):  # rebar
        x, y = rng.randrange(WIDTH), rng.randrange(int(HEIGHT * 0.6), HEIGHT)
        draw.line((x, y, x + rng.randrange(-600, 600), y + rng.randrange(-80, 80)), fill=(110, 60, 35), width=6)
    draw.ellipse((2600, 1900, 3100, 2400), fill=(255, 176, 0))  # a hard hat left on the deck
    noise = Image.effect_noise((WIDTH, HEIGHT), 18).convert("RGB")
    image = Image.blend(image.filter(ImageFilter.GaussianBlur(0.8)), noise, 0.2)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to view (phone held upright)
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    exif[0x8825] = {1: "N", 2: (59.0, 54.0, 50.0), 3: "E", 4: (10.0, 45.0, 10.0)}  # GPS: must not survive
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def naive(data):
    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image)
    image.thumbnail((photos.LONG_EDGE, photos.LONG_EDGE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=photos.QUALITY)
    return out.getvalue()


def app(data):
    return photos.process(data).photo


def reference(data):
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    return image.resize(photos.fit(image.size, photos.LONG_EDGE), Image.Resampling.LANCZOS)


def psnr(output, ref):
    image = Image.open(io.BytesIO(output)).convert("RGB")
    if image.size != ref.size:
        image = image.resize(ref.size, Image.Resampling.LANCZOS)
    histogram = ImageChops.difference(image, ref).histogram()
    squares = sum(count * (value % 256) ** 2 for value, count in enumerate(histogram))
    mse = squares / (ref.size[0] * ref.size[1] * 3)
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def _vm(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    raise RuntimeError(field)


def peak_memory_child(name, path):
    """Run in a fresh process: the pipeline's peak resident memory above what was there before (MB)."""
    data = Path(path).read_bytes()
    pipeline = {"naive": naive, "app": app}[name]
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    before = _vm("VmRSS")
    pipeline(data)
    return (_vm("VmHWM") - before) / 1024


def peak_memory(name, path):
    result = subprocess.run([sys.executable, __file__, "--memory", name, str(path)], capture_output=True,
                            text=True, timeout=120, check=True)
    return float(result.stdout.strip())


# --- the worst uploads ----------------------------------------------------------------------------

def _jpeg_scan_blocks(data):
    """(end of the header part, [(start, end) of each scan with the DHT just before it]) of a JPEG."""
    entropy_end = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")  # a marker, not stuffing or a restart
    scans, pos, previous = [], 2, None
    while data[pos + 1] != 0xD9:
        marker = data[pos + 1]
        end = pos + 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker == 0xDA:
            end = entropy_end.search(data, end).start()
            scans.append((previous if data[previous + 1] == 0xC4 else pos, end))
        previous, pos = pos, end
    return scans


def many_scans_jpeg(size=(7000, 7000), scans=10_000):
    """A flat progressive JPEG whose second scan (the luma band 1-5, a few bytes) is repeated `scans` times."""
    out = io.BytesIO()
    Image.new("RGB", size, (120, 130, 140)).save(out, "JPEG", progressive=True, quality=90)
    data = out.getvalue()
    blocks = _jpeg_scan_blocks(data)
    start, end = blocks[1]
    return data[:end] + data[start:end] * (scans - len(blocks)) + data[end:]


@functools.cache  # bytes, never changed: the 7000x7000 file took 0.45 s of zlib each time a test asked for it
def png(width, height, row, filter_type=4, depth=8, interlaced=False):
    """An RGBA PNG of identical pixels `row` (one pixel's bytes), each row with `filter_type` (4: Paeth,
    the dearest to undo), optionally Adam7-interlaced (seven passes, each a small image of its own)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    images = [(-(-(width - x) // dx), -(-(height - y) // dy)) for x, y, dx, dy in passes] if interlaced else \
        [(width, height)]
    packer = zlib.compressobj(9)
    pieces = []
    for pass_width, pass_height in images:
        if pass_width < 1 or pass_height < 1:
            continue
        line = bytes([filter_type]) + row * pass_width
        lines_per_piece = max(1, (1 << 22) // len(line))
        pieces += [packer.compress(line * min(lines_per_piece, pass_height - y))
                   for y in range(0, pass_height, lines_per_piece)]
    idat = b"".join(pieces) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, depth, 6, 0, 0, int(interlaced))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _padded_jpeg(segment):
    """A small JPEG with `segment` repeated before its frame up to 15 MB: Pillow parses each in Python."""
    small = encoded(Image.new("RGB", (64, 64), "red"), "JPEG")
    return small[:2] + segment * ((photos.MAX_BYTES - len(small)) // len(segment)) + small[2:]


def _padded_png():
    """A small PNG with empty ancillary chunks before its pixels up to 15 MB."""
    small = encoded(Image.new("RGB", (64, 64), "red"), "PNG")
    empty = struct.pack(">I", 0) + b"abCd" + struct.pack(">I", zlib.crc32(b"abCd"))
    return small[:33] + empty * ((photos.MAX_BYTES - len(small)) // len(empty)) + small[33:]


def broken_exif(tags):
    """An EXIF block whose IFD0 has `tags` entries, each pointing past its end: Pillow warns for each."""
    end = 8 + 2 + 12 * tags + 4
    entries = b"".join(struct.pack("<HHII", 0x1000 + i % 60_000, 4, 60, end) for i in range(tags))
    return b"Exif\0\0II*\0" + struct.pack("<IH", 8, tags) + entries + b"\0" * 4


def noisy(size, mode="RGB"):
    """Sensor-like noise: the dearest content to code and decode, for its file size."""
    noise = Image.effect_noise(size, 60)
    return noise if mode == "L" else Image.merge(mode, [noise] * len(mode))


def encoded(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def attacks():
    """(name, bytes) of the worst uploads within the limits we take: 15 MB and 50 megapixels."""
    big = (8160, 6120)  # 49.9 MP
    yield "progressive JPEG, 10,000 empty scans", many_scans_jpeg()
    yield f"progressive JPEG, {photos.MAX_SCANS} scans", many_scans_jpeg(scans=photos.MAX_SCANS)
    yield "JPEG, 15 MB of empty COM segments", _padded_jpeg(b"\xff\xfe\x00\x02")
    yield "JPEG, 15 MB of 0xFF fill before its frame", _padded_jpeg(b"\xff")
    yield "PNG, 15 MB of empty unknown chunks", _padded_png()
    yield "WebP, EXIF of 65,535 broken tags", encoded(Image.new("RGB", (64, 64)), "WEBP", exif=broken_exif(65_535))
    yield "PNG 1 x 50,000,000 px", png(1, 50_000_000, b"\0\0\0\xff")
    yield "PNG 7000x7000 RGBA, Paeth rows", png(7000, 7000, b"\x10\x20\x30\x80")
    yield "PNG 7000x7000 RGBA 16-bit, Paeth rows", png(7000, 7000, b"\x10\x20\x30\x80" * 2, depth=16)
    yield "PNG 5000x5000 RGBA 16-bit, Paeth rows", png(5000, 5000, b"\x10\x20\x30\x80" * 2, depth=16)
    yield "PNG 7000x7000 RGBA, interlaced", png(7000, 7000, b"\x10\x20\x30\x80", interlaced=True)
    yield "WebP 7000x7000 lossless RGBA", encoded(Image.new("RGBA", (7000, 7000), (9, 99, 199, 128)), "WEBP",
                                                   lossless=True)
    side = math.isqrt(photos.MAX_WEBP_PIXELS)
    yield f"WebP {side}x{side} noisy, lossy", encoded(noisy((side, side)), "WEBP", quality=90)
    yield f"WebP {side}x{side} RGBA lossless", encoded(noisy((side, side), "RGBA"), "WEBP", lossless=True)
    yield "JPEG 50 MP baseline, noisy, 15 MB", _fill_15_mb(noisy(big), progressive=False)
    yield "JPEG 50 MP progressive, noisy", _fill_15_mb(noisy(big), progressive=True)
    yield "JPEG 50 MP progressive 4:4:4", encoded(Image.new("RGB", big, "grey"), "JPEG", progressive=True,
                                                  subsampling=0)
    yield "JPEG 20 MP progressive 4:4:4, noisy", _fill_15_mb(noisy((5472, 3648)), progressive=True, subsampling=0)
    yield "JPEG 12 MP CMYK progressive, noisy", _fill_15_mb(noisy((4032, 3024), "CMYK"), progressive=True)


def _fill_15_mb(image, **options):
    """The highest quality that keeps the file within MAX_BYTES: the most data to decode."""
    for quality in (90, 80, 70, 60, 50, 40, 30):
        data = encoded(image, "JPEG", quality=quality, **options)
        if len(data) <= photos.MAX_BYTES:
            return data
    raise AssertionError("noise too dear even at quality 30")


def attack_child(path):
    """In a fresh process: (CPU seconds, peak MB above the start, outcome) of processing one file."""
    data = Path(path).read_bytes()
    Path("/proc/self/clear_refs").write_text("5")
    before = _vm("VmRSS")
    start = resource.getrusage(resource.RUSAGE_SELF)
    try:
        out = photos.process(data)
        outcome = f"stored {out.width}x{out.height}"
    except photos.PhotoError as exc:
        outcome = f"refused: {exc.reason}"
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = end.ru_utime - start.ru_utime + end.ru_stime - start.ru_stime
    return f"{cpu:.3f} {(_vm('VmHWM') - before) / 1024:.1f} {outcome}"


def report_requests():
    """(name, [bytes]) of the dearest report requests: several photos, each within the limits."""
    paeth = png(7000, 7000, b"\x10\x20\x30\x80")
    yield "report of 6 x PNG 7000x7000 RGBA, Paeth", [paeth] * 6
    yield "report of 6 x JPEG 50 MP progressive", [_fill_15_mb(noisy((8160, 6120)), progressive=True)] * 6


def request_child(paths):
    """In a fresh process: (CPU seconds, peak MB, outcomes) of one report request's photos, decoded in
    order with one Budget as reports.service.create_report does."""
    blobs = [Path(path).read_bytes() for path in paths]
    Path("/proc/self/clear_refs").write_text("5")
    before = _vm("VmRSS")
    start = resource.getrusage(resource.RUSAGE_SELF)
    budget, outcomes = photos.Budget(), []
    for data in blobs:
        try:
            out = photos.process(data, budget=budget)
            outcomes.append(f"{out.width}x{out.height}")
        except photos.PhotoError as exc:
            outcomes.append(exc.reason)
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = end.ru_utime - start.ru_utime + end.ru_stime - start.ru_stime
    return f"{cpu:.3f} {(_vm('VmHWM') - before) / 1024:.1f} {','.join(outcomes)}"


def request_cost(blobs):
    """(CPU seconds, peak MB, [outcome of each photo]) of one report request's photos, in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for number, data in enumerate(blobs):
            paths.append(Path(folder) / f"{number}.bin")
            paths[-1].write_bytes(data)
        result = in_fresh_process(request_child, [str(path) for path in paths])
    cpu, memory, outcomes = result.split(" ", 2)
    return float(cpu), float(memory), outcomes.split(",")


def worst_uploads():
    """Print one line per attack; True when all stay within 2 s of CPU and 300 MB."""
    print(f"worst uploads (limits {photos.MAX_BYTES // 2**20} MB, {photos.MAX_PIXELS // 10**6} MP; "
          "target <= 2 s CPU, <= 300 MB):")
    worst_cpu = worst_memory = 0.0
    for name, data in attacks():
        with tempfile.NamedTemporaryFile(suffix=".bin") as handle:
            handle.write(data)
            handle.flush()
            result = in_fresh_process(attack_child, handle.name)
        cpu, memory, outcome = result.split(" ", 2)
        worst_cpu, worst_memory = max(worst_cpu, float(cpu)), max(worst_memory, float(memory))
        print(f"  {name:42} {len(data) / 2**20:5.1f} MB   CPU {float(cpu):6.2f} s   "
              f"peak memory {float(memory):6.1f} MB   {outcome}")
    for name, blobs in report_requests():
        cpu, memory, outcomes = request_cost(blobs)
        worst_cpu, worst_memory = max(worst_cpu, cpu), max(worst_memory, memory)
        kept = sum(outcome != "budget" for outcome in outcomes)
        print(f"  {name:42} {sum(map(len, blobs)) / 2**20:5.1f} MB   CPU {cpu:6.2f} s   "
              f"peak memory {memory:6.1f} MB   stored {kept}, left out for the budget {len(blobs) - kept}")
    ok = worst_cpu <= 2 and worst_memory <= 300
    print(f"{'met ' if ok else 'MISS'}  worst upload: {worst_cpu:.2f} s CPU, {worst_memory:.0f} MB "
          "(target <= 2 s, <= 300 MB)")
    return ok


def timed(pipeline, data, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        pipeline(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--attacks-only", action="store_true", help="only the worst uploads")
    parser.add_argument("--memory", nargs=2, metavar=("PIPELINE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--attack", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--request", nargs="+", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        print(f"{peak_memory_child(*args.memory):.1f}")
        return 0
    if args.attack:
        print(attack_child(args.attack))
        return 0
    if args.request:
        print(request_child(args.request))
        return 0
    if args.attacks_only:
        return 0 if worst_uploads() else 1
    data = phone_photo()
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as handle:
        handle.write(data)
        path = Path(handle.name)
    try:
        ref = reference(data)
        print(f"input: {WIDTH}x{HEIGHT} JPEG, {len(data) / 1024:.0f} KB, EXIF orientation 6; {args.runs} runs each")
        results = {}
        for name, pipeline in (("naive", naive), ("app", app)):
            pipeline(data)  # warm up
            output = pipeline(data)
            size = Image.open(io.BytesIO(output)).size
            results[name] = dict(time=timed(pipeline, data, args.runs), memory=peak_memory(name, path),
                                 size=len(output), psnr=psnr(output, ref), dims=size)
        for name, r in results.items():
            print(f"{name:6} median {r['time'] * 1000:7.1f} ms   peak memory {r['memory']:6.1f} MB   "
                  f"output {r['size'] / 1024:6.1f} KB {r['dims'][0]}x{r['dims'][1]}   PSNR {r['psnr']:.2f} dB")
        n, a = results["naive"], results["app"]
        speedup = n["time"] / a["time"]
        checks = [
            (f"speed-up {speedup:.2f}x (target >= 2.5x)", speedup >= 2.5),
            (f"PSNR {a['psnr'] - n['psnr']:+.2f} dB against naive (target >= -0.5 dB)", a["psnr"] >= n["psnr"] - 0.5),
            (f"output {a['size'] / 1024:.0f} KB (target <= 400 KB)", a["size"] <= 400 * 1024),
            (f"peak memory {a['memory'] / n['memory']:.2f} of naive's (target <= 0.5)", a["memory"] <= n["memory"] / 2),
        ]
        for text, ok in checks:
            print(f"{'met ' if ok else 'MISS'}  {text}")
        attacks_ok = worst_uploads()
        return 0 if attacks_ok and all(ok for _t, ok in checks) else 1
    finally:
        path.unlink()


if __name__ == "__main__":
    sys.exit(main())
