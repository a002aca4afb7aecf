"""Competence's background work: the daily expiry reminders (fieldapp/competence/reminders.py)."""
from huey import crontab

from ..queue import periodic
from . import reminders


# Every hour of the working day (UTC 05-19: 06-20 in Norway), not once a day: each step is recorded once
# (a unique key), so a run that a killed worker lost is caught up within the hour, and nobody is woken at night.
@periodic(crontab(hour="5-19", minute="15"))
def send_expiry_reminders():
    """90, 30 and 0 days before a certificate expires and once after, each step once (reminders.run)."""
    return reminders.run()
