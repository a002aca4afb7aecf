"""Duties' background work: the daily reminder that a verneombud's term ends within 60 days."""
from huey import crontab

from ..queue import periodic
from . import reminders


@periodic(crontab(hour="6", minute="20"))
def remind_terms_ending():
    """Every morning: each term ending within 60 days, once (fieldapp/duties/reminders.py)."""
    return reminders.run()
