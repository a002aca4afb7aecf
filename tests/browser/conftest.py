"""Browser tests: the app served on 127.0.0.1 in a thread, Debian's chromium through Playwright at a phone size."""
import shutil
import threading

import pytest
from helpers import World, test_config
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from fieldapp import create_app
from fieldapp.db import database

PHONE = "Pixel 7"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_path):
    # Never `playwright install`: the browser is Debian's, the network is loopback only.
    return {**browser_type_launch_args, "executable_path": chromium_path,
            "args": ["--disable-background-networking", "--disable-component-update", "--no-first-run"]}


@pytest.fixture(scope="session")
def phone_profile(playwright):
    profile = dict(playwright.devices[PHONE])
    profile.pop("default_browser_type", None)
    return profile


@pytest.fixture
def browser_context_args(browser_context_args, phone_profile):
    return {**browser_context_args, **phone_profile, "locale": "nb-NO"}


class LiveServer:
    """The app on 127.0.0.1 for a browser test. `offline`: the phone has no signal (set by context.set_offline)."""

    def __init__(self, app):
        self.app = app
        self.offline = False
        self.server = make_server("127.0.0.1", 0, self._serve, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll_interval: shutdown() waits up to that long (0.5 s by default) at the end of each test.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                       daemon=True)

    def _serve(self, environ, start_response):
        # Chromium's offline emulation stops the page's requests but not the service worker's (Playwright issue
        # 2311): its Background Sync could send the outbox while the test has the phone offline. What it posts
        # then gets no answer from the app, as without signal: 503, and the outbox sends it again later.
        if self.offline and environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "1")])
            return [b"offline"]
        return self.app(environ, start_response)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live(tmp_path, database_url, pin_hash, photo_store_config):
    app = create_app({**test_config(tmp_path, database_url), **photo_store_config})
    world = World(pin_hash)
    with LiveServer(app) as server:
        server.world = world
        yield server
    if not database.is_closed():
        database.close()


# Run in each open page before its context closes: the app's service worker is unregistered, so that it stops
# with its last page instead of being running (a Background Sync, a fetch) while the context closes.
UNREGISTER_WORKERS = """() => navigator.serviceWorker
    ? navigator.serviceWorker.getRegistrations().then(all => Promise.all(all.map(r => r.unregister())))
    : null"""


@pytest.fixture
def context(context, request):
    """pytest-playwright's context; with the `live` server, set_offline also takes the service worker's posts off
    the network (LiveServer.offline).

    At the end, before pytest-playwright closes the context, every page's service worker is unregistered and
    the page left for about:blank. Once, in a CI run, Chromium never answered the close of a context whose test
    had toggled the signal, and the run hung until it was stopped: a worker still running while its context
    closes is the known way into that (puppeteer issue 11627, "closing browser contexts can leave dangling
    service workers")."""
    if "live" in request.fixturenames:
        live, emulate = request.getfixturevalue("live"), context.set_offline

        def set_offline(offline):
            live.offline = offline
            emulate(offline)

        context.set_offline = set_offline
    yield context
    for page in list(context.pages):
        try:
            if page.url.startswith("http"):
                page.evaluate(UNREGISTER_WORKERS)
            page.goto("about:blank", timeout=5000)
        except PlaywrightError:
            pass  # a page that is closing or crashed: the context's close deals with it


@pytest.fixture
def csp_violations(page):
    """Console messages about the Content-Security-Policy: there must be none."""
    seen = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    return seen
