"""Sending alerts by push and escalating them: the work the alert tasks (fieldapp/alerts/tasks.py) run.

Nothing here queues a task: a run returns what is left (counts["retry_in"]) and alerts.tasks schedules it, so
this module and the tasks that call it import one way.
"""
import json
import logging
import time
import uuid as uuidlib
from collections import Counter, namedtuple
from concurrent.futures import FIRST_COMPLETED, wait
from datetime import timedelta

from flask import current_app
from peewee import JOIN, Value, chunked, fn

from .. import audit, isolate, push
from ..db import database, is_sqlite
from ..models import (Alert, AlertRecipient, DeviceSession, Membership, PushDelivery, PushSubscription,
                      User, utcnow)
from .wording import wording

PAYLOAD_BODY = 600  # characters of the text in the push message; the whole text is in the app
PAYLOAD_BYTES = 3000  # bytes of the JSON at most, before encryption
TTL = {"stop_work": 4 * 3600, "warning": 12 * 3600, "info": 24 * 3600}  # seconds a push service keeps it
MAX_ATTEMPTS = 5

# --- delivery (issue 13: at least once) -------------------------------------------------------------------
#
# Each (recipient, device) is a PushDelivery row, written in the transaction that makes the alert. A run claims
# due rows for a lease, sends them with the shared Sender and records each answer in small batches as it comes.
# A consumer killed mid-run leaves rows that were claimed (sent or not) and rows not yet claimed; the periodic
# sweep, and the sweep every consumer starts with, send them again once the lease has run out. So a phone may get
# a message twice (its service worker shows one notification per tag), never zero times.

LEASE_SECONDS = 60  # a claimed row is another consumer's after this; a run sends its claims well within it
RECORD_EVERY = 50  # results per commit ...
RECORD_SECONDS = 0.5  # ... or at least this often
RUN_SECONDS = 300  # a run stops claiming after this; the next sweep goes on
BROKEN = (400, 403)  # the push service refuses this subscription for good (e.g. a VAPID key mismatch)
REFUSED_HERE = 0  # last_status when the endpoint is not on an allowed push service (never contacted)

log = logging.getLogger(__name__)


def link(alert):
    return f"/s/{alert.site_id}/alerts/{alert.id}"


def payload(alert, language, prefix=""):
    """The push message: JSON bytes, fewer than PAYLOAD_BYTES (a push service takes 4 KB once encrypted).

    The text is cut at PAYLOAD_BODY characters, then, while the JSON is still too long in bytes (characters of
    three or four bytes in UTF-8, or an escalation's prefix of names), the text and then the title are cut
    further, each with "…". The whole text is in the app.
    """
    title, text = wording(alert, language)
    if len(text) > PAYLOAD_BODY:
        text = text[:PAYLOAD_BODY - 1] + "…"
    body = {"title": prefix + title, "body": text, "level": alert.level, "url": link(alert),
            "tag": f"alert-{alert.id}", "alert": alert.id, "site": alert.site_id}
    for _ in range(16):  # bounded: each pass frees at least the bytes that were over, and by then it fits
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        over = len(data) - PAYLOAD_BYTES + 1
        if over <= 0:
            return data
        field = "body" if body["body"] else "title"
        words = body[field]
        body[field] = words[:max(0, len(words) - over - 1)] + "…" if len(words) > over + 1 else ""
    raise ValueError("push payload too large")  # not reached: title and text empty are ~200 bytes


def queue_deliveries(alert, recipient_ids=None, round=0, prefix_for=None):
    """Write a PushDelivery for every working device of the alert's recipients (or of recipient_ids).

    Call inside the transaction that makes the alert or its escalation: then no crash can leave an alert
    whose messages nobody will send. Devices whose push service refused them (broken) get none, nor do
    devices whose device session was signed out or revoked (a shared phone may be someone else's now).
    Returns the number of rows written.
    """
    query = (AlertRecipient.select(AlertRecipient.id, PushSubscription.id)
             .join(PushSubscription, on=(PushSubscription.user == AlertRecipient.user))
             .join(DeviceSession, JOIN.LEFT_OUTER, on=(PushSubscription.device_session == DeviceSession.id))
             # Not to a phone the person signed out of (or that was revoked): it may be someone else's now.
             .where((AlertRecipient.alert == alert) & PushSubscription.broken_at.is_null()
                    & DeviceSession.revoked_at.is_null()))
    if recipient_ids is not None:
        query = query.where(AlertRecipient.id.in_(list(recipient_ids)))
    now = utcnow()
    if prefix_for is None:
        # One INSERT ... SELECT: a stop-work order to 10,000 phones writes its rows inside the database instead
        # of building 10,000 rows in Python (about 0.3 s of the order's request).
        at = PushDelivery.created_at.db_value(now)
        # Every NOT NULL column given (Python defaults do not apply here, and OR IGNORE would skip the row).
        rows = query.select(Value(alert.id), AlertRecipient.id, PushSubscription.id, Value(round), Value(""),
                            Value(at), Value(at), Value(0))
        return (PushDelivery.insert_from(rows, [PushDelivery.alert, PushDelivery.recipient,
                                                PushDelivery.subscription, PushDelivery.round, PushDelivery.prefix,
                                                PushDelivery.created_at, PushDelivery.next_attempt_at,
                                                PushDelivery.attempts])
                .on_conflict_ignore().as_rowcount().execute())
    rows = [{"alert": alert.id, "recipient": recipient_id, "subscription": subscription_id, "round": round,
             "prefix": prefix_for(recipient_id)[:300], "created_at": now, "next_attempt_at": now}
            for recipient_id, subscription_id in query.tuples()]
    for batch in chunked(rows, 500):
        PushDelivery.insert_many(batch).on_conflict_ignore().execute()
    return len(rows)


Claimed = namedtuple("Claimed", "id alert_id recipient_id subscription_id attempts prefix language endpoint "
                                "p256dh auth")


def _available(now):
    return (PushDelivery.sent_at.is_null() & PushDelivery.gave_up_at.is_null()
            & (PushDelivery.next_attempt_at <= now)
            & (PushDelivery.claimed_until.is_null() | (PushDelivery.claimed_until < now)))


def chunks(alert_id, size):
    """The alert's due deliveries as (first, last) subscription id spans of at most `size` subscriptions each
    (one delivery task each); the spans do not overlap and together hold every due delivery."""
    ids = [sid for (sid,) in PushDelivery.select(PushDelivery.subscription).distinct()
           .where((PushDelivery.alert == alert_id) & PushDelivery.sent_at.is_null() & PushDelivery.gave_up_at.is_null())
           .order_by(PushDelivery.subscription).tuples()]
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


class _Claims:
    """A run's claims: `take(now)` marks up to `limit` due, unclaimed rows (of subscriptions first..last when span
    is given) with a new token, claimed until now + lease, and reads them back as Claimed tuples.

    The two statements are written once per run with the database's placeholders: peewee spends about 2 ms of
    CPU building them, as much as sending three messages, and a fanout run claims ~150 times. One UPDATE marks
    the rows (PostgreSQL: its sub-select skips rows another consumer has locked, so consumers take different
    rows, not turns) and one SELECT finds them by the token (the partial index push_delivery_claim), so no list
    of ids is built. Times are passed as peewee's DateTimeField would pass them (db_value).
    """

    def __init__(self, limit, lease, alert_id=None, span=None):
        p = database.param  # "?" (SQLite) or "%s" (PostgreSQL)
        available = (f"sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= {p} "
                     f"AND (claimed_until IS NULL OR claimed_until < {p})")
        scope, self.scope = "", []
        if alert_id is not None:
            scope += f" AND alert_id = {p}"
            self.scope.append(alert_id)
        if span is not None:
            scope += f" AND subscription_id BETWEEN {p} AND {p}"
            self.scope += [span[0], span[1]]
        lock = "" if is_sqlite() else " FOR UPDATE SKIP LOCKED"
        # The condition again outside: on PostgreSQL another run may have claimed a row since the sub-select.
        self.mark = (f"UPDATE push_delivery SET claimed_by = {p}, claimed_until = {p} WHERE id IN "
                     f"(SELECT id FROM push_delivery WHERE {available}{scope} ORDER BY next_attempt_at, id "
                     f"LIMIT {int(limit)}{lock}) AND {available}")
        self.read = ('SELECT d.id, d.alert_id, d.recipient_id, d.subscription_id, d.attempts, d.prefix, u.language, '
                     's.endpoint, s.p256dh, s.auth FROM push_delivery d '
                     'JOIN push_subscription s ON s.id = d.subscription_id '
                     'JOIN alert_recipient r ON r.id = d.recipient_id JOIN "user" u ON u.id = r.user_id '
                     f'WHERE d.claimed_by = {p}')
        self.lease = lease

    def take(self, now):
        token = uuidlib.uuid4().hex
        at = PushDelivery.claimed_until.db_value(now)
        until = PushDelivery.claimed_until.db_value(now + self.lease)
        with database.atomic():
            marked = database.execute_sql(self.mark, [token, until, at, at, *self.scope, at, at]).rowcount
        if not marked:
            return []
        return [Claimed(*row) for row in database.execute_sql(self.read, [token]).fetchall()]


def _claim(limit, lease, alert_id, now, span=None):
    """One claim (see _Claims): up to `limit` due rows, claimed until now + lease, as Claimed tuples."""
    return _Claims(limit, lease, alert_id, span).take(now)


def _retry_wait(attempts, retry_after):
    """Seconds before the next try: 30 s doubling per attempt, or longer if the service asks (at most 1 h)."""
    return max(30 * 2 ** max(attempts - 1, 0), min(retry_after or 0, 3600))


def _record(results, now, counts):
    """Store a batch of (Claimed, push.Result) in one transaction."""
    if not results:
        return
    ok = [c for c, r in results if r.ok]
    gone = {c.subscription_id for c, r in results if r.gone}
    broken = {c.subscription_id: r.status for c, r in results if r.status in BROKEN + (REFUSED_HERE,)}
    retry = [(c, r) for c, r in results if r.retry]
    failed = [(c, r) for c, r in results
              if not (r.ok or r.gone or r.retry or r.status in BROKEN + (REFUSED_HERE,))]
    with database.atomic():
        if ok:
            # The common case, every few dozen answers: three statements written here rather than built by peewee
            # (~0.4 ms of CPU each with their lists of ids), with the time as DateTimeField passes it.
            p, at = database.param, PushDelivery.sent_at.db_value(now)
            ids = [c.id for c in ok]
            recipients = list({c.recipient_id for c in ok})
            subscriptions = list({c.subscription_id for c in ok})
            database.execute_sql(
                f'UPDATE "push_delivery" SET "sent_at" = {p}, "last_status" = 201, "attempts" = "attempts" + 1, '
                f'"claimed_by" = NULL, "claimed_until" = NULL WHERE "id" IN ({", ".join([p] * len(ids))})',
                [at, *ids])
            database.execute_sql(
                f'UPDATE "alert_recipient" SET "delivered_at" = {p} '
                f'WHERE "delivered_at" IS NULL AND "id" IN ({", ".join([p] * len(recipients))})', [at, *recipients])
            database.execute_sql(
                f'UPDATE "push_subscription" SET "last_success_at" = {p} '
                f'WHERE "id" IN ({", ".join([p] * len(subscriptions))})', [at, *subscriptions])
        if gone:  # 404/410: the browser dropped it; its deliveries go with it (ON DELETE CASCADE)
            PushSubscription.delete().where(PushSubscription.id.in_(list(gone))).execute()
        for subscription_id, status in broken.items():
            (PushSubscription.update(broken_at=now, broken_status=status)
             .where((PushSubscription.id == subscription_id) & PushSubscription.broken_at.is_null()).execute())
            # Every message still waiting for it would be refused the same way.
            (PushDelivery.update(gave_up_at=now, last_status=status, claimed_by=None, claimed_until=None)
             .where((PushDelivery.subscription == subscription_id) & PushDelivery.sent_at.is_null()
                    & PushDelivery.gave_up_at.is_null()).execute())
        for claimed, result in retry:
            attempts = claimed.attempts + 1
            changes = dict(attempts=attempts, last_status=result.status, claimed_by=None, claimed_until=None)
            if attempts >= MAX_ATTEMPTS:
                changes["gave_up_at"] = now
            else:
                wait_seconds = _retry_wait(attempts, result.retry_after)
                changes["next_attempt_at"] = now + timedelta(seconds=wait_seconds)
                counts["retry_in"] = min(wait_seconds, counts["retry_in"] or wait_seconds)
            PushDelivery.update(**changes).where(PushDelivery.id == claimed.id).execute()
        for claimed, result in failed:
            (PushDelivery.update(gave_up_at=now, last_status=result.status, attempts=PushDelivery.attempts + 1,
                                 claimed_by=None, claimed_until=None)
             .where(PushDelivery.id == claimed.id).execute())
    counts["sent"] += len(ok)
    counts["gone"] += len(gone)
    counts["broken"] += len(broken)
    counts["retry"] += len(retry)
    counts["failed"] += len(failed)


def deliver(alert_id=None, now=None, seconds=RUN_SECONDS, span=None):
    """Send the due deliveries of one alert (or of every alert: the sweep), only those to subscriptions
    span=(first id, last id) when given (a fanout chunk, see chunks), and record each answer.

    Holds at most twice the sender's threads in claims at a time, so a killed run strands few rows; records
    every RECORD_EVERY answers or RECORD_SECONDS. `now` stands for the clock in tests (claims and times).
    Returns counts {"sent", "gone", "broken", "retry", "failed", "retry_in"}; with retries, a run is
    scheduled for when the first is due (the sweep would find it too, up to a minute later).
    """
    app = current_app._get_current_object()
    sender = push.sender_for(app)
    lease = timedelta(seconds=app.config.get("PUSH_LEASE_SECONDS", LEASE_SECONDS))
    allowed = push.EndpointCheck(push.allowed_hosts(app.config), app.config.get("PUSH_ALLOW_LOCAL_ENDPOINTS", False))
    counts = Counter(sent=0, gone=0, broken=0, retry=0, failed=0)
    counts["retry_in"] = None
    alerts, payloads = {}, {}
    in_flight, answered = {}, []
    started = last_record = time.monotonic()
    drained = False

    def clock():
        return now or utcnow()

    def message(claimed):
        alert = alerts.get(claimed.alert_id)
        if alert is None:
            alert = alerts[claimed.alert_id] = Alert.get_by_id(claimed.alert_id)
        key = (claimed.alert_id, claimed.language, claimed.prefix)
        if key not in payloads:
            payloads[key] = payload(alert, claimed.language, claimed.prefix)
        return push.Message(key=claimed, endpoint=claimed.endpoint, p256dh=claimed.p256dh, auth=claimed.auth,
                            payload=payloads[key], ttl=TTL[alert.level],
                            urgency="high" if alert.level == "stop_work" else "normal", topic=f"alert{alert.id}")

    claims = _Claims(sender.workers, lease, alert_id, span)
    while True:
        running = time.monotonic() - started < seconds
        # Keep every thread busy (a full window queued behind them) while holding few claims: at most two
        # windows are claimed and unrecorded, which is what a killed run leaves for the lease to free.
        if running and not drained and len(in_flight) <= sender.workers:
            claimed_rows = claims.take(clock())
            drained = not claimed_rows
            for claimed in claimed_rows:
                if not allowed(claimed.endpoint):
                    # Stored before the allowlist (issue 14), or the list changed: never connect there.
                    answered.append((claimed, push.Result(claimed, REFUSED_HERE)))
                    continue
                try:
                    prepared = message(claimed)
                except Exception:  # noqa: BLE001 - one message's bug must not end the run and strand the others
                    log.exception("push message for delivery %s could not be made", claimed.id)
                    answered.append((claimed, push.Result(claimed, None)))  # a failed attempt: retried, then given up
                    continue
                in_flight[sender.submit(prepared)] = claimed
        if in_flight:
            finished, _pending = wait(list(in_flight), timeout=RECORD_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                claimed, error = in_flight.pop(future), future.exception()
                if error is not None:
                    # A bug or a subscription pywebpush cannot encrypt for: logged, and counted as a failed
                    # attempt (retried, then given up), so the sweep cannot loop on it for ever.
                    log.error("push to subscription %s failed", claimed.subscription_id, exc_info=error)
                    answered.append((claimed, push.Result(claimed, None)))
                else:
                    answered.append((claimed, future.result()))
        if answered and (len(answered) >= RECORD_EVERY or not in_flight
                         or time.monotonic() - last_record >= RECORD_SECONDS):
            _record(answered, clock(), counts)
            answered, last_record = [], time.monotonic()
        if not in_flight and (drained or not running):
            break
    return dict(counts)


def pending_deliveries(alert):
    """Deliveries of an alert not yet accepted by a push service and not given up."""
    return (PushDelivery.select().where((PushDelivery.alert == alert) & PushDelivery.sent_at.is_null()
                                        & PushDelivery.gave_up_at.is_null()).count())


# --- escalation -------------------------------------------------------------------------------------------

def escalate(now=None, then=None):
    """Alerts past their deadline: foremen who have not acknowledged get it again, and the site's managers
    are told. Each alert escalates once. then(alert id) is called after each escalation with messages to send
    has committed (alerts.tasks.escalate queues their delivery). Returns a list of (alert id, foremen, managers)."""
    now = now or utcnow()
    due = list(Alert.select().where(Alert.ack_required & Alert.escalated_at.is_null() & Alert.lifted_at.is_null()
                                    & (Alert.ack_deadline <= now)))
    done = []
    for alert in due:
        # One alert's unexpected error is logged and rolled back, and the others still escalate
        # (fieldapp/isolate.py); it is tried again on the next run.
        ok, result = isolate.attempt("escalation", alert.id, _escalate_one, alert, now)
        if not ok or result is None:
            continue
        late, managers = result
        if late and then is not None:
            then(alert.id)
        done.append((alert.id, late, managers if late else []))
    return done


def _escalate_one(alert, now):
    """One alert's escalation in the caller's transaction: ([late foremen's ids], [managers' ids]), or None
    when another worker did it."""
    # The foremen told who have not acknowledged and are foremen on the site still (not removed since).
    late = list(AlertRecipient.select(AlertRecipient, User).join(User)
                .where((AlertRecipient.alert == alert) & (AlertRecipient.role == "foreman")
                       & AlertRecipient.acked_at.is_null()
                       & fn.EXISTS(Membership.select(Membership.id).where(
                           (Membership.site == alert.site_id) & (Membership.user == AlertRecipient.user)
                           & (Membership.role == "foreman")))))
    managers = [m.user_id for m in Membership.select().where((Membership.site == alert.site_id)
                                                              & (Membership.role == "manager"))]
    claimed = (Alert.update(escalated_at=now)
               .where((Alert.id == alert.id) & Alert.escalated_at.is_null()).execute())
    if not claimed:
        return None  # another worker did it
    if late:
        AlertRecipient.update(escalated_at=now).where(
            AlertRecipient.id.in_([r.id for r in late])).execute()
        existing = {r.user_id for r in AlertRecipient.select(AlertRecipient.user)
                    .where(AlertRecipient.alert == alert)}
        new = [m for m in managers if m not in existing]
        if new:
            AlertRecipient.insert_many([{"alert": alert.id, "user": m, "role": "manager",
                                         "added_by_escalation": True} for m in new]).execute()
        # The late foremen again, and the managers with the names of those who have not acknowledged.
        names = ", ".join(r.user.name for r in late)
        late_ids = {r.id for r in late}
        told = [r.id for r in AlertRecipient.select(AlertRecipient.id).where(
            (AlertRecipient.alert == alert) & AlertRecipient.user.in_(managers))]
        queue_deliveries(alert, recipient_ids=list(late_ids) + told, round=1,
                         prefix_for=lambda rid: "" if rid in late_ids else f"{names}: ")
    audit.record(None, "alert.escalate", "alert", alert.id,
                 after={"foremen": [r.user_id for r in late], "managers": managers if late else []})
    return [r.user_id for r in late], managers

