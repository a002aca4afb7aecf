"""The meetings' background work: a reminder of due and overdue meetings to those who run them."""
from huey import crontab

from ..queue import periodic
from . import service


# Hourly in the working day (UTC 05-19): one reminder per site, kind and due date is recorded, so running
# again does no harm and a run lost with a killed worker is caught up within the hour.
@periodic(crontab(hour="5-19", minute="15"))
def remind_due_meetings():
    """One reminder (push and inbox) per site, kind and due date; see service.remind_due."""
    return service.remind_due()
