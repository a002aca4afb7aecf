"""Background tasks of the foundation; each runs inside the worker's app and its own connection."""
import functools
from contextlib import nullcontext
from datetime import timedelta

from flask import has_app_context
from huey import crontab

from .db import database
from .models import DeviceSession, EnrollmentCode, LoginThrottle, utcnow
from .queue import huey


_worker_app = None


def bind_app(app):
    """The worker's app: tasks run in its context (configuration, translations)."""
    global _worker_app
    _worker_app = app


def with_database(task_fn):
    """Tasks have no request: run in the app's context with a connection of their own."""

    @functools.wraps(task_fn)
    def wrapped(*args, **kwargs):
        context = _worker_app.app_context() if _worker_app and not has_app_context() else nullcontext()
        with context, database.connection_context():
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


@huey.periodic_task(crontab(minute="*/5"))
@with_database
def close_open_check_ins():
    """Check-ins still open after the site's end of day are closed at that time, marked automatic."""
    from .checkin import service

    return service.close_open_check_ins()


@huey.periodic_task(crontab(hour="3", minute="30"))
@with_database
def purge_old_attendance():
    """Attendance lists of sites closed more than ATTENDANCE_RETENTION_DAYS ago are deleted."""
    from flask import current_app

    from .checkin import service

    return service.purge_old_attendance(current_app.config["ATTENDANCE_RETENTION_DAYS"])


@huey.task()
@with_database
def deliver_alert(alert_id, subscription_ids=None, attempt=0):
    """Push an alert to its recipients' devices (or, on a retry, to the devices that failed)."""
    from .alerts import service

    return service.deliver(alert_id, subscription_ids, attempt)


@huey.periodic_task(crontab(minute="*"))
@with_database
def escalate_alerts():
    """Alerts that foremen have not acknowledged by the deadline are sent again and the managers told."""
    from .alerts import service

    return service.escalate()
