"""The database: a proxy bound at start-up, SQLite pragmas, one connection per request."""
import weakref

from peewee import DatabaseProxy, SqliteDatabase, Value
from playhouse import db_url
from playhouse.pool import PooledSqliteDatabase

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


class Slot:
    """A parameter of a prepared query, filled in when it runs."""

    def __init__(self, name, field=None):
        self.name = name
        self.convert = field.db_value if field is not None else None

    def bind(self, values):
        value = values[self.name]
        return self.convert(value) if self.convert else value


def slot(name, field=None):
    """Stands for values[name] in a prepared query; `field` converts it as a comparison would."""
    return Value(Slot(name, field), converter=False)


class Prepared:
    """A select whose SQL text is built once per database and then run with new values.

    peewee builds the SQL of a query anew on every execution (about 0.6 ms for a join here), which
    is most of the cost of the two queries every signed-in request makes. `build` returns the query
    with slot() where the values go; calling the Prepared runs it and returns peewee's usual rows.
    """

    def __init__(self, build):
        self.build = build
        self._by_database = weakref.WeakKeyDictionary()

    def _prepared(self):
        db = database.obj
        entry = self._by_database.get(db)
        if entry is None:
            query = self.build()
            sql, params = query.sql()
            entry = self._by_database[db] = (query, sql, params)
        return entry

    def __call__(self, **values):
        query, sql, params = self._prepared()
        bound = [p.bind(values) if isinstance(p, Slot) else p for p in params]
        return query._get_cursor_wrapper(database.obj.execute_sql(sql, bound))

    def first(self, **values):
        for row in self(**values):
            return row
        return None

    def rows(self, row_type, **values):
        """Plain rows as row_type(*columns), skipping peewee's per-column conversion.

        For list pages whose columns need no conversion (text, numbers); about 8 µs a row less.
        """
        query, sql, params = self._prepared()
        bound = [p.bind(values) if isinstance(p, Slot) else p for p in params]
        return [row_type(*row) for row in database.obj.execute_sql(sql, bound)]


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
    import logging

    from peewee_migrate import Router

    from .config import PROJECT_ROOT

    logger = logging.getLogger("fieldapp.migrations")
    router = Router(db or database.obj, migrate_dir=str(PROJECT_ROOT / "migrations"),
                    ignore=["basemodel"], logger=logger)
    return router.run()
