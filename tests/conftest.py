"""Fixtures as flaskr's: an app and database per test, a client that sends the CSRF token,
and a person of each role on a site (plus another site they are not on).

What keeps the suite fast (issue 15), and the pattern for new tests:
- The schema is migrated once per run into a template (a SQLite file, or a PostgreSQL template
  database) and each test gets a copy of it, in /dev/shm where there is one.
- `app` is one Flask app per test process, reset for each test to what create_app(test_config(tmp_path))
  makes (config, instance folder and keys, database, Jinja loader). Ask for `app`/`client`/`db`; call
  create_app yourself only when the test is about what create_app does with other settings.
- `world` (helpers.World) and `world_with_records` (World after helpers.add_photo_and_alert) come with the
  database copy, built once per run: ask for the fixture instead of building them in the test.
- `as_role(role)` signs in without argon2; `frozen_clock` stops the clock; wait with helpers.poll, never sleep.
- Under -n: a module whose tests share a costly server or module fixture goes in ONE_WORKER_MODULES (one
  worker runs it, so it is made once per run); a module that mostly waits on its own processes goes in
  WAITING_MODULES (collected first, so no long wait starts at the end). bench/suite.py times the suite.
The helpers tests call are in helpers.py.
"""
import gc
import logging
import os
import pickle
import shutil
import signal
import sqlite3
import tempfile
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

# Before fieldapp is imported: huey's SQLite file and the instance folder go to a scratch folder of this test
# process's own, removed when it ends (pytest_unconfigure): one was left in /tmp by every process of every run.
SCRATCH_INSTANCE = None if "FIELDAPP_INSTANCE" in os.environ else tempfile.mkdtemp(prefix="fieldapp-test-instance-")
if SCRATCH_INSTANCE:
    os.environ["FIELDAPP_INSTANCE"] = SCRATCH_INSTANCE
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)

from helpers import (PIN, CsrfClient, World, WorldTemplate, add_photo_and_alert, free_port_block,  # noqa: E402
                     migrate_fresh, s3_config, seaweedfs_server, test_config)

from fieldapp import clock, create_app, instance, storage  # noqa: E402
from fieldapp.accounts import service as accounts  # noqa: E402
from fieldapp.db import database, make_database  # noqa: E402
from fieldapp.models import InstanceKey  # noqa: E402
from fieldapp.queue import huey  # noqa: E402

huey.immediate = True


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """tmp_path in memory (/dev/shm) unless --basetemp is given: the instance folders' key files are fsynced.

    A folder of this run's own (each xdist worker makes its own), removed when the run ends.

    SIGTERM (a CI timeout, `kill` of make's process group) stops the run as Ctrl-C does: every fixture's teardown
    runs, so the servers the run started in sessions of their own (PostgreSQL, SeaweedFS, Redis, Caddy) end with
    it. Python's default for SIGTERM ended the process at once and left them running.
    """
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if config.option.basetemp or not os.access("/dev/shm", os.W_OK):
        return
    config.option.basetemp = config._fieldapp_basetemp = tempfile.mkdtemp(prefix="fieldapp-pytest-", dir="/dev/shm")


# Modules whose tests share something costly that each test process makes once for them (a server, a
# module-scoped fixture): under -n their tests all go to one worker, so it is made once per run, not once on
# each worker.
ONE_WORKER_MODULES = {
    "tests/test_deploy_caddy.py": "caddy",  # gunicorn behind Caddy (its `stack`), ~5 s
    "tests/test_storage.py": "seaweedfs",  # the session's SeaweedFS (the `seaweedfs` fixture), ~4-6 s
    "tests/test_storage_s3.py": "seaweedfs",
    "tests/test_translations.py": "translations",  # `extracted`: pybabel extract over the project, ~1.5 s
    "tests/test_pages_in_every_language.py": "languages",  # `every_catalogue`: every .po file read, ~0.5 s
}


class GroupedLoadScheduling(LoadScopeScheduling):
    """xdist's load scheduling with the tests of ONE_WORKER_MODULES kept together (one unit per server).

    Each other test is a unit of its own, handed to whichever worker runs short; the groups go first (xdist
    orders units largest first). xdist's own `--dist loadgroup` does not group here: pytest 9 keeps the node id
    in Node._id, and xdist 3.8 renames Node._nodeid.
    """

    def _split_scope(self, nodeid):
        return ONE_WORKER_MODULES.get(nodeid.split("::", 1)[0], nodeid)


# Modules whose tests mostly wait on processes they start (huey consumers, Redis, gunicorn, 4-13 s each):
# collected first, so that under -n none of them starts near the end of the run while the other worker has
# nothing left to do.
WAITING_MODULES = ("test_push_kill.py", "test_queue_redis.py", "test_make_run.py", "test_instance_keys.py",
                   "test_photo_costs.py", "test_sigterm.py")


def pytest_collection_modifyitems(items):
    """WAITING_MODULES first, each module's tests in their own order (a stable sort)."""
    items.sort(key=lambda item: item.path.name not in WAITING_MODULES)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """-n's default scheduling (`--dist load`) is GroupedLoadScheduling; any other --dist is xdist's own."""
    if config.getvalue("dist") == "load":
        return GroupedLoadScheduling(config, log)
    return None


# A test process holds every collected test, the app and its compiled templates: with Python's default thresholds
# (700, 10, 10) its full collections walked that whole heap again and again, 12.8 s of the run's CPU (measured with
# gc.callbacks, 11,500 collections on two workers). Young objects are still collected, only less often, and what
# collection made is frozen out of the full collections. The third threshold stays at 10: at 100 a worker kept 1.4
# million objects of cyclic garbage to the end of the run (1 GB, and 2 s to collect them there).
TEST_GC_THRESHOLDS = (50_000, 20, 10)


def pytest_collection_finish(session):
    """Everything collection made is kept for the whole run: freeze it, and collect less often from here."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*TEST_GC_THRESHOLDS)


def pytest_unconfigure(config):
    for folder in (getattr(config, "_fieldapp_basetemp", None), SCRATCH_INSTANCE):
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


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
def scratch_path(tmp_path):
    """A folder of this test's own in memory (/dev/shm) where there is one, else tmp_path.

    The database copy lives here: SQLite's fsync on every commit (synchronous=FULL) costs nothing in RAM,
    and what the tests check does not depend on a disk.
    """
    if not os.path.isdir("/dev/shm") or not os.access("/dev/shm", os.W_OK):
        yield tmp_path
        return
    folder = tempfile.mkdtemp(prefix="fieldapp-test-", dir="/dev/shm")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def world_templates(tmp_path_factory, postgres_server, migrated_template, pin_hash):
    """Built once per run (per xdist worker): {"world": Template, "records": Template}.

    "world" holds helpers.World's rows, "records" also those of helpers.add_photo_and_alert (with the photo
    file in Template.uploads). The `world` and `world_with_records` fixtures copy one of them instead of
    inserting ~20 or ~45 rows per test.
    """
    folder = tmp_path_factory.mktemp("world-templates")
    templates = {}
    for kind in ("world", "records"):
        if postgres_server is None:
            target = folder / f"{kind}.db"
            shutil.copyfile(migrated_template, target)
            url = f"sqlite:///{target}"
        else:
            target = postgres_server.copy_of(migrated_template, name=f"fieldapp_{kind}")
            url = postgres_server.url(target)
        builder = create_app(test_config(folder / kind, url))
        with builder.app_context():
            world = World(pin_hash)
            if kind == "records":
                add_photo_and_alert(builder, world)
            # The builder's key fingerprints (fieldapp/keys.py) go: a test's own create_app on a copy has others.
            InstanceKey.delete().execute()
        templates[kind] = WorldTemplate(target, pickle.dumps(world), storage.for_app(builder).root)
        database.close()
        if hasattr(database.obj, "close_all"):
            database.obj.close_all()
    if postgres_server is None:
        for template in templates.values():  # one self-contained file each, as migrated_template
            conn = sqlite3.connect(template.database)
            try:
                conn.execute("PRAGMA journal_mode=DELETE")
            finally:
                conn.close()
    return templates


@pytest.fixture
def database_url(request, scratch_path, postgres_server, migrated_template):
    """A migrated database of this test's own, copied from the template.

    With the world in it when the test uses `world` (or `world_with_records`): see world_templates.
    """
    template = migrated_template
    # The browser tests' `live` server makes its own World (tests/browser/conftest.py), and a browser test may
    # name its own fixture `world` on top of it: its database starts migrated and empty.
    for fixture, kind in (("world_with_records", "records"), ("world", "world")):
        if fixture in request.fixturenames and "live" not in request.fixturenames:
            template = request.getfixturevalue("world_templates")[kind].database
            break
    if postgres_server is None:
        shutil.copyfile(template, scratch_path / "fieldapp.db")
        return f"sqlite:///{scratch_path}/fieldapp.db"
    return postgres_server.url(postgres_server.copy_of(template))


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


# What create_app derives from the instance folder and the database URL: set again for each test.
PER_TEST_CONFIG = ("DATABASE_URL", "INSTANCE_PATH", "SECRET_KEY", "UPLOAD_FOLDER", "VAPID_PRIVATE_KEY_PATH",
                   "VAPID_PUBLIC_KEY", "AUDIT_ANCHOR_DIR", "AUDIT_SIGNING_KEY_PATH")


@pytest.fixture(scope="session")
def _worker_app(tmp_path_factory):
    """One app per test process, made by create_app with test_config.

    Making an app costs ~60 ms (werkzeug compiles ~170 URL rules) and a fresh app compiles every template
    again; the `app` fixture gives each test this app reset to what create_app would have made for it.
    """
    folder = tmp_path_factory.mktemp("worker-app")
    app = create_app(test_config(folder, f"sqlite:///{folder}/unused.db"))
    app.test_client_class = CsrfClient
    config = {k: v for k, v in app.config.items() if k not in PER_TEST_CONFIG}
    return app, config, app.jinja_env.loader, app.jinja_env.auto_reload


@pytest.fixture
def app(tmp_path, database_url, photo_store_config, _worker_app):
    """The app as create_app(test_config(...)) makes it, with this test's own database and instance folder.

    The same Flask object serves every test of a process (see _worker_app): its configuration, instance
    folder (keys, uploads), database and Jinja loader are set afresh here and put back after the test, so
    what one test changes in app.config is not seen by the next. A test that changes what create_app does
    (other settings at creation, blueprints) makes its own app with create_app.
    """
    app, config, loader, auto_reload = _worker_app
    app.config.clear()
    app.config.update(config)
    app.instance_path = str(tmp_path / "instance")  # where create_app(test_config(tmp_path)) puts it
    app.config["DATABASE_URL"] = database_url
    app.config.update(photo_store_config)  # the local folder, or the session's SeaweedFS with --storage=s3
    app.extensions.pop(storage.EXTENSION, None)  # made again from this test's configuration on first use
    instance.prepare(app)  # the keys and uploads folder, as create_app makes them
    app.config.setdefault("VAPID_PUBLIC_KEY", instance.vapid_public_key(app.config["VAPID_PRIVATE_KEY_PATH"]))
    database.initialize(make_database(database_url))
    app.extensions.pop("fieldapp.sw", None)
    yield app
    if not database.is_closed():
        database.close()
    if hasattr(database.obj, "close_all"):
        database.obj.close_all()  # the pool's idle connections: the file is removed after the test
    if app.jinja_env.loader is not loader or app.jinja_env.auto_reload != auto_reload:
        app.jinja_env.loader, app.jinja_env.auto_reload = loader, auto_reload
        app.jinja_env.cache.clear()  # templates compiled from the test's own loader


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
def world(request, db, world_templates):
    """helpers.World: its rows come with the database copy (world_templates); the model instances that made
    them are unpickled here, as World(pin_hash) would have returned them."""
    kind = "records" if "world_with_records" in request.fixturenames else "world"
    return pickle.loads(world_templates[kind].world)


@pytest.fixture
def world_with_records(app, world, world_templates):
    """World after helpers.add_photo_and_alert(app, world), made once per run: the same rows, ids and photo."""
    store, photos_folder = storage.for_app(app), world_templates["records"].uploads
    if isinstance(store, storage.LocalStorage):
        shutil.copytree(photos_folder, store.root, dirs_exist_ok=True)
    else:  # --storage=s3: put into this test's bucket prefix (S3Storage.restore_file copies, never moves)
        for name, path in storage.LocalStorage(photos_folder).local_files():
            store.restore_file(name, path)
    return world


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

