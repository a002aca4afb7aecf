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
def deliver_alert(alert_id=None, subscription_ids=None, attempt=0):
    """Send an alert's due push deliveries now (alert_id None: every alert's).

    subscription_ids and attempt are what tasks queued before migration 006 carry; the rows in push_delivery
    now say what is left to send, so they are not needed.
    """
    from .alerts import service

    return service.deliver(alert_id)


@huey.periodic_task(crontab(minute="*"))
@with_database
def sweep_push_deliveries():
    """Issue 13: what no consumer is sending: rows left by a killed consumer once their lease has run out,
    retries that are due, and alerts whose enqueue was lost after their transaction committed."""
    from .alerts import service

    return service.deliver(None)


@huey.on_startup()
def resume_push_deliveries():
    """A consumer that starts sends what waits now, and again once the leases of a consumer that was killed
    have run out: every phone gets its message within a lease (60 s) of the restart, not at the next sweep."""
    lease = _worker_app.config.get("PUSH_LEASE_SECONDS", 60) if _worker_app else 60
    deliver_alert(None)
    deliver_alert.schedule((None,), delay=lease + 1)


@huey.periodic_task(crontab(minute="*"))
@with_database
def escalate_alerts():
    """Alerts that foremen have not acknowledged by the deadline are sent again and the managers told."""
    from .alerts import service

    return service.escalate()
