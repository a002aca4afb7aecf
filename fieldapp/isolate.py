"""Periodic runs over sites, people and records: one item's unexpected error is logged and the run goes on.

A reminder run, a sweep or a refresh goes through many sites; a site with a broken setting, a record the code
did not foresee or a bug in one wording must not stop the others' reminders. Each item's work runs in its own
transaction (or savepoint), so a failure rolls back that item only: what it would have recorded (a reminder
step, a "reminded" mark) is not recorded, and the next run tries it again, while the others are recorded once
as before and never sent twice.
"""
import logging

from .db import database

log = logging.getLogger("fieldapp.periodic")


def attempt(what, key, work, *args, atomic=True):
    """Run work(*args) in a transaction (a savepoint inside an open one). Returns (True, its result), or
    (False, None) after logging the exception with `what` (the run's name) and `key` (the item: a site id,
    a record id). Never raises for an Exception; KeyboardInterrupt and SystemExit pass.

    atomic=False: no transaction around it, for work whose every write is its own idempotent transaction
    (alerts.service.inform: keyed alerts, queued for delivery after each commits)."""
    try:
        if not atomic:
            return True, work(*args)
        with database.atomic():
            return True, work(*args)
    except Exception:  # noqa: BLE001 - any one item's fault: logged with its name, the others go on
        log.exception("%s: item %s failed; the run goes on with the others", what, key)
        return False, None


def each(what, items, work, key=lambda item: getattr(item, "id", item), atomic=True):
    """work(item) for every item, each isolated by `attempt`. Returns (results of those that succeeded,
    number that failed). items: any finite iterable (the caller bounds it)."""
    results, failed = [], 0
    for item in items:
        ok, result = attempt(what, key(item), work, item, atomic=atomic)
        if ok:
            results.append(result)
        else:
            failed += 1
    return results, failed
