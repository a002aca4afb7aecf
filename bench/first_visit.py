"""First visit to the sign-in page on a new phone: bytes and requests, counting the service worker's own.

Serves the app with gunicorn (as the Procfile does), or through a proxy when --url is given (deploy/: Caddy),
opens /sign-in in Debian's chromium (Playwright, 360 x 780, a fresh profile) and waits until the service
worker is installed and active. Counts, from Chrome's network events (CDP, the page's and the worker's),
every request and the bytes that came over the wire (headers + compressed body), and checks the server's
access log for any URL asked twice. Target (issue 22): at most 60 KB, no URL twice.
Usage: python bench/first_visit.py [--port 5510] [--url https://127.0.0.1:5520]
"""
import argparse
import collections
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import GUNICORN, stop, wait_up  # noqa: E402


def spki_pin(base_url):
    """base64 SHA-256 of the server certificate's public key: Chrome then trusts it (and caches over it)."""
    import base64
    import hashlib
    import ssl
    import urllib.parse

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    parts = urllib.parse.urlsplit(base_url)
    pem = ssl.get_server_certificate((parts.hostname, parts.port))
    key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def measure(base_url, log_path=None):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    args = [f"--ignore-certificate-errors-spki-list={spki_pin(base_url)}"] if base_url.startswith("https") else []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        context = browser.new_context(viewport={"width": 360, "height": 780}, ignore_https_errors=True,
                                      service_workers="allow")
        seen = []  # (url, transferred bytes, from the service worker)

        def finished(request):
            response = request.response()
            if response is None:
                return
            sizes = request.sizes()
            from_cache = response.from_service_worker
            body = sizes["responseBodySize"]
            if request.url.endswith("/sw.js") and body <= 0 < sizes["responseHeadersSize"]:
                # The worker's own script is reported with its headers but no body (it was 0.8 KB in all,
                # the log said 6.4 KB of body): its Content-Length is the compressed body (the app's; Caddy
                # passes it on). Not for the rest: an HTTP cache hit has headers and no body, rightly.
                body = int(response.headers.get("content-length") or 0)
            seen.append((request.url, sizes["responseHeadersSize"] + body, request.service_worker is not None,
                         from_cache))

        context.on("requestfinished", finished)
        page = context.new_page()
        page.goto(base_url + "/sign-in", wait_until="load")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_timeout(1500)  # the worker's installing fetches end
        browser.close()
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5510)
    parser.add_argument("--url", help="measure an already running server (e.g. behind the proxy)")
    parser.add_argument("--proxy", action="store_true", help="Caddy (deploy/Caddyfile.pilot) in front, port+10")
    args = parser.parse_args()
    server = instance = None
    log_path = None
    base_url = args.url
    if base_url is None:
        instance = tempfile.mkdtemp(prefix="fieldapp-first-")
        log_path = Path(instance, "access.log")
        env = {**os.environ, "FIELDAPP_INSTANCE": instance, "FIELDAPP_LOCAL_DEV": "1"}
        from bench.pages import prepare

        prepare(instance)
        import subprocess

        server = subprocess.Popen([*GUNICORN, "--bind", f"127.0.0.1:{args.port}", "--access-logfile", str(log_path),
                                   "--access-logformat", "%(r)s %(s)s %(B)s", "fieldapp:create_app()"],
                                  cwd=ROOT, env=env, start_new_session=True)
        base_url = f"http://127.0.0.1:{args.port}"
        wait_up(base_url + "/healthz")
    proxy = None
    if args.proxy:
        from bench.proxy import caddy

        proxy, base_url = caddy(args.port, args.port + 10, instance)
    try:
        started = time.perf_counter()
        seen = measure(base_url, log_path)
        elapsed = time.perf_counter() - started
    finally:
        if proxy:
            stop(proxy)
        if server:
            stop(server)
    # Answered by the network: not by the worker's cache, nor by the HTTP cache (0 bytes transferred).
    network = [row for row in seen if not row[3] and row[1] > 0]
    total = sum(size for _url, size, _sw, _c in network)
    print(f"first visit to {base_url}/sign-in: {len(network)} requests, {total / 1000:.1f} KB transferred "
          f"(headers + body), {elapsed:.1f} s")
    twice = [url for url, n in collections.Counter(u for u, *_ in network).items() if n > 1]
    for url, size, sw, _c in network:
        print(f"  {size:7d} B  {'sw ' if sw else 'page'}  {url.replace(base_url, '')}")
    if log_path is not None and log_path.exists():
        rows = [line.split() for line in log_path.read_text().splitlines() if line.startswith("GET")]
        first = next(i for i, row in enumerate(rows) if row[1] == "/sign-in")  # before: this script's probes
        rows = rows[first:]
        lines = [row[1] for row in rows]
        bodies = sum(int(row[-1]) for row in rows if row[-1].isdigit())
        twice = [url for url, n in collections.Counter(lines).items() if n > 1]
        print(f"server sent {len(rows)} responses, {bodies / 1000:.1f} KB of bodies (headers not counted)")
    print("URLs fetched twice:", ", ".join(twice) if twice else "none")
    if instance:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
