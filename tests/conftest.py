"""Fixtures as flaskr's: a fresh app and database per test, a client that sends the CSRF token,
and a person of each role on a site (plus another site they are not on).

The schema is migrated once per run into a template (a SQLite file, or a PostgreSQL template
database) and each test gets a copy of it. The helpers tests call are in helpers.py.
"""
import logging
import os
import shutil
import sqlite3
import tempfile

import pytest

# Before fieldapp is imported: huey's SQLite file and the instance folder go to a scratch folder.
os.environ.setdefault("FIELDAPP_INSTANCE", tempfile.mkdtemp(prefix="fieldapp-test-instance-"))
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)

from helpers import (PIN, CsrfClient, World, free_port_block, migrate_fresh, s3_config, seaweedfs_server,  # noqa: E402
                     test_config)

from fieldapp import clock, create_app  # noqa: E402
from fieldapp.accounts import service as accounts  # noqa: E402
from fieldapp.db import database  # noqa: E402
from fieldapp.queue import huey  # noqa: E402

huey.immediate = True


def pytest_addoption(parser):
    parser.addoption("--database", choices=("sqlite", "postgres"), default="sqlite",
                     help="run the suite against SQLite (default) or a PostgreSQL server it starts")
    parser.addoption("--storage", choices=("local", "s3"), default="local",
                     help="photos in the instance folder (default) or in a SeaweedFS S3 bucket it starts")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory, worker_id):
    """A SeaweedFS S3 server for the whole session (started on first use): seaweedfs_server()'s dict.
    Ports from 5610 + 10 * the xdist worker's number (5610-5617 alone), or 100 higher while those are taken."""
    number = int(worker_id[2:]) if worker_id.startswith("gw") else 0
    with seaweedfs_server(tmp_path_factory.mktemp("seaweedfs"), free_port_block(5610 + 10 * number)) as server:
        yield server


@pytest.fixture
def photo_store_config(request):
    """{} for the local folder, or --storage=s3's settings: the session's bucket under a prefix of this test."""
    if request.config.getoption("--storage") != "s3":
        return {}
    return s3_config(request.getfixturevalue("seaweedfs"))


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


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory, postgres_server):
    """Migrate once per run: the path of a migrated SQLite file, or the name of a PostgreSQL template database."""
    folder = tmp_path_factory.mktemp("template")
    if postgres_server is None:
        path = folder / "fieldapp.db"
        app = create_app(test_config(folder, f"sqlite:///{path}"))
        migrate_fresh(app)
        database.obj.close_all()  # the pool's idle connections too: the file must be complete before copies
        conn = sqlite3.connect(path)
        try:  # one self-contained file to copy, no -wal beside it (each copy turns WAL on again)
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
        return path
    template = postgres_server.create_database("fieldapp_template")
    app = create_app(test_config(folder, postgres_server.url(template)))
    migrate_fresh(app)
    database.close()
    return template


@pytest.fixture
def database_url(tmp_path, postgres_server, migrated_template):
    """A migrated database of this test's own, copied from the template."""
    if postgres_server is None:
        shutil.copyfile(migrated_template, tmp_path / "fieldapp.db")
        return f"sqlite:///{tmp_path}/fieldapp.db"
    return postgres_server.url(postgres_server.copy_of(migrated_template))


@pytest.fixture(scope="session")
def pin_hash():
    # Hashed once for every person the fixtures make, with the cheap parameters test_config chooses.
    return accounts.HASHERS["test"].hash(PIN)


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
def app(tmp_path, database_url, photo_store_config):
    app = create_app({**test_config(tmp_path, database_url), **photo_store_config})
    app.test_client_class = CsrfClient
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


@pytest.fixture
def world(db, pin_hash):
    return World(pin_hash)


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
