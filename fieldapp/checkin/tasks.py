"""Check-in's background work: closing forgotten check-ins, and deleting attendance lists past retention."""
from flask import current_app
from huey import crontab

from ..queue import periodic
from . import service


@periodic(crontab(minute="*/5"))
def close_open_check_ins():
    """Check-ins still open after the site's end of day are closed at that time, marked automatic."""
    return service.close_open_check_ins()


@periodic(crontab(hour="3", minute="30"))
def purge_old_attendance():
    """Attendance lists of sites closed more than ATTENDANCE_RETENTION_DAYS ago are deleted."""
    return service.purge_old_attendance(current_app.config["ATTENDANCE_RETENTION_DAYS"])
