"""The daily backup in the worker (fieldapp/backup.py): one archive a day into BACKUP_DIR, BACKUP_KEEP kept."""
from flask import current_app
from huey import crontab

from . import backup
from .queue import periodic


@periodic(crontab(hour="*", minute="17"))
def daily_backup():
    """At minute 17 of BACKUP_HOUR (UTC): back up unless the database is not SQLite (pg_dump then: README).

    Returns the archive's path as text, or None (another hour, or PostgreSQL).
    """
    app = current_app._get_current_object()
    if backup.now_hour() != app.config["BACKUP_HOUR"] or not app.config["DATABASE_URL"].startswith("sqlite:///"):
        return None
    return str(backup.make(app))
