"""Statistics' background work: summing the check-in days that changed, so pages seldom have to."""
from huey import crontab

from ..queue import periodic
from . import hours, service


@periodic(crontab(minute="*/10"))
def refresh_hours():
    """Every site's changed check-in days summed again (hours.refresh), and the marks of deleted sites dropped;
    returns how many day sums were made."""
    hours.drop_orphan_marks()
    return hours.refresh(service.all_sites())
