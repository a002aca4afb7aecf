"""The meetings' background work: a reminder of due and overdue meetings to those who run them."""
from huey import crontab

from ..queue import periodic
from . import service


@periodic(crontab(hour="6", minute="15"))
def remind_due_meetings():
    """Every morning: one reminder (push and inbox) per site, kind and due date; see service.remind_due."""
    return service.remind_due()
