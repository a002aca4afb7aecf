"""Six phones uploading a 0.7 MB photo at 64 KB/s, and a seventh loading a signed-in page: its p99.

Serves the app with gunicorn as the Procfile does (4 workers x 8 threads, or another --workers/--threads),
or measures a server at --url, or puts Caddy from deploy/ in front (--proxy: the app then believes its
X-Forwarded-* as deployed, FIELDAPP_TRUSTED_PROXIES=1). Six raw-socket clients send a report with a 0.7 MB
photo at 64 KB/s (about 10 s each) as the form does (CSRF token, the browser's Referer and Origin);
meanwhile a seventh client loads the signed-in home page one request after another on one kept-alive
connection, as a phone's browser does. Prints p50/p99/max of that page, with and without the uploads, and
how many uploads the server stored (a 303 to the new report's page). Target (issue 22): p99 < 300 ms.
Usage: python bench/slow_clients.py [--threads 8] [--workers 4] [--port 5511] [--proxy] [--url URL]
"""
import argparse
import http.client
import io
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import prepare, stop, wait_up  # noqa: E402

RATE = 64 * 1024  # bytes per second, each upload
PHOTO_BYTES = 700_000
UPLOADS = 6


def photo():
    from PIL import Image

    for side in range(1600, 400, -100):  # noise: the largest that stays within PHOTO_BYTES
        out = io.BytesIO()
        Image.effect_noise((side, side * 3 // 4), 40).convert("RGB").save(out, "JPEG", quality=80)
        if out.tell() <= PHOTO_BYTES:
            return out.getvalue()
    return out.getvalue()


def connect(url):
    parts = urllib.parse.urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        sock = context.wrap_socket(sock, server_hostname=parts.hostname)
    return sock, parts.netloc


def request(url, path, cookie, method="GET", body=b"", headers=(), rate=None):
    """One HTTP/1.1 request on a new connection; returns (status, body). rate: bytes/s for the body."""
    sock, host = connect(url)
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Cookie: {cookie}", "Connection: close",
f"Content-Length: {len(body)}", *headers, "", ""]
        sock.sendall("\r\n".join(head).encode())
        chunk = max(1, (rate or len(body) or 1) // 8)
        for start in range(0, len(body), chunk):
            sock.sendall(body[start:start + chunk])
            if rate:
                time.sleep(chunk / rate)
        data = b""
        while True:
            part = sock.recv(65536)
            if not part:
                break
            data += part
        status = int(data.split(b" ", 2)[1]) if data else 0
        return status, data
    finally:
        sock.close()


def slow_upload(url, cookie, site_id, token, blob, results):
    boundary = uuid.uuid4().hex
    fields = {"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls", "description": "Slow link"}
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
                    for k, v in fields.items())
    body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"IMG.jpg\"\r\n"
             "Content-Type: image/jpeg\r\n\r\n").encode() + blob + f"\r\n--{boundary}--\r\n".encode()
    started = time.monotonic()
    status, answer = request(url, f"/s/{site_id}/reports/new", cookie, "POST", body,
                        [f"Content-Type: multipart/form-data; boundary={boundary}", f"X-CSRFToken: {token}",
                         f"Referer: {url}/s/{site_id}/reports/new", f"Origin: {url}"],
                        rate=RATE)
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    location = re.search(r"(?im)^location: (\S+)", head)
    stored = status == 303 and location is not None and re.search(r"/reports/\d+", location.group(1)) is not None
    results.append((status, time.monotonic() - started, stored))


def keep_alive(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=60, context=context)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)


def page_times(url, cookie, seconds):
    """Load / again and again on one connection (a browser keeps it open) for `seconds`: times in ms."""
    times = []
    connection = keep_alive(url)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and len(times) < 5000:
            started = time.monotonic()
            connection.request("GET", "/", headers={"Cookie": cookie, "Accept-Encoding": "gzip"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            times.append((time.monotonic() - started) * 1000)
    finally:
        connection.close()
    return times


def summary(times):
    times = sorted(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return f"n={len(times):4d}  p50 {statistics.median(times):6.1f} ms  p99 {p99:6.1f} ms  max {times[-1]:6.1f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=5511)
    parser.add_argument("--url", help="a running server (the instance must be FIELDAPP_INSTANCE)")
    parser.add_argument("--proxy", action="store_true", help="Caddy (deploy/Caddyfile.pilot) in front, port+10")
    args = parser.parse_args()
    instance = os.environ.get("FIELDAPP_INSTANCE") if args.url else tempfile.mkdtemp(prefix="fieldapp-slow-")
    cookie, site_id = prepare(instance)
    server = None
    url = args.url
    if url is None:
        env = {**os.environ, "FIELDAPP_INSTANCE": instance, "FIELDAPP_LOCAL_DEV": "1"}
        if args.proxy:
            env["FIELDAPP_TRUSTED_PROXIES"] = "1"  # as deploy/fieldapp.env: https and the client's address
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads",
                                   str(args.threads), "--worker-class", "gthread", "--log-level", "warning",
                                   "--bind", f"127.0.0.1:{args.port}", "fieldapp:create_app()"],
                                  cwd=ROOT, env=env, start_new_session=True)
        url = f"http://127.0.0.1:{args.port}"
        wait_up(url + "/healthz")
    proxy = None
    if args.proxy:
        from bench.proxy import caddy

        proxy, url = caddy(args.port, args.port + 10, instance)
    try:
        _, page = request(url, f"/s/{site_id}/reports/new", cookie)
        token = re.search(rb'name="csrf-token" content="([^"]+)"', page)
        token = token.group(1).decode() if token else ""
        for _ in range(8):  # warm every worker (templates, first database connection) on new connections
            page_times(url, cookie, 0.3)
        quiet = page_times(url, cookie, 3)
        blob = photo()
        results = []
        uploads = [threading.Thread(target=slow_upload, args=(url, cookie, site_id, token, blob, results))
                   for _ in range(UPLOADS)]
        for t in uploads:
            t.start()
        time.sleep(0.5)
        busy = page_times(url, cookie, len(blob) / RATE - 1.5)
        for t in uploads:
            t.join(timeout=120)
    finally:
        if proxy:
            stop(proxy)
        if server:
            stop(server)
        if not args.url:
            shutil.rmtree(instance, ignore_errors=True)
    label = args.url or ("Caddy in front of " if proxy else "") + f"gunicorn {args.workers} workers x {args.threads} threads"
    print(f"{label}, {os.cpu_count()} cores, loopback")
    print(f"  home page, no uploads:               {summary(quiet)}")
    print(f"  home page, {UPLOADS} uploads at 64 KB/s:   {summary(busy)}")
    stored = sum(1 for *_, ok in results if ok)
    print(f"  uploads: {stored}/{UPLOADS} stored (statuses {sorted(s for s, *_ in results)}), "
          f"{statistics.median(d for _, d, _ in results):.1f} s each ({len(blob)} bytes)")


if __name__ == "__main__":
    main()
