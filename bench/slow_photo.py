"""A hazard report with a 12 MP photo from a phone on a weak link: time from the tap on send until it is stored.

Serves the app with gunicorn as the Procfile does (4 workers x 8 threads; --proxy: Caddy from deploy/ in front,
the app believing its X-Forwarded-* as deployed). Makes a 4000 x 3000 JPEG with detail at two scales (about
5 MB), signs in in Debian's chromium (Playwright, 360 x 780), opens the real report form, chooses the photo in
its file input, picks a category and taps send, on a link emulated by CDP (Network.emulateNetworkConditions:
750 kbit/s up, 3 Mbit/s down, 150 ms latency). The browser re-encodes the photo first (static/js/outbox.js:
JPEG, long edge 1600 px); the bench polls the database until the report and its photo are stored.
Prints the seconds from the tap to stored (and to when the post left: the re-encode), the bytes the phone sent up (request body) against the file's size,
and the photo the server kept. Target (issue 22): under 6 s.
Usage: python bench/slow_photo.py [--port 5512] [--proxy] [--runs 3] [--up-kbit 750] [--latency-ms 150]
"""
import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import prepare, stop, wait_up  # noqa: E402

PIN = "482913"
PHONE = "+4790000001"  # the manager bench.pages.prepare makes


def twelve_megapixels(path):
    """A 4000 x 3000 JPEG (quality 85) a phone camera could have made: a scene with shapes and fine grain."""
    from PIL import Image, ImageDraw

    width, height = 4000, 3000
    scene = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(scene)
    for i in range(40):  # scaffolding, boards: edges the resize must keep
        x = (i * 397) % width
        draw.rectangle([x, (i * 211) % height, x + 60 + i * 7, height], fill=(40 + i * 5, 90, 160 - i * 3))
    coarse = Image.effect_noise((width // 8, height // 8), 80).resize((width, height), Image.BICUBIC)
    grain = Image.effect_noise((width, height), 60)
    image = Image.blend(Image.blend(scene, coarse.convert("RGB"), 0.45), grain.convert("RGB"), 0.3)
    image.save(path, "JPEG", quality=85)
    return path


def stored_photos(database_path):
    with sqlite3.connect(database_path, timeout=5) as db:
        return db.execute("SELECT COUNT(*) FROM photo").fetchone()[0]


def kept_photo(database_path):
    with sqlite3.connect(database_path, timeout=5) as db:
        return db.execute("SELECT width, height FROM photo ORDER BY id DESC LIMIT 1").fetchone()


def run(base_url, site_id, photo, database_path, runs, up_kbit, down_kbit, latency_ms):
    from playwright.sync_api import sync_playwright

    results = []
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-first-run", "--ignore-certificate-errors"])
        context = browser.new_context(viewport={"width": 360, "height": 780}, device_scale_factor=3, is_mobile=True,
                                      has_touch=True, locale="nb-NO", ignore_https_errors=True)
        page = context.new_page()
        page.goto(base_url + "/sign-in")
        page.fill("input[name=phone]", PHONE)
        page.fill("input[name=secret]", PIN)
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        if "/welcome/language" in page.url:
            with page.expect_navigation():
                page.click("#confirm-language")
        uploads, posts = [], set()  # Content-Length of the report posts, as sent on the wire (CDP)
        cdp = context.new_cdp_session(page)
        began = []  # when the post left (after the browser's re-encode): monotonic seconds

        def will_be_sent(event):
            if event["request"]["method"] == "POST" and "/reports/new" in event["request"]["url"]:
                posts.add(event["requestId"])
                began.append(time.monotonic())

        cdp.on("Network.requestWillBeSent", will_be_sent)
        cdp.on("Network.requestWillBeSentExtraInfo", lambda e: e["requestId"] in posts and uploads.append(
            int({k.lower(): v for k, v in e["headers"].items()}.get("content-length", 0))))
        cdp.send("Network.enable")
        for _ in range(runs):
            page.goto(f"{base_url}/s/{site_id}/reports/new")
            page.evaluate("() => new Promise(r => { const t = () => window.fieldappOutbox ? r(true) : "
                          "setTimeout(t, 50); t(); })")
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": latency_ms, "uploadThroughput": up_kbit * 1000 / 8,
                "downloadThroughput": down_kbit * 1000 / 8})
            page.set_input_files(".photo-pick input[capture]", str(photo))
            page.wait_for_selector(".previews img.preview")
            page.click("label.choice:has(input[value=falling_objects])")
            before = stored_photos(database_path)
            uploads.clear()
            began.clear()
            tapped = time.monotonic()
            page.click("button.send")
            deadline = tapped + 120
            while stored_photos(database_path) == before:
                if time.monotonic() > deadline:
                    raise RuntimeError("the report was not stored within 120 s")
                page.wait_for_timeout(20)  # lets Playwright deliver the CDP events meanwhile
            seconds = time.monotonic() - tapped
            page.wait_for_selector(".outbox-item.state-sent", timeout=30000)
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": 0, "uploadThroughput": -1, "downloadThroughput": -1})
            results.append((seconds, began[0] - tapped if began else float("nan"), sum(uploads),
                            kept_photo(database_path)))
        browser.close()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5512)
    parser.add_argument("--proxy", action="store_true", help="Caddy (deploy/Caddyfile.pilot) in front, port+10")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--up-kbit", type=int, default=750)
    parser.add_argument("--down-kbit", type=int, default=3000)
    parser.add_argument("--latency-ms", type=int, default=150)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="fieldapp-photo-")
    proxy = None
    try:
        _cookie, site_id = prepare(instance)
        photo = twelve_megapixels(Path(instance, "IMG_20261130_081500.jpg"))
        env = {**os.environ, "FIELDAPP_INSTANCE": instance, "FIELDAPP_LOCAL_DEV": "1"}
        if args.proxy:
            env["FIELDAPP_TRUSTED_PROXIES"] = "1"
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "4", "--threads", "8",
                                   "--worker-class", "gthread", "--log-level", "warning", "--bind",
                                   f"127.0.0.1:{args.port}", "fieldapp:create_app()"], cwd=ROOT, env=env,
                                  start_new_session=True)
        try:
            base_url = f"http://127.0.0.1:{args.port}"
            wait_up(base_url + "/healthz")
            if args.proxy:
                from bench.proxy import caddy

                proxy, base_url = caddy(args.port, args.port + 10, instance)
            results = run(base_url, site_id, photo, Path(instance, "fieldapp.db"), args.runs, args.up_kbit,
                          args.down_kbit, args.latency_ms)
        finally:
            if proxy:
                stop(proxy)
            stop(server)
        size = photo.stat().st_size
        print(f"report with a 12 MP photo ({size / 1e6:.2f} MB, 4000 x 3000) via {base_url} "
              f"({'Caddy in front' if proxy else 'gunicorn directly'}), link {args.up_kbit} kbit/s up, "
              f"{args.down_kbit} kbit/s down, {args.latency_ms} ms latency, chromium at 360 px")
        for seconds, shrinking, sent, (width, height) in results:
            print(f"  tap on send -> stored: {seconds:5.2f} s (post left after {shrinking:4.2f} s)   "
                  f"sent up {sent / 1000:6.1f} KB "
                  f"({100 * sent / size:4.1f}% of the file)   kept {width} x {height}")
        print(f"  median {statistics.median(r[0] for r in results):.2f} s (target < 6 s)")
    finally:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
