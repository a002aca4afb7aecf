"""Accounts' background work: forgetting sign-in data nobody needs any more."""
from datetime import timedelta

from huey import crontab

from ..db import database
from ..models import DeviceSession, EnrollmentCode, LoginThrottle, utcnow
from ..queue import periodic


@periodic(crontab(minute="17"))
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
