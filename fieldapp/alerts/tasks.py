"""The alerts' background work: push deliveries (issue 13: at least once) and escalation.

The web process queues deliver_alert after an alert's transaction commits (deliver_soon); the consumer runs
it, the minutely sweep and escalation, each inside fieldapp.queue.context.
"""
import logging

from flask import current_app, has_app_context
from huey import crontab

from ..queue import context, huey, periodic
from . import delivery

log = logging.getLogger(__name__)
# Subscriptions per delivery task: 10,000 phones are 20 tasks that the consumers share. A consumer sends about
# PUSH_WORKERS / (push service answer time) messages a second (64 / 50 ms: 1,280), so a chunk takes ~0.4 s.
CHUNK = 500


def deliver(alert_id=None, now=None, seconds=delivery.RUN_SECONDS, span=None):
    """One delivery run (delivery.deliver: same arguments and counts); with retries, a run is scheduled for
    when the first is due (the sweep would find it too, up to a minute later)."""
    counts = delivery.deliver(alert_id, now=now, seconds=seconds, span=span)
    if counts["retry_in"] is not None:
        deliver_alert.schedule((alert_id,), delay=counts["retry_in"])
    return counts


@huey.context_task(context)
def deliver_alert(alert_id=None, span=None, attempt=0):
    """Send an alert's due push deliveries now (alert_id None: every alert's), only those to the subscriptions
    span=(first id, last id) when given (one chunk of a fanout, see deliver_soon).

    attempt is what tasks queued before migration 006 carry. Chunks queued before migration 023 carry the
    chunk's sorted subscription ids in place of span: their first..last is the same chunk. The rows in
    push_delivery say what is left to send.
    """
    if span:
        span = (min(span), max(span))
    return deliver(alert_id, span=span)


def deliver_soon(alert_id):
    """Ask the consumers to send the alert's deliveries now. Call after the alert's transaction has committed.

    A large alert (a stop-work order to a whole site) is queued as one task per CHUNK subscriptions, so that
    every consumer takes a share (issue 23); a chunk that a killed consumer lost is sent by the sweep once its
    claims' lease has run out. The rows are already durable, so a failed enqueue (Redis down, process killed)
    only delays them until the next sweep (every minute): it is logged and not raised, so the person's report
    or alert still succeeds. Returns the number of tasks queued.
    """
    queued = 0
    try:
        size = current_app.config.get("PUSH_CHUNK", CHUNK) if has_app_context() else CHUNK
        chunks = delivery.chunks(alert_id, size) if alert_id is not None else [None]
        for span in chunks:
            deliver_alert(alert_id, span)
            queued += 1
    except Exception:  # noqa: BLE001 - any queue failure; the sweep sends the rows, the log shows why it waited
        log.exception("could not queue push delivery of alert %s; the periodic sweep will send it", alert_id)
    return queued


@periodic(crontab(minute="*"))
def sweep_push_deliveries():
    """Issue 13: what no consumer is sending: rows left by a killed consumer once their lease has run out,
    retries that are due, and alerts whose enqueue was lost after their transaction committed."""
    return deliver(None)


@huey.on_startup()
def resume_push_deliveries():
    """A consumer that starts sends what waits now, and again once the leases of a consumer that was killed
    have run out: every phone gets its message within a lease (60 s) of the restart, not at the next sweep."""
    config = context.app.config if context.app is not None else {}
    lease = config.get("PUSH_LEASE_SECONDS", delivery.LEASE_SECONDS)
    deliver_alert(None)
    deliver_alert.schedule((None,), delay=lease + 1)


def escalate(now=None):
    """delivery.escalate, with each escalation's messages queued as soon as it has committed."""
    return delivery.escalate(now, then=deliver_soon)


@periodic(crontab(minute="*"))
def escalate_alerts():
    """Alerts that foremen have not acknowledged by the deadline are sent again and the managers told."""
    return escalate()
