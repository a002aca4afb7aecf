"""The app's photo pipeline beside the naive one, on a realistic 12-megapixel phone JPEG.

    python bench/photos.py [--runs 7]

Makes a 4032x3024 JPEG (quality 92, EXIF orientation 6 as a phone held upright writes it, a GPS
block), then for each pipeline prints the median time, the peak memory (each pipeline runs in its
own fresh process; Linux VmHWM after resetting it), the output size and the PSNR against a
high-quality reference (full decode, upright, Lanczos to 1600 px, no compression).

Targets (issue 4): app >= 2.5x faster than naive, PSNR within 0.5 dB of naive's, output <= 400 KB,
peak memory <= half of naive's.
"""
import argparse
import io
import math
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldapp import photos  # noqa: E402

WIDTH, HEIGHT = 4032, 3024


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
    parser.add_argument("--memory", nargs=2, metavar=("PIPELINE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        print(f"{peak_memory_child(*args.memory):.1f}")
        return 0
    import tempfile

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
        return 0 if all(ok for _t, ok in checks) else 1
    finally:
        path.unlink()


if __name__ == "__main__":
    sys.exit(main())
