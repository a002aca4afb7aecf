"""Accounts' background work: forgetting sign-in data nobody needs any more."""
from datetime import timedelta

from huey import crontab

from ..db import database
from ..models import DeviceSession, EnrollmentCode, LoginThrottle, PushSubscription, utcnow
from ..queue import periodic


@periodic(crontab(minute="17"))
def purge_stale_sign_in_data():
    """Old throttling rows, spent enrollment codes and long-dead sessions (kept 90 days for support), with the push
    subscriptions of those sessions' phones. Returns the counts deleted of each."""
    now = utcnow()
    with database.atomic():
        throttles = LoginThrottle.delete().where(LoginThrottle.window_started_at < now - timedelta(days=1)).execute()
        codes = EnrollmentCode.delete().where(EnrollmentCode.expires_at < now - timedelta(days=30)).execute()
        dead = ((DeviceSession.expires_at < now - timedelta(days=90))
                | (DeviceSession.revoked_at < now - timedelta(days=90)))
        # A phone signed out of (or long expired) may be someone else's now: its push subscription goes with the
        # session, rather than outliving it with no session to say so (alerts skip revoked sessions' phones).
        subscriptions = PushSubscription.delete().where(
            PushSubscription.device_session.in_(DeviceSession.select(DeviceSession.id).where(dead))).execute()
        sessions = DeviceSession.delete().where(dead).execute()
    return {"throttles": throttles, "codes": codes, "sessions": sessions, "push_subscriptions": subscriptions}
