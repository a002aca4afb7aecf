"""The database: a proxy bound at start-up, SQLite pragmas, one connection per request."""
import logging
from datetime import timedelta

from flask import request
from peewee import DatabaseProxy, Field, SqliteDatabase
from peewee_migrate import Router
from playhouse import db_url
from playhouse.pool import PooledSqliteDatabase

from . import clock
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


REPLAY_SECONDS = 60  # a form without a UUID sent again by the same person within this is the record saved


def locked(model, row_id):
    """The row `row_id` of `model`, read inside the caller's transaction and held until it ends: on PostgreSQL
    SELECT ... FOR UPDATE; SQLite transactions here begin IMMEDIATE, which already serializes writers. Two
    requests that check, then write (a form sent twice at once, a cap) under the same row see each other's
    rows. Raises model.DoesNotExist when there is no such row."""
    query = model.select().where(model.id == row_id)
    return (query if is_sqlite() else query.for_update()).get()


def replayed_since():
    """The earliest creation time (naive UTC) of a record that a form sent again now would repeat."""
    return clock.utcnow() - timedelta(seconds=REPLAY_SECONDS)


def init_app(app):
    database.initialize(make_database(app.config["DATABASE_URL"]))

    @app.before_request
    def connect():
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


def model_from(model, values):
    """A model instance from its columns in field order (as Model.select(model) returns them, and a ReusedSelect
    of it: each value already converted by its field)."""
    return model(**dict(zip(model._meta.sorted_field_names, values)))


class ReusedSelect:
    """A SELECT whose SQL peewee builds once per process and database, then runs with each call's values.

    Building the SQL costs more than running it on a page that needs three queries, so the pages that every
    request pays for (the session, the people list) build theirs once. Public peewee APIs only:
    `query.sql()`, `database.execute_sql()` and each field's `db_value`/`python_value`.

    build(*samples) -> a peewee SELECT (or UNION of SELECTs), called once per database, with `samples`
    where each call's values go. params: [(field, sample)], one per argument of build: the field that the
    value is compared with (its db_value converts each call's value as peewee would) and a sample value of
    the field's type that occurs nowhere else in the query (it finds the value's place among the parameters).
    Each selected column that is a field, or an alias of one, is converted by the field's python_value (as
    peewee's .tuples() does); other expressions come as the driver returns them.
    rows(*values) -> list of tuples; ValueError at the first call if a sample is not found in the SQL.

    The SQL is kept per kind of database (its class, parameter mark and quote): what peewee's SQL depends on, so
    a process that opens several databases of one kind (the tests: one per test) builds it once.
    """

    def __init__(self, build, params):
        self._build = build
        self._params = params
        self._built = {}  # (database class, param, quote) -> what _sql_for returns
        self._current = (None, None)  # (the database last used, its entry of _built): replaced in one step

    def _prepared(self, db):
        current_db, prepared = self._current
        if current_db is not db:
            kind = (type(db), db.param, db.quote)
            prepared = self._built.get(kind)
            if prepared is None:
                prepared = self._built[kind] = self._sql_for(db)
            self._current = (db, prepared)
        return prepared

    def _sql_for(self, db):
        """(sql, parameters with the samples, [(db_value, places)], ((i, python_value or None), ...)) for db."""
        query = self._build(*(sample for _field, sample in self._params))
        sql, params = query.sql()
        slots = []
        for field, sample in self._params:
            wanted = field.db_value(sample)
            places = [i for i, p in enumerate(params) if type(p) is type(wanted) and p == wanted]
            if not places:
                raise ValueError(f"{sample!r} does not reach the SQL of {self._build.__name__}")
            slots.append((field.db_value, places))
        columns = getattr(query, "lhs", query).selected_columns  # a UNION's columns are its first SELECT's
        converters = []
        for column in columns:
            node = column.unwrap()
            converters.append(node.python_value if isinstance(node, Field) else None)
        return sql, params, slots, tuple(enumerate(converters))

    def rows(self, *values):
        sql, template, slots, converters = self._prepared(database.obj)
        params = list(template)
        for (db_value, places), value in zip(slots, values):
            value = db_value(value)
            for i in places:
                params[i] = value
        out = []
        for row in database.execute_sql(sql, params).fetchall():
            row = list(row)
            for i, convert in converters:
                if convert is not None and row[i] is not None:
                    row[i] = convert(row[i])
            out.append(tuple(row))
        return out
