"""Duties' background work: the daily reminders that a verneombud's term ends within 60 days and that an order
from Arbeidstilsynet is due within a week."""
from huey import crontab

from ..queue import periodic
from . import reminders


@periodic(crontab(hour="6", minute="20"))
def remind_terms_ending():
    """Every morning: each term ending within 60 days, once (fieldapp/duties/reminders.py)."""
    return reminders.run()


@periodic(crontab(hour="6", minute="25"))
def remind_orders_due():
    """Every morning: each open order due within a week, once (fieldapp/duties/reminders.py)."""
    return reminders.run_orders()
