"""Issue 22 on a phone: the app behind Caddy (deploy/Caddyfile.pilot) over HTTPS from Caddy's internal CA, which
the phone trusts as the README says (here: chromium's NSS store in its HOME). The service worker installs and
controls the pages, and a report with a photo sent from the real form passes the HTTPS CSRF check (Referer)
and is stored once."""
import os
import shutil
import signal
import socket
import subprocess
import threading

import pytest
from helpers import PIN, World, poll, sign_in_ui, test_config, wait_until
from PIL import Image
from werkzeug.serving import make_server

from fieldapp import create_app
from fieldapp.config import PROJECT_ROOT
from fieldapp.db import database
from fieldapp.models import Photo, Report

CADDY, CERTUTIL = shutil.which("caddy"), shutil.which("certutil")
pytestmark = pytest.mark.skipif(CADDY is None or CERTUTIL is None,
                                reason="caddy and certutil (libnss3-tools) are installed by `make system-test-deps`")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def behind_caddy(tmp_path, database_url, pin_hash):
    """The app (X-Forwarded-* believed from one proxy, as deploy/fieldapp.env) behind Caddy on 127.0.0.1."""
    app = create_app({**test_config(tmp_path, database_url), "TRUSTED_PROXIES": 1})
    world = World(pin_hash)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    https_port = free_port()
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "FIELDAPP_SITE": f"https://127.0.0.1:{https_port}",
           "FIELDAPP_UPSTREAM": f"127.0.0.1:{server.server_port}", "FIELDAPP_STATIC": str(PROJECT_ROOT / "static"),
           "FIELDAPP_HTTP_PORT": str(free_port()), "FIELDAPP_HTTPS_PORT": str(https_port),
           "FIELDAPP_CADDY_ADMIN": f"127.0.0.1:{free_port()}", "FIELDAPP_BIND": "127.0.0.1"}
    log = open(tmp_path / "caddy.log", "wb")
    caddy = subprocess.Popen([CADDY, "run", "--config", "deploy/Caddyfile.pilot", "--adapter", "caddyfile"],
                             cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        root = tmp_path / "data/caddy/pki/authorities/local/root.crt"
        poll(lambda: root.exists() and root.read_text().rstrip().endswith("END CERTIFICATE-----"), timeout=30)
        poll(lambda: listening(https_port), timeout=30)
        # What the phone must trust: Caddy's root, in the browser's own store.
        phone_home = tmp_path / "phone"
        nssdb = phone_home / ".pki" / "nssdb"
        nssdb.mkdir(parents=True)
        subprocess.run([CERTUTIL, "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
        subprocess.run([CERTUTIL, "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "caddy-local", "-i", str(root)],
                       check=True)
        yield {"url": f"https://127.0.0.1:{https_port}", "world": world, "home": phone_home}
    finally:
        os.killpg(caddy.pid, signal.SIGTERM)  # only the Caddy this test started
        caddy.wait(timeout=10)
        log.close()
        server.shutdown()
        thread.join(timeout=5)
        if not database.is_closed():
            database.close()


@pytest.fixture
def phone(playwright, chromium_path, phone_profile, behind_caddy):
    browser = playwright.chromium.launch(
        executable_path=chromium_path, env={**os.environ, "HOME": str(behind_caddy["home"])},
        args=["--disable-background-networking", "--disable-component-update", "--no-first-run"])
    context = browser.new_context(**{**phone_profile, "viewport": {"width": 360, "height": 780}}, locale="nb-NO")
    try:
        yield context.new_page()
    finally:
        browser.close()


def test_a_phone_sends_a_report_with_a_photo_through_the_proxy(behind_caddy, phone, tmp_path):
    page, world, base = phone, behind_caddy["world"], behind_caddy["url"]
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append((r.url, r.headers.get("referer"))))
    sign_in_ui(page, base, world.people["worker"].phone, PIN)  # waits for the service worker
    assert page.url.startswith(base) and "/sign-in" not in page.url  # the sign-in form passed the check
    page.click(".site-card a.report-button")
    page.wait_for_url(f"**/s/{world.site.id}/reports/new")
    assert page.evaluate("navigator.serviceWorker.controller !== null")  # installed over Caddy's HTTPS
    wait_until(page, "window.fieldappOutbox !== undefined")
    photo = tmp_path / "IMG_0001.jpg"
    Image.effect_noise((2000, 1500), 40).convert("RGB").save(photo, "JPEG", quality=85)
    page.set_input_files(".photo-pick input[capture]", str(photo))
    page.wait_for_selector(".previews img.preview")
    page.click("label.choice:has(input[value=falling_objects])")
    page.click("button.send")
    page.wait_for_selector(".outbox-item.state-sent")
    report = Report.select().where(Report.id != world.report.id).get()
    assert Photo.select().where(Photo.report == report).count() == 1
    sign_in = [referer for url, referer in posts if url.endswith("/sign-in")]
    assert sign_in == [base + "/sign-in"]  # what Flask-WTF compared with https://<host>/
