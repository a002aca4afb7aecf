"""Walkaround background work: the reminder when a site's round is due (push and the alerts inbox)."""
from huey import crontab

from ..queue import periodic
from . import service


@periodic(crontab(minute="5"))
def remind_due_rounds():
    """Hourly: sites whose walkaround is due today or overdue get one reminder per due date."""
    return service.remind_due()
