"""The huey instance (SQLite in the instance folder by default, Redis when REDIS_URL is set), and the context
every task runs in.

Several consumers may share one Redis queue (issue 23), each taking tasks as it is free. Exactly one of them
runs the periodic tasks; the others start with `huey_consumer fieldapp.worker.huey -n` (no periodic tasks).
Every periodic task is safe when it runs twice anyway (two consumers started without -n, a retry): each
step is claimed by a conditional update, a unique key or a lease (tests/test_periodic_twice.py).

Feature tasks live in each feature's tasks.py: `@huey.context_task(context)` for a task,
`@periodic(crontab(...))` for a periodic one; both run inside `context`.
"""
import functools
import os
import threading
from contextlib import ExitStack

try:
    import redis  # the `redis` extra: only with FIELDAPP_REDIS_URL
except ImportError:  # pragma: no cover - SQLite queue only
    redis = None

from flask import has_app_context
from huey import RedisHuey, SqliteHuey

from . import config
from .db import database


REDIS_CONNECT_TIMEOUT = 2  # seconds
REDIS_TIMEOUT = 5


def make_huey(settings=None):
    """The queue the settings name (config.settings(): REDIS_URL, else huey.db in the instance folder)."""
    settings = config.settings() if settings is None else settings
    if settings.get("REDIS_URL"):
        # Bounded waits: a web request whose enqueue finds Redis unreachable gives up within seconds (the sweep
        # sends what it queued) instead of hanging; above the consumer's 1 s blocking read.
        pool = redis.ConnectionPool.from_url(settings["REDIS_URL"], socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
                                             socket_timeout=REDIS_TIMEOUT)
        return RedisHuey("fieldapp", connection_pool=pool)
    folder = settings["INSTANCE_PATH"]
    os.makedirs(folder, exist_ok=True)
    # Its own file: the queue's writes never wait on the app's database lock.
    return SqliteHuey("fieldapp", filename=os.path.join(folder, "huey.db"))


class TaskContext:
    """What a task runs in: the worker's app (configuration, translations) unless an app context is already
    there (a test, a CLI command), and a database connection of its own.

    The worker binds its app once (fieldapp/worker.py). One object serves every consumer thread, so each
    thread keeps its own stack of what it entered.
    """

    def __init__(self):
        self.app = None
        self._local = threading.local()

    def bind(self, app):
        self.app = app

    def __enter__(self):
        stack = ExitStack()
        if self.app is not None and not has_app_context():
            stack.enter_context(self.app.app_context())
        stack.enter_context(database.connection_context())
        self._local.__dict__.setdefault("stacks", []).append(stack)
        return self

    def __exit__(self, *exc_info):
        return self._local.stacks.pop().__exit__(*exc_info)


huey = make_huey()
context = TaskContext()


def periodic(validate_datetime, **kwargs):
    """huey.periodic_task inside `context`: what huey.context_task does for a task, for a periodic one."""

    def decorator(task_fn):
        @functools.wraps(task_fn)
        def inner(*args, **kw):
            with context:
                return task_fn(*args, **kw)

        return huey.periodic_task(validate_datetime, **kwargs)(inner)

    return decorator
