"""Competence's background work: the daily expiry reminders (fieldapp/competence/reminders.py)."""
from huey import crontab

from ..queue import periodic
from . import reminders


@periodic(crontab(hour="6", minute="15"))
def send_expiry_reminders():
    """Every morning: 90, 30 and 0 days before a certificate expires and once after, each step once."""
    return reminders.run()
