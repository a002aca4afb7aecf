"""The database: a proxy bound at start-up, SQLite pragmas, one connection per request."""
import logging

from peewee import DatabaseProxy, SqliteDatabase
from peewee_migrate import Router
from playhouse import db_url
from playhouse.pool import PooledSqliteDatabase

from .config import PROJECT_ROOT

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers do not block the one writer
    "foreign_keys": 1,  # SQLite leaves them off unless asked
    "busy_timeout": 5000,
    # FULL: a report the server has acknowledged survives a power cut, not just a crash.
    "synchronous": "full",
    "cache_size": -16000,
}


def make_database(url):
    """SQLite with our pragmas for sqlite:/// URLs; anything else through playhouse.db_url."""
    if url.startswith("sqlite:///"):
        # BEGIN IMMEDIATE: a transaction that reads and then writes takes the write lock up front and
        # waits its turn (busy timeout), instead of failing with "database is locked" halfway.
        # Pooled: a request reuses an open connection instead of reopening the file and re-running
        # the pragmas; connections idle for five minutes are closed.
        return PooledSqliteDatabase(url[len("sqlite:///"):], pragmas=SQLITE_PRAGMAS, timeout=5,
                                    lock_type="IMMEDIATE", max_connections=32, stale_timeout=300,
                                    check_same_thread=False)
    return db_url.connect(url)


def is_sqlite(db=None):
    db = db or database.obj
    return isinstance(db, SqliteDatabase)


def init_app(app):
    database.initialize(make_database(app.config["DATABASE_URL"]))

    @app.before_request
    def connect():
        from flask import request

        if request.endpoint not in ("static", "shell.service_worker", "shell.healthz"):
            database.connect(reuse_if_open=True)

    @app.teardown_request
    def close(exc):
        if not database.is_closed():
            database.close()


def run_migrations(db=None):
    """Apply every migration in migrations/ that this database has not had yet."""
    logger = logging.getLogger("fieldapp.migrations")
    router = Router(db or database.obj, migrate_dir=str(PROJECT_ROOT / "migrations"),
                    ignore=["basemodel"], logger=logger)
    return router.run()
