"""The audit log's background task: anchor the chain's head outside the database (fieldapp/anchors.py)."""
from huey import crontab

from . import anchors
from .queue import periodic


@periodic(crontab(minute="*/10"))
def anchor_audit_head():
    """Every 10 minutes, when the head has changed since the newest anchor: sign it and append it.

    Ten minutes bounds what the database's owner could still rewrite unseen (the README's threat model).
    Returns the anchor written, or None.
    """
    return anchors.write("periodic", only_if_changed=True)
