"""Background tasks of the foundation; each runs inside the worker's app and its own connection."""
import functools
from datetime import timedelta

from huey import crontab

from .db import database
from .models import DeviceSession, EnrollmentCode, LoginThrottle, utcnow
from .queue import huey


def with_database(task_fn):
    """Tasks have no request: open a connection for the task and close it after."""

    @functools.wraps(task_fn)
    def wrapped(*args, **kwargs):
        with database.connection_context():
            return task_fn(*args, **kwargs)

    return wrapped


@huey.periodic_task(crontab(minute="17"))
@with_database
def purge_stale_sign_in_data():
    """Old throttling rows, spent enrollment codes and long-dead sessions (kept 90 days for support)."""
    now = utcnow()
    with database.atomic():
        throttles = LoginThrottle.delete().where(LoginThrottle.window_started_at < now - timedelta(days=1)).execute()
        codes = EnrollmentCode.delete().where(EnrollmentCode.expires_at < now - timedelta(days=30)).execute()
        sessions = DeviceSession.delete().where(
            (DeviceSession.expires_at < now - timedelta(days=90))
            | (DeviceSession.revoked_at < now - timedelta(days=90))).execute()
    return {"throttles": throttles, "codes": codes, "sessions": sessions}
