"""Fixtures as flaskr's: a fresh app and database per test, a client that sends the CSRF token,
and a person of each role on a site (plus another site they are not on)."""
import logging
import os
import re
import tempfile

import pytest

# Before fieldapp is imported: huey's SQLite file and the instance folder go to a scratch folder.
os.environ.setdefault("FIELDAPP_INSTANCE", tempfile.mkdtemp(prefix="fieldapp-test-instance-"))
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)

from flask.testing import FlaskClient  # noqa: E402

from fieldapp import clock, create_app  # noqa: E402
from fieldapp.accounts import service as accounts  # noqa: E402
from fieldapp.db import database, run_migrations  # noqa: E402
from fieldapp.models import FollowUp, Membership, Organization, Report, Site, User, utcnow  # noqa: E402
from fieldapp.queue import huey  # noqa: E402

huey.immediate = True

PIN = "482913"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def pytest_addoption(parser):
    parser.addoption("--database", choices=("sqlite", "postgres"), default="sqlite",
                     help="run the suite against SQLite (default) or a PostgreSQL server it starts")


@pytest.fixture(scope="session")
def database_kind(request):
    return request.config.getoption("--database")


@pytest.fixture(scope="session")
def postgres_server(database_kind):
    if database_kind != "postgres":
        yield None
        return
    from pg_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def database_url(tmp_path, postgres_server):
    if postgres_server is None:
        return f"sqlite:///{tmp_path}/fieldapp.db"
    postgres_server.reset()
    return postgres_server.url()


def test_config(tmp_path, database_url=None):
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path}/fieldapp.db",
        "SESSION_COOKIE_SECURE": False,
        "SERVER_NAME": None,
        # The fake push service listens on 127.0.0.1 over http; production refuses such endpoints.
        "PUSH_ALLOW_LOCAL_ENDPOINTS": True,
        "PUSH_WORKERS": 8,
    }


class CsrfClient(FlaskClient):
    """A test client that sends the CSRF token in the header, as htmx does, unless told not to."""

    def csrf_token(self):
        page = self.get("/sign-in").get_data(as_text=True)
        match = CSRF_RE.search(page)
        return match.group(1) or match.group(2)

    def outbox_maker(self):
        """X-Outbox-Maker for the person signed in on this client ("<user id>.<device session id>")."""
        who = self.get("/whoami").get_json()
        return f"{who['user']}.{who['session']}" if who else ""

    def post(self, *args, csrf=True, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf:
            headers.setdefault("X-CSRFToken", self.csrf_token())
        if headers.get("X-Outbox") == "1" and "X-Outbox-Maker" not in headers:
            # The phone's outbox always says who made an item (issue 13); tests of a missing or wrong
            # maker pass the header themselves.
            headers["X-Outbox-Maker"] = self.outbox_maker()
        kwargs["headers"] = headers
        return super().post(*args, **kwargs)


@pytest.fixture(scope="session")
def pin_hash():
    # argon2 is slow on purpose; hash the test PIN once for every person the fixtures make.
    return accounts.hash_secret(PIN)


def migrate_fresh(app):
    with app.app_context(), database.connection_context():
        run_migrations()


@pytest.fixture(autouse=True)
def _running_clock():
    """Every test starts and ends with the real clock, whatever a test froze."""
    clock.freeze(None)
    yield
    clock.freeze(None)


@pytest.fixture
def frozen_clock():
    """``frozen_clock(moment)`` stops fieldapp.clock at ``moment`` (aware, or naive UTC) for the rest of the test.

    The one way tests control time: "now", "today" and every stored default read ``clock.utcnow``.
    """
    return clock.freeze


@pytest.fixture
def app(tmp_path, database_url):
    app = create_app(test_config(tmp_path, database_url))
    app.test_client_class = CsrfClient
    migrate_fresh(app)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """The database for test code that reads or writes models directly.

    peewee connects on first use; requests made by the test client close the connection after
    themselves, and the next model call opens it again. No app context is held open here: a
    request would reuse it, and its `g` would leak from one request into the next.
    """
    yield database
    if not database.is_closed():
        database.close()


class World:
    """A main contractor with two sites, a person of each role on site A, a manager on site B."""

    def __init__(self, pin_hash):
        self.pin_hash = pin_hash
        self.org = Organization.create(name="Fjordbygg AS", org_number="923609016")
        self.sub = Organization.create(name="Nordlys Elektro AS", org_number="987654325")
        self.site = Site.create(organization=self.org, name="Site A", address="Gate 1, Oslo", qr_token="tok-a")
        self.other_site = Site.create(organization=self.org, name="Site B", address="Gate 2, Oslo", qr_token="tok-b")
        self.people = {}
        for number, role in enumerate(("worker", "foreman", "verneombud", "manager"), start=1):
            self.people[role] = self.person(f"+479100000{number}", f"{role.title()} Person", role, self.site,
                                            org_admin=(role == "manager"))
        self.outsider = self.person("+4791000009", "Other Manager", "manager", self.other_site, org_admin=True)
        self.follow_up = FollowUp.create(site=self.site, kind="missing_equipment", detail='["helmet"]')
        import uuid

        self.report = Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=self.site,
                                    reporter=self.people["worker"], kind="hazard", category="falls",
                                    severity="high", description="Open edge on the 3rd floor",
                                    happened_at=utcnow())

    def person(self, phone, name, role, site, org_admin=False, employer=None):
        user = User.create(name=name, phone=phone, employer=employer or self.org, is_org_admin=org_admin,
                           password_hash=self.pin_hash, hms_card_number="HMS123")
        Membership.create(user=user, site=site, role=role)
        return user


@pytest.fixture
def world(db, pin_hash):
    return World(pin_hash)


def sign_in(client, user, pin=PIN):
    response = client.post("/sign-in", data={"phone": user.phone, "secret": pin})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


@pytest.fixture
def as_role(app, world):
    """as_role('foreman') -> a client signed in as the site's foreman."""

    def make(role):
        client = app.test_client()
        user = world.outsider if role == "outsider" else world.people[role]
        # A real device session, without paying for argon2 in every test (test_sign_in covers that).
        with app.test_request_context():
            token = accounts.start_device_session(user, "pytest")
        with client.session_transaction() as flask_session:
            flask_session["sid"] = token
        return client

    return make


@pytest.fixture
def push_service(app):
    """A fake push service on 127.0.0.1 that checks VAPID and decrypts every message (tests/push_service.py)."""
    from push_service import FakePushService

    service = FakePushService(app.config["VAPID_PUBLIC_KEY"]).start()
    yield service
    service.stop()


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.queries = []

    def emit(self, record):
        self.queries.append(record.getMessage())


@pytest.fixture
def count_queries():
    logger = logging.getLogger("peewee")
    handler = QueryCounter()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)
