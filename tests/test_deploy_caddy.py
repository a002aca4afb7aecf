"""Issue 22: Caddy from deploy/ in front of gunicorn on 127.0.0.1: HTTPS from its internal CA, compression,
long caching of hashed static files, and request bodies buffered (a slow upload does not hold the app)."""
import gzip
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from fieldapp.config import PROJECT_ROOT

CADDY = shutil.which("caddy")
pytestmark = pytest.mark.skipif(CADDY is None, reason="caddy is installed by `make system-test-deps`")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def started(args, env, log):
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def ended(process):
    os.killpg(process.pid, signal.SIGTERM)  # only what this test started
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(fetch, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fetch()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def get(url, context=None, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return response.status, dict(response.headers), response.read()


def slow_post(host, port, path, total, rate, context=None):
    """POST `total` bytes at `rate` bytes/s; returns the status line."""
    sock = socket.create_connection((host, port), timeout=30)
    if context is not None:
        sock = context.wrap_socket(sock, server_hostname=host)
    # A photo in a form, as a phone sends it: the app reads it all (CSRF check, form parsing).
    head = b'--b\r\nContent-Disposition: form-data; name="photos"; filename="IMG.jpg"\r\n\r\n'
    body = head + b"x" * (total - len(head) - 9) + b"\r\n--b--\r\n"
    with sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: multipart/form-data; boundary=b"
                      f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode())
        chunk = rate // 10
        for start in range(0, len(body), chunk):
            sock.sendall(body[start:start + chunk])
            time.sleep(0.1)
        return sock.recv(200).split(b"\r\n")[0]


@pytest.fixture
def stack(tmp_path, database_url):
    if not database_url.startswith("sqlite:///"):
        pytest.skip("one run is enough: the proxy does not depend on the database")
    app_port, https_port, http_port, admin_port = free_port(), free_port(), free_port(), free_port()
    instance = tmp_path / "instance"
    env = {**os.environ, "FIELDAPP_INSTANCE": str(instance), "FIELDAPP_DATABASE_URL": database_url,
           "FIELDAPP_TRUSTED_PROXIES": "1", "FIELDAPP_ARGON2_PROFILE": "test"}
    logs = open(tmp_path / "stack.log", "wb")
    # One worker of one thread: anything that holds it shows at once.
    app = started([sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "1", "--worker-class", "gthread",
                   "--bind", f"127.0.0.1:{app_port}", "fieldapp:create_app()"], env, logs)
    caddy_env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
                 "XDG_CONFIG_HOME": str(tmp_path / "config"), "FIELDAPP_SITE": f"https://127.0.0.1:{https_port}",
                 "FIELDAPP_UPSTREAM": f"127.0.0.1:{app_port}", "FIELDAPP_STATIC": str(PROJECT_ROOT / "static"),
                 "FIELDAPP_HTTP_PORT": str(http_port), "FIELDAPP_HTTPS_PORT": str(https_port),
                 "FIELDAPP_CADDY_ADMIN": f"127.0.0.1:{admin_port}", "FIELDAPP_BIND": "127.0.0.1"}
    caddy = started([CADDY, "run", "--config", "deploy/Caddyfile.pilot", "--adapter", "caddyfile"], caddy_env, logs)
    try:
        wait_for(lambda: get(f"http://127.0.0.1:{app_port}/healthz"))
        root = tmp_path / "data/caddy/pki/authorities/local/root.crt"
        wait_for(lambda: root.read_bytes())
        context = ssl.create_default_context(cafile=str(root))  # what the phone must trust
        wait_for(lambda: get(f"https://127.0.0.1:{https_port}/healthz", context))
        yield {"https": f"https://127.0.0.1:{https_port}", "https_port": https_port, "app_port": app_port,
               "context": context}
    finally:
        ended(caddy)
        ended(app)
        logs.close()


def test_https_from_the_internal_ca_compression_and_caching(stack):
    base, context = stack["https"], stack["context"]
    with pytest.raises(urllib.error.URLError):  # not trusted without Caddy's root certificate
        get(base + "/healthz", ssl.create_default_context())
    status, headers, body = get(base + "/sign-in", context, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    page = gzip.decompress(body).decode()
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{10}\.css)"', page).group(1)
    status, headers, body = get(base + css, context, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (PROJECT_ROOT / "static/css/app.css").read_bytes()
    assert "gunicorn" not in headers.get("Server", "")  # from disk, not from the app
    status, headers, _ = get(base + "/static/css/app.css", context)
    assert status == 200 and headers["Cache-Control"] == "no-cache"
    status, headers, _ = get(base + "/sw.js", context)
    assert status == 200 and headers["Service-Worker-Allowed"] == "/"


@pytest.mark.parametrize("through", ["caddy", "direct"])
def test_a_slow_upload_does_not_hold_the_app(stack, through):
    """Through Caddy the body is buffered first: the single app thread stays free. Direct: it is held."""
    if through == "caddy":
        host, port, context, base = "127.0.0.1", stack["https_port"], stack["context"], stack["https"]
    else:
        host, port, context, base = "127.0.0.1", stack["app_port"], None, f"http://127.0.0.1:{stack['app_port']}"
    results = []
    upload = threading.Thread(target=lambda: results.append(
        slow_post(host, port, "/sign-in", 64 * 1024 * 3, 64 * 1024, context)))
    upload.start()
    time.sleep(0.8)
    began = time.monotonic()
    status, _, _ = get(base + "/healthz", context)
    waited = time.monotonic() - began
    upload.join(timeout=30)
    assert status == 200 and results and results[0].startswith(b"HTTP/1.1 4")
    if through == "caddy":
        assert waited < 1.0, waited
    else:
        assert waited > 1.0, waited  # the check can fail: without the proxy one slow body holds the thread
