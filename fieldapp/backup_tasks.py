"""The daily backup in the worker (fieldapp/backup.py): one archive a day into BACKUP_DIR, BACKUP_KEEP kept."""
import fcntl
from datetime import datetime, timezone

from flask import current_app
from huey import crontab

from . import backup
from .queue import periodic


@periodic(crontab(hour="*", minute="17"))
def daily_backup():
    """At minute 17 of BACKUP_HOUR (UTC): back up unless the database is not SQLite (pg_dump then: README), or
    today's archive is made already (the task ran twice: a retry, or two consumers without -n; issue 23).

    Returns the archive's path as text, or None (another hour, PostgreSQL, or made already).
    """
    app = current_app._get_current_object()
    if backup.now_hour() != app.config["BACKUP_HOUR"] or not app.config["DATABASE_URL"].startswith("sqlite:///"):
        return None
    today = datetime.now(timezone.utc).strftime("%Y%m%dT")
    folder = backup.folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".backup.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # another run is making it now
        if any(folder.glob(f"{backup.PREFIX}{today}*.tar")):
            return None
        return str(backup.make(app))
