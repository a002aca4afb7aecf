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
import uuid
from base64 import urlsafe_b64encode
from io import BytesIO
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from fieldapp.config import PROJECT_ROOT
from fieldapp.static_files import Manifest, export_hashed

CADDY = shutil.which("caddy")
# One gunicorn and one Caddy serve the module's tests (the `stack` fixture), on one xdist worker
# (conftest.ONE_WORKER_MODULES).
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


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, database_kind):
    """gunicorn (one worker, one thread) behind Caddy with deploy/Caddyfile.pilot, started once for the module
    (about 3 s to start and 2 s to stop each): a test that changes what they serve puts it back."""
    if database_kind != "sqlite":
        pytest.skip("one run is enough: the proxy does not depend on the database")
    tmp_path = tmp_path_factory.mktemp("stack")
    shutil.copyfile(request.getfixturevalue("migrated_template"), tmp_path / "fieldapp.db")
    database_url = f"sqlite:///{tmp_path}/fieldapp.db"
    app_port, https_port, http_port, admin_port = free_port(), free_port(), free_port(), free_port()
    instance = tmp_path / "instance"
    env = {**os.environ, "FIELDAPP_INSTANCE": str(instance), "FIELDAPP_DATABASE_URL": database_url,
           "FIELDAPP_TRUSTED_PROXIES": "1"}
    logs = open(tmp_path / "stack.log", "wb")
    # One worker of one thread: anything that holds it shows at once.
    app = started([sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "1", "--worker-class", "gthread",
                   "--bind", f"127.0.0.1:{app_port}", "fieldapp:create_app()"], env, logs)
    hashed = tmp_path / "static-hashed"
    export_hashed(PROJECT_ROOT / "static", hashed)  # as deploy/static_export.py after a release
    caddy_env = {**os.environ, "HOME": str(tmp_path), "FIELDAPP_STATIC_HASHED": str(hashed), "XDG_DATA_HOME": str(tmp_path / "data"),
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
               "context": context, "root": str(root), "env": env, "hashed": hashed}
    finally:
        ended(caddy)
        ended(app)
        logs.close()


def get_status(url, context):
    """(status, headers) also for an error answer."""
    try:
        status, headers, _ = get(url, context)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)
    return status, headers


def test_only_the_exact_hashed_names_are_cached_for_a_year(stack):
    """A made-up hash must not be answered with the current file cached immutably for a year (a phone would
    keep it across releases): Caddy serves only names deploy/static_export.py wrote; others go to the app."""
    base, context = stack["https"], stack["context"]
    real = Manifest(PROJECT_ROOT / "static").by_name["css/app.css"].hashed
    assert re.fullmatch(r"css/app\.[0-9a-f]{10}\.css", real)
    for made_up in ("css/app.0123456789.css", "css/app.aaaaaaaaaa.css", "js/app.ffffffffff.js", "css/app.css.0123456789"):
        if made_up == real:
            continue
        status, headers = get_status(f"{base}/static/{made_up}", context)
        assert status == 404, (made_up, status)
        assert "immutable" not in headers.get("Cache-Control", ""), made_up
    status, headers, body = get(f"{base}/static/{real}", context)
    assert status == 200 and headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert body == (PROJECT_ROOT / "static/css/app.css").read_bytes()
    assert "Content-Security-Policy" not in headers  # from disk (the app sets one on every answer)
    # A release not exported yet: the true hashed name is still right, from the app.
    exported = stack["hashed"] / "static" / real
    kept = exported.read_bytes()
    exported.unlink()
    try:
        status, headers, body = get(f"{base}/static/{real}", context)
    finally:
        exported.write_bytes(kept)  # the module's other tests share the stack
    assert status == 200 and headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert body == (PROJECT_ROOT / "static/css/app.css").read_bytes()
    assert "Content-Security-Policy" in headers  # from the app
    # Nothing outside the folders, whatever the path says.
    for path in ("/static/../fieldapp/config.py", "/static/%2e%2e/fieldapp/config.0123456789.py"):
        status, _ = get_status(base + path, context)
        assert status == 404, path


def caddy_variables(path):
    return set(re.findall(r"\{\$([A-Z_]+)", path.read_text()))


def env_names(path):
    return {line.split("=", 1)[0] for line in path.read_text().splitlines() if line and not line.startswith("#")}


def test_caddy_gets_only_its_own_small_environment():
    """deploy/caddy-override.conf gave Caddy the whole fieldapp.env (secret key, database and S3 credentials):
    now it reads caddy.env, which names only what the Caddyfiles use, and fieldapp.env is not read by Caddy."""
    deploy = PROJECT_ROOT / "deploy"
    override = (deploy / "caddy-override.conf").read_text()
    files = [line.split("=", 1)[1] for line in override.splitlines() if line.startswith("EnvironmentFile=")]
    assert files == ["/etc/fieldapp/caddy.env"]
    used = set().union(*(caddy_variables(deploy / name) for name in
                         ("Caddyfile", "Caddyfile.pilot", "fieldapp.caddy", "fieldapp-edge.caddy")))
    given = env_names(deploy / "caddy.env")
    assert given <= used, given - used
    assert {"FIELDAPP_SITE", "FIELDAPP_UPSTREAM", "FIELDAPP_STATIC", "FIELDAPP_STATIC_HASHED"} <= given
    assert not any(word in name for name in given for word in ("SECRET", "KEY", "PASSWORD", "DATABASE", "S3"))
    # The app's file keeps what the app needs and drops what only Caddy used.
    app_env = env_names(deploy / "fieldapp.env")
    assert not {"FIELDAPP_SITE", "FIELDAPP_STATIC", "FIELDAPP_STATIC_HASHED"} & app_env
    assert "FIELDAPP_UPSTREAM" in app_env  # gunicorn's --bind in fieldapp-web.service
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "deploy/caddy.env /etc/fieldapp/caddy.env" in readme and "deploy/fieldapp-edge.caddy /etc/caddy/" in readme


def test_static_export_writes_every_hashed_name_once(tmp_path):
    manifest = Manifest(PROJECT_ROOT / "static")
    done = subprocess.run([sys.executable, "deploy/static_export.py", str(tmp_path / "out")], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = sorted(p.relative_to(tmp_path / "out/static").as_posix()
                     for p in (tmp_path / "out/static").rglob("*") if p.is_file())
    assert written == sorted(manifest.by_hashed)
    for name, item in manifest.by_hashed.items():
        assert (tmp_path / "out/static" / name).read_bytes() == item.raw
    assert export_hashed(PROJECT_ROOT / "static", tmp_path / "out") == 0  # already there: nothing rewritten
    assert not list((tmp_path / "out").rglob(".*.partial"))


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


def flask_command(env, *args):
    """`flask --app fieldapp <args>` on the stack's instance, as an operator runs it; returns its output."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "fieldapp", *args], cwd=PROJECT_ROOT,
                          env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def browser_session(root):
    """A client that trusts only Caddy's root (as the phone does) and sends what a browser sends."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the phone's trust store
    session.verify = root
    session.headers["User-Agent"] = "Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/120 Mobile"
    return session


def token_in(page):
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def form_post(session, base, page_path, action, data, files=None, referer=None):
    """A form on `page_path` posted to `action` with its CSRF token and the Referer/Origin a browser sends."""
    page = session.get(base + page_path)
    assert page.status_code == 200, (page_path, page.status_code)
    data = {"csrf_token": token_in(page.text), **data}
    headers = {"Referer": referer or page.url, "Origin": base}
    return session.post(base + action, data=data, files=files, headers=headers, allow_redirects=False)


def jpeg_bytes():
    out = BytesIO()
    Image.effect_noise((1600, 1200), 40).convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def test_a_signed_in_phone_posts_forms_photos_and_push_through_https(stack):
    """WTF_CSRF_SSL_STRICT: over HTTPS the app compares the Referer with its own https://host/. Behind Caddy it
    must see the scheme and host the phone used (X-Forwarded-Proto, Host kept): else every form fails."""
    base, env = stack["https"], stack["env"]
    flask_command(env, "migrate")
    flask_command(env, "create-user", "--name", "Ola Arbeider", "--phone", "90000004", "--password", "482913",
                  "--organization", "Fjordbygg AS", "--org-number", "923609016", "--site", "Bjørvika",
                  "--site-address", "Dronning Eufemias gate 1", "--role", "worker")
    phone = browser_session(stack["root"])
    signed_in = form_post(phone, base, "/sign-in", "/sign-in", {"next": "", "phone": "90000004", "secret": "482913"})
    assert signed_in.status_code == 303, signed_in.text[:500]
    assert signed_in.headers["Location"].startswith("/welcome/language")
    assert any(c.name == "__Host-fieldapp" and c.secure for c in phone.cookies)
    chosen = form_post(phone, base, signed_in.headers["Location"], "/welcome/language",
                       {"language": "en", "next": "/"})
    assert chosen.status_code == 303, chosen.text[:500]
    home = phone.get(base + "/")
    assert home.status_code == 200 and "Ola Arbeider" in home.text
    site_id = int(re.search(r'/s/(\d+)/reports/new', home.text).group(1))

    # A form from another origin is refused: the check runs (the app knows it is HTTPS) and nothing is saved.
    forged = form_post(phone, base, f"/s/{site_id}/reports/new", f"/s/{site_id}/reports/new",
                       {"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls"},
                       referer="https://evil.example/form")
    assert forged.status_code == 400

    # A report with a photo, as the form posts it without JavaScript.
    report_uuid = str(uuid.uuid4())
    sent = form_post(phone, base, f"/s/{site_id}/reports/new", f"/s/{site_id}/reports/new",
                     {"uuid": report_uuid, "kind": "hazard", "category": "falls", "description": "Loose rail"},
                     files={"photos": ("IMG_0001.jpg", jpeg_bytes(), "image/jpeg")})
    assert sent.status_code == 303, sent.text[:500]
    report = phone.get(base + sent.headers["Location"])
    assert report.status_code == 200 and "Loose rail" in report.text
    photo_url = re.search(r'<div class="photos">\s*<[^<]*<a href="([^"]+)"', report.text).group(1)
    photo = phone.get(base + photo_url)
    assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"

    # The same report from the outbox (X-Outbox, no form token): once, then again = the same one.
    blob = jpeg_bytes()
    maker = re.search(r'name="fieldapp-maker" content="([^"]+)"', home.text).group(1)
    for expected in (201, 200):
        again = phone.post(base + f"/s/{site_id}/reports/new", headers={
            "X-Outbox": "1", "X-Outbox-Maker": maker, "Origin": base, "Sec-Fetch-Site": "same-origin", "Referer": base + "/sw.js"},
            data={"uuid": str(uuid.UUID(int=7)), "kind": "hazard", "category": "falls"},
            files={"photos": ("IMG_0002.jpg", blob, "image/jpeg")}, allow_redirects=False)
        assert again.status_code == expected, again.text[:300]

    # A check-in.
    checked_in = form_post(phone, base, f"/s/{site_id}/checkin", f"/s/{site_id}/checkin",
                           {"uuid": str(uuid.uuid4())})
    assert checked_in.status_code == 303, checked_in.text[:500]

    # The push subscription (push.js: JSON with X-CSRFToken, from a page).
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    subscription = {"endpoint": "https://fcm.googleapis.com/fcm/send/deploy-test",
                    "keys": {"p256dh": urlsafe_b64encode(key).decode().rstrip("="),
                             "auth": urlsafe_b64encode(b"0123456789abcdef").decode().rstrip("=")}}
    subscribed = phone.post(base + "/me/push", json=subscription, headers={
        "X-CSRFToken": token_in(home.text), "Referer": base + "/", "Origin": base})
    assert subscribed.status_code == 201, subscribed.text[:300]

    # The service worker and every file of its shell, through the proxy.
    worker = phone.get(base + "/sw.js")
    assert worker.status_code == 200 and worker.headers["Service-Worker-Allowed"] == "/"
    shell = re.findall(r'"(/static/[^"]+)"', worker.text)
    assert shell, worker.text[:300]
    for path in shell:
        assert phone.get(base + path).status_code == 200, path
