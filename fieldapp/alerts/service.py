"""Alerts: stored with their recipients first, delivered by push in a task, acknowledged, escalated.

Ready-made alerts (templates) store only their key and the area; each recipient reads them in their own
language, on the page and in the push message. The app's own alerts about a report (REPORT_TEMPLATES) store
the report's codes in `area` ("category/kind", or "category"), never words: they too are worded per reader.
"""
import json
import logging
import os
import time
import uuid as uuidlib
from collections import Counter, namedtuple
from concurrent.futures import FIRST_COMPLETED, wait
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from peewee import JOIN, IntegrityError, OperationalError, chunked, fn

from .. import audit, push
from ..config import Defaults, env_flag
from ..db import ReusedSelect, database, is_sqlite
from ..inputs import InputError
from ..models import (ALERT_LEVELS, AUDIENCES, Alert, AlertRecipient, CheckIn, DeviceSession, Membership,
                      PushDelivery, PushSubscription, User, utcnow)
from ..tasks import deliver_alert

MAX_TITLE = 120
MAX_BODY = 2000
MAX_AREA = 200
MAX_ACK_MINUTES = 24 * 60
PAYLOAD_BODY = 600  # characters of the text in the push message; the whole text is in the app
ACK_MINUTES = {"stop_work": 10, "warning": 60, "info": 60}
TTL = {"stop_work": 4 * 3600, "warning": 12 * 3600, "info": 24 * 3600}  # seconds a push service keeps it
MAX_ATTEMPTS = 5


class AlertError(InputError):
    """Bad input or a rule that says no: `reason` picks the message (fieldapp.inputs); nothing was saved."""

    scope = "alert"


def templates():
    """key -> (level, title(area), text(area)), in the current language. Every UI language has them all."""
    def where(area):
        return area or _("the marked area")

    return {
        "stop_work": ("stop_work", lambda a: _("STOP WORK: immediate danger"),
                      lambda a: _("Stop work at once at %(area)s and move to a safe place. Work may only start "
                                  "again when the safety representative or the foreman says so (AML § 6-3).",
                                  area=where(a))),
        "crane_lift": ("warning", lambda a: _("Crane lift: keep out from under the load"),
                       lambda a: _("A crane lift is going on at %(area)s. Keep outside the cordon and never "
                                   "stand under the load.", area=where(a))),
        "evacuation": ("stop_work", lambda a: _("EVACUATE the site"),
                       lambda a: _("Leave the site now by the nearest safe way out and go to the assembly "
                                   "point. Do not go back for tools. Report to your foreman at %(area)s.",
                                   area=where(a))),
        "weather": ("warning", lambda a: _("Weather warning: strong wind"),
                    lambda a: _("Strong wind expected. Secure loose material, stop crane lifts and work at "
                                "height at %(area)s until the foreman says otherwise.", area=where(a))),
        "gas_leak": ("stop_work", lambda a: _("Gas or chemical leak"),
                     lambda a: _("A gas or chemical leak at %(area)s. Move away against the wind, do not use "
                                 "open flames or switches, and wait for the all-clear.", area=where(a))),
        "area_closed": ("warning", lambda a: _("Area closed"),
                        lambda a: _("%(area)s is closed until further notice. Do not enter.",
                                    area=where(a).capitalize())),
        # Made by the app itself:
        "report_high": ("warning", lambda a: _("New serious hazard reported"),
                        lambda a: _("A hazard with high severity was reported: %(area)s. Open it and follow "
                                    "it up.", area=a)),
        "report_injury": ("warning", lambda a: _("Injury reported"),
                          lambda a: _("An injury was reported: %(area)s. Open it and follow it up.", area=a)),
        "report_closed": ("info", lambda a: _("Your report was closed"),
                          lambda a: _("Your report (%(area)s) has been dealt with. See what was done.", area=a)),
    }


COMPOSE_TEMPLATES = ("stop_work", "crane_lift", "evacuation", "weather", "gas_leak", "area_closed")
REPORT_TEMPLATES = ("report_high", "report_injury", "report_closed")


def report_codes(report, with_kind=True):
    """What a report alert stores in `area`: "category/kind" (with_kind) or "category"; codes, not words."""
    return f"{report.category}/{report.kind}" if with_kind else report.category


def report_words(codes):
    """ "electrical/hazard" -> "Electrical (Hazardous condition)" in the current language; "falls" -> "Falls".

    An unknown code is shown as stored: alerts made before codes were stored hold words (migration 010
    turns those whose report still exists into codes).
    """
    from ..reports.labels import categories, kinds

    category, _slash, kind = codes.partition("/")
    if category not in categories() or (kind and kind not in kinds()):
        return codes
    return f"{categories()[category]} ({kinds()[kind]})" if kind else str(categories()[category])


def wording(alert, language=None):
    """(title, text) of an alert in a language (the current one by default)."""
    if alert.template:
        def build():
            level, title, text = templates()[alert.template]
            area = report_words(alert.area) if alert.template in REPORT_TEMPLATES else alert.area
            extra = f"\n\n{alert.body}" if alert.body else ""
            return str(title(area)), str(text(area)) + extra

        if language:
            with force_locale(language):
                return build()
        return build()
    return alert.title, alert.body


# --- composing ---------------------------------------------------------------------------------------

def parse_form(form):
    """The compose form -> dict for create(), or AlertError."""
    template = (form.get("template") or "").strip() or None
    if template is not None and template not in COMPOSE_TEMPLATES:
        raise AlertError("bad_template", field="template")
    level = (form.get("level") or "").strip() or (templates()[template][0] if template else "info")
    if level not in ALERT_LEVELS:
        raise AlertError("bad_level", field="level")
    title = (form.get("title") or "").strip()
    body = (form.get("body") or "").strip().replace("\r\n", "\n")
    area = (form.get("area") or "").strip()
    if not template and not (title and body):
        raise AlertError("empty")
    for name, value, limit in (("area", area, MAX_AREA), ("title", title, MAX_TITLE), ("body", body, MAX_BODY)):
        if len(value) > limit:
            raise AlertError("too_long", field=name, n=limit)
    audience = form.get("audience") or "all"
    if audience not in AUDIENCES:
        raise AlertError("bad_audience", field="audience")
    ack = form.get("ack") or "default"
    if ack not in ("default", "yes", "no"):
        raise AlertError("bad_ack", field="ack")
    ack_required = level in ("warning", "stop_work") if ack == "default" else ack == "yes"
    minutes = (form.get("ack_minutes") or "").strip()
    try:
        minutes = int(minutes) if minutes else ACK_MINUTES[level]
    except ValueError:
        raise AlertError("bad_minutes", field="ack_minutes", n=MAX_ACK_MINUTES) from None
    if not 1 <= minutes <= MAX_ACK_MINUTES:
        raise AlertError("bad_minutes", field="ack_minutes", n=MAX_ACK_MINUTES)
    return dict(template=template, level=level, title=title, body=body, area=area, audience=audience,
                ack_required=ack_required, ack_minutes=minutes)


def audience_members(site, audience):
    """(user id, role) of the people an alert goes to."""
    query = (Membership.select(Membership.user, Membership.role).join(User)
             .where((Membership.site == site) & (User.active == True)))  # noqa: E712
    if audience == "foremen":
        query = query.where(Membership.role == "foreman")
    elif audience == "checked_in":
        query = query.where(Membership.user.in_(
            CheckIn.select(CheckIn.user).where((CheckIn.site == site) & CheckIn.checked_out_at.is_null())))
    return [(m.user_id, m.role) for m in query]


def create(actor, site, alert_uuid, fields, recipients=None, report=None, send=True):
    """(alert, created). Stores the alert, its recipients and their push deliveries in one transaction, then
    asks a consumer to send them (send=False: the caller does, after its own transaction commits)."""
    existing = Alert.get_or_none(Alert.uuid == alert_uuid)
    if existing is not None:
        if existing.site_id != site.id:
            raise AlertError("uuid_conflict")
        return existing, False
    if recipients is None:
        recipients = audience_members(site, fields["audience"])
    recipients = [(user_id, role) for user_id, role in recipients if actor is None or user_id != actor.id]
    now = utcnow()
    deadline = now + timedelta(minutes=fields["ack_minutes"]) if fields["ack_required"] else None
    try:
        with database.atomic():
            alert = Alert.create(uuid=alert_uuid, site=site, sender=actor, level=fields["level"],
                                 template=fields["template"], area=fields["area"], title=fields["title"],
                                 body=fields["body"], audience=fields["audience"],
                                 ack_required=fields["ack_required"], ack_deadline=deadline, report=report,
                                 created_at=now)
            if recipients:
                AlertRecipient.insert_many([{"alert": alert.id, "user": user_id, "role": role}
                                            for user_id, role in recipients]).execute()
                queue_deliveries(alert)
            audit.record(actor, "alert.create", "alert", alert.id,
                         after={"site": site.id, "level": alert.level, "template": alert.template,
                                "audience": alert.audience, "recipients": len(recipients),
                                "ack_required": alert.ack_required})
    except IntegrityError:
        existing = Alert.get_or_none(Alert.uuid == alert_uuid)
        if existing is None:
            raise
        return existing, False
    if send:
        deliver_soon(alert.id)
    return alert, True


def report_created(report):
    """A new high-severity report or an injury: the site's verneombud and foremen are told.

    Call inside the report's transaction (issue 13: a crash between the two must not lose the alert), then
    deliver_soon(alert.id) after it commits. Returns the alert, or None when the report needs none.
    """
    if report.kind != "injury" and report.severity != "high":
        return None
    what = report_codes(report)  # each reader gets it in their own language (issue 15)
    people = [(m.user_id, m.role) for m in Membership.select().where(
        (Membership.site == report.site_id) & Membership.role.in_(("verneombud", "foreman")))
        if m.user_id != report.reporter_id]
    fields = dict(template="report_injury" if report.kind == "injury" else "report_high", level="warning",
                  title="", body="", area=what, audience="all", ack_required=False, ack_minutes=60)
    alert, _created = create(None, report.site, uuidlib.uuid5(report.uuid, "report-created"), fields,
                             recipients=people, report=report, send=False)
    return alert


def report_closed(report):
    """The reporter is told that their report was closed.

    Call inside the closing transaction, then deliver_soon(alert.id) after it commits (as report_created).
    Returns the alert, or None when the reporter is no longer on the site.
    """
    what = report_codes(report, with_kind=False)
    fields = dict(template="report_closed", level="info", title="", body="", area=what, audience="all",
                  ack_required=False, ack_minutes=60)
    role = Membership.get_or_none((Membership.site == report.site_id) & (Membership.user == report.reporter_id))
    if role is None:
        return None
    key = uuidlib.uuid5(report.uuid, f"closed-{report.closed_at.isoformat()}")
    alert, _created = create(None, report.site, key, fields, recipients=[(report.reporter_id, role.role)],
                             report=report, send=False)
    return alert


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
    """The push message: small JSON (well under the 4 KB a push service takes)."""
    title, text = wording(alert, language)
    if len(text) > PAYLOAD_BODY:
        text = text[:PAYLOAD_BODY - 1] + "…"
    body = {"title": prefix + title, "body": text, "level": alert.level, "url": link(alert),
            "tag": f"alert-{alert.id}", "alert": alert.id, "site": alert.site_id}
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(data) < 3000, "push payload too large"
    return data


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
    rows = [{"alert": alert.id, "recipient": recipient_id, "subscription": subscription_id, "round": round,
             "prefix": (prefix_for(recipient_id) if prefix_for else "")[:300], "created_at": now,
             "next_attempt_at": now}
            for recipient_id, subscription_id in query.tuples()]
    for batch in chunked(rows, 500):
        PushDelivery.insert_many(batch).on_conflict_ignore().execute()
    return len(rows)


def deliver_soon(alert_id):
    """Ask a consumer to send the alert's deliveries now. Call after the alert's transaction has committed.

    The rows are already durable, so a failed enqueue (queue down, process killed) only delays them until the
    next sweep (every minute): it is logged and not raised, so the person's report or alert still succeeds.
    """
    try:
        deliver_alert(alert_id)
    except Exception:  # noqa: BLE001 - any queue failure; the sweep sends the rows, the log shows why it waited
        log.exception("could not queue push delivery of alert %s; the periodic sweep will send it", alert_id)


Claimed = namedtuple("Claimed", "id alert_id recipient_id subscription_id attempts prefix language endpoint "
                                "p256dh auth")


def _available(now):
    return (PushDelivery.sent_at.is_null() & PushDelivery.gave_up_at.is_null()
            & (PushDelivery.next_attempt_at <= now)
            & (PushDelivery.claimed_until.is_null() | (PushDelivery.claimed_until < now)))


def _claim(run_id, limit, lease, alert_id, now):
    """Up to `limit` due, unclaimed rows, now claimed by run_id until now + lease."""
    with database.atomic():
        due = PushDelivery.select(PushDelivery.id).where(_available(now))
        if alert_id is not None:
            due = due.where(PushDelivery.alert == alert_id)
        due = due.order_by(PushDelivery.next_attempt_at, PushDelivery.id).limit(limit)
        if not is_sqlite():
            due = due.for_update(skip_locked=True)  # PostgreSQL: consumers take different rows, not turns
        ids = [row_id for (row_id,) in due.tuples()]
        if not ids:
            return []
        # The condition again: on PostgreSQL another run may have claimed a row since it was read.
        (PushDelivery.update(claimed_by=run_id, claimed_until=now + lease)
         .where(PushDelivery.id.in_(ids) & _available(now)).execute())
    query = (PushDelivery.select(PushDelivery.id, PushDelivery.alert, PushDelivery.recipient,
                                 PushDelivery.subscription, PushDelivery.attempts, PushDelivery.prefix,
                                 User.language, PushSubscription.endpoint, PushSubscription.p256dh,
                                 PushSubscription.auth)
             .join(PushSubscription).switch(PushDelivery).join(AlertRecipient).join(User)
             .where(PushDelivery.id.in_(ids) & (PushDelivery.claimed_by == run_id)))
    return [Claimed(*row) for row in query.tuples()]


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
            ids = [c.id for c in ok]
            (PushDelivery.update(sent_at=now, last_status=201, attempts=PushDelivery.attempts + 1,
                                 claimed_by=None, claimed_until=None)
             .where(PushDelivery.id.in_(ids)).execute())
            (AlertRecipient.update(delivered_at=now)
             .where(AlertRecipient.id.in_(list({c.recipient_id for c in ok}))
                    & AlertRecipient.delivered_at.is_null()).execute())
            (PushSubscription.update(last_success_at=now)
             .where(PushSubscription.id.in_(list({c.subscription_id for c in ok}))).execute())
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


def deliver(alert_id=None, now=None, seconds=RUN_SECONDS):
    """Send the due deliveries of one alert (or of every alert: the sweep) and record each answer.

    Holds at most twice the sender's threads in claims at a time, so a killed run strands few rows; records
    every RECORD_EVERY answers or RECORD_SECONDS. `now` stands for the clock in tests (claims and times).
    Returns counts {"sent", "gone", "broken", "retry", "failed", "retry_in"}; with retries, a run is
    scheduled for when the first is due (the sweep would find it too, up to a minute later).
    """
    app = current_app._get_current_object()
    sender = push.sender_for(app)
    lease = timedelta(seconds=app.config.get("PUSH_LEASE_SECONDS", LEASE_SECONDS))
    hosts = push.allowed_hosts(app.config)
    allow_local = app.config.get("PUSH_ALLOW_LOCAL_ENDPOINTS", False)
    run_id = uuidlib.uuid4().hex
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

    while True:
        running = time.monotonic() - started < seconds
        # Keep every thread busy (a full window queued behind them) while holding few claims: at most two
        # windows are claimed and unrecorded, which is what a killed run leaves for the lease to free.
        if running and not drained and len(in_flight) <= sender.workers:
            claimed_rows = _claim(run_id, 2 * sender.workers - len(in_flight), lease, alert_id, clock())
            drained = not claimed_rows
            for claimed in claimed_rows:
                if not push.endpoint_allowed(claimed.endpoint, hosts, allow_local):
                    # Stored before the allowlist (issue 14), or the list changed: never connect there.
                    answered.append((claimed, push.Result(claimed, REFUSED_HERE)))
                    continue
                in_flight[sender.submit(message(claimed))] = claimed
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
    if counts["retry_in"] is not None:
        deliver_alert.schedule((alert_id,), delay=counts["retry_in"])
    return dict(counts)


def pending_deliveries(alert):
    """Deliveries of an alert not yet accepted by a push service and not given up."""
    return (PushDelivery.select().where((PushDelivery.alert == alert) & PushDelivery.sent_at.is_null()
                                        & PushDelivery.gave_up_at.is_null()).count())


# --- reading and acknowledging -----------------------------------------------------------------------------

def _unacknowledged_query(user_id):
    return (AlertRecipient.select(fn.COUNT(AlertRecipient.id)).join(Alert)
            .where((AlertRecipient.user == user_id) & AlertRecipient.acked_at.is_null()
                   & (Alert.ack_required | AlertRecipient.seen_at.is_null())))


# Every signed-in page's bottom bar runs it: the SQL is built once per process (db.ReusedSelect).
_UNACKNOWLEDGED = ReusedSelect(_unacknowledged_query, [(AlertRecipient.user, -7_000_000_004)])


def unacknowledged_count(user_id):
    """Alerts the person has not acknowledged (or, when no acknowledgement is asked, not seen): the bottom bar."""
    return _UNACKNOWLEDGED.rows(user_id)[0][0]


def inbox(user, limit=100):
    from ..models import Site

    return list(AlertRecipient.select(AlertRecipient, Alert, Site).join(Alert).join(Site)
                .where(AlertRecipient.user == user)
                .order_by(AlertRecipient.acked_at.is_null(False), Alert.created_at.desc()).limit(limit))


def copy_for(alert, user):
    return AlertRecipient.get_or_none((AlertRecipient.alert == alert) & (AlertRecipient.user == user))


def mark_seen(copy):
    if copy is not None and copy.seen_at is None:
        copy.seen_at = utcnow()
        AlertRecipient.update(seen_at=copy.seen_at).where((AlertRecipient.id == copy.id)
                                                          & AlertRecipient.seen_at.is_null()).execute()


def mark_received(copy):
    if copy is not None and copy.received_at is None:
        AlertRecipient.update(received_at=utcnow()).where((AlertRecipient.id == copy.id)
                                                          & AlertRecipient.received_at.is_null()).execute()


def acknowledge(user, copy, ack_uuid, when):
    """True when recorded now, False when it was already; AlertError("uuid_conflict") for a reused UUID.

    when: a phone_time.PhoneTime. acked_at (what the deadline and escalation read) is its recorded time: an
    acknowledgement sent after the deadline is before it only if it waited on the phone within the bounds.
    """
    happened_at = when.recorded
    if copy.acked_at is not None:
        return False  # acknowledged before (a resend, or from another page): nothing more to record
    try:
        with database.atomic():
            updated = (AlertRecipient.update(acked_at=happened_at, ack_uuid=ack_uuid,
                                             ack_phone_at=when.claimed, ack_received_at=when.received,
                                             seen_at=fn.COALESCE(AlertRecipient.seen_at, happened_at))
                       .where((AlertRecipient.id == copy.id) & AlertRecipient.acked_at.is_null()).execute())
            if updated:
                audit.record(user, "alert.acknowledge", "alert", copy.alert_id,
                             after={"at": happened_at.isoformat(),
                                    "phone_at": when.claimed and when.claimed.isoformat()})
    except IntegrityError:
        raise AlertError("uuid_conflict") from None
    return bool(updated)


def status_rows(alert):
    """Every recipient with name, role and times, those who have not acknowledged first.

    row.push_broken: a push service refused one of the person's phones (400/403): the sender tells them to
    turn notifications on again (the phone also re-subscribes by itself on its next visit).
    """
    rows = list(AlertRecipient.select(AlertRecipient, User).join(User)
                .where(AlertRecipient.alert == alert).order_by(User.name))
    broken = {user_id for (user_id,) in PushSubscription.select(PushSubscription.user).where(
        PushSubscription.user.in_([r.user_id for r in rows]) & PushSubscription.broken_at.is_null(False)).tuples()}
    for r in rows:
        r.push_broken = r.user_id in broken
    rows.sort(key=lambda r: (r.acked_at is not None, r.seen_at is not None, r.user.name))
    return rows


def site_alerts(site, limit=50):
    counts = (AlertRecipient.select(AlertRecipient.alert, fn.COUNT(AlertRecipient.id).alias("total"),
                                    fn.COUNT(AlertRecipient.acked_at).alias("acked"))
              .group_by(AlertRecipient.alert))
    alerts = list(Alert.select().where(Alert.site == site).order_by(Alert.created_at.desc()).limit(limit))
    if alerts:
        totals = {row.alert_id: (row.total, row.acked) for row in
                  counts.where(AlertRecipient.alert.in_([a.id for a in alerts]))}
        for a in alerts:
            a.total, a.acked = totals.get(a.id, (0, 0))
    return alerts


# --- escalation -------------------------------------------------------------------------------------------

def escalate(now=None):
    """Alerts past their deadline: foremen who have not acknowledged get it again, and the site's managers
    are told. Each alert escalates once. Returns a list of (alert id, foremen, managers)."""
    now = now or utcnow()
    due = list(Alert.select().where(Alert.ack_required & Alert.escalated_at.is_null()
                                    & (Alert.ack_deadline <= now)))
    done = []
    for alert in due:
        late = list(AlertRecipient.select(AlertRecipient, User).join(User)
                    .where((AlertRecipient.alert == alert) & (AlertRecipient.role == "foreman")
                           & AlertRecipient.acked_at.is_null()))
        managers = [m.user_id for m in Membership.select().where((Membership.site == alert.site_id)
                                                                  & (Membership.role == "manager"))]
        with database.atomic():
            claimed = (Alert.update(escalated_at=now)
                       .where((Alert.id == alert.id) & Alert.escalated_at.is_null()).execute())
            if not claimed:
                continue  # another worker did it
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
        if late:
            deliver_soon(alert.id)
        done.append((alert.id, [r.user_id for r in late], managers if late else []))
    return done


def push_subscriptions(user):
    return list(PushSubscription.select().where(PushSubscription.user == user).order_by(PushSubscription.created_at))


def _session_ended(device_session, owner_id, now):
    """True when the device session that posted a subscription can no longer be used: signed out, revoked,
    expired or idle too long. None (made before migration 006, or purged 90 days after it ended): ended
    only when its owner has no live session anywhere, as we cannot tell which of theirs it was."""
    idle_since = now - timedelta(days=current_app.config["DEVICE_SESSION_IDLE_DAYS"])

    def live(query):
        return query.where(DeviceSession.revoked_at.is_null() & (DeviceSession.expires_at > now)
                           & (DeviceSession.last_seen_at > idle_since)).exists()

    if device_session is None:
        return not live(DeviceSession.select().where(DeviceSession.user == owner_id))
    return not live(DeviceSession.select().where(DeviceSession.id == device_session))


def subscribe(user, info, device_session=None, vapid_key=None, replaces=None, user_agent=""):
    """Store a device's subscription for the signed-in person. Returns (subscription, created).

    Issue 14: an endpoint stays bound to the person and device session that posted it. Another person may take
    it over only when that session has ended (the phone was signed out, revoked or expired: the new person then
    signed in on that phone); the move is audited and the old owner's unsent messages to it are dropped, so
    they never show on the new person's screen. Otherwise AlertError("endpoint_taken") (409), which does not
    say whose it is. `replaces`: the endpoint this one renews (the phone re-subscribed); the person's row for it
    is removed.
    """
    now = utcnow()
    session_id = device_session.id if device_session is not None else None
    fields = dict(p256dh=info["p256dh"], auth=info["auth"], user_agent=user_agent[:300], device_session=session_id,
                  vapid_key=vapid_key)
    with database.atomic():
        existing = PushSubscription.get_or_none(PushSubscription.endpoint == info["endpoint"])
        if existing is not None and existing.user_id != user.id:
            if not _session_ended(existing.device_session_id, existing.user_id, now):
                raise AlertError("endpoint_taken")
            before = {"user": existing.user_id, "device_session": existing.device_session_id}
            (PushDelivery.delete().where((PushDelivery.subscription == existing.id) & PushDelivery.sent_at.is_null())
             .execute())
            (PushSubscription.update(user=user, created_at=now, last_success_at=None, broken_at=None,
                                     broken_status=None, **fields)
             .where(PushSubscription.id == existing.id).execute())
            audit.record(user, "push.move", "push_subscription", existing.id, before=before,
                         after={"user": user.id, "device_session": session_id})
            subscription, created = PushSubscription.get_by_id(existing.id), False
        elif existing is not None:
            PushSubscription.update(**fields).where(PushSubscription.id == existing.id).execute()
            subscription, created = PushSubscription.get_by_id(existing.id), False
        else:
            subscription = PushSubscription.create(user=user, endpoint=info["endpoint"], created_at=now, **fields)
            audit.record(user, "push.subscribe", "push_subscription", subscription.id)
            created = True
        if replaces and replaces != info["endpoint"]:
            old = PushSubscription.get_or_none((PushSubscription.endpoint == replaces)
                                               & (PushSubscription.user == user))
            if old is not None:
                old.delete_instance()
                audit.record(user, "push.renew", "push_subscription", subscription.id, before={"replaced": old.id})
    return subscription, created


def unsubscribe(user, subscription_id):
    with database.atomic():
        deleted = PushSubscription.delete().where((PushSubscription.id == subscription_id)
                                                  & (PushSubscription.user == user)).execute()
        if deleted:
            audit.record(user, "push.unsubscribe", "push_subscription", subscription_id)
    return bool(deleted)



# --- start-up checks ------------------------------------------------------------------------------------

def warn_about_push_setup(app):
    """Log a warning at start in production (not TESTING, not FIELDAPP_LOCAL_DEV) when push is set up so
    that it will fail quietly (issue 13). Returns the warnings logged (for tests).

    - The default VAPID subject: push services use it to reach the operator before they block the app.
    - Subscriptions made with another VAPID key than the instance folder's, or (rows from before migration
      006, which do not record the key) made before the key file was written: the instance folder was lost and
      a new key made, so every such phone gets 403 until it subscribes again.
    """
    if app.config.get("TESTING") or env_flag("FIELDAPP_LOCAL_DEV"):
        return []
    warnings = []
    if app.config["VAPID_SUBJECT"] == Defaults.VAPID_SUBJECT:
        warnings.append("VAPID_SUBJECT is the default %r: set FIELDAPP_VAPID_SUBJECT to a mailto: or https: "
                        "address where push services can reach the operator" % Defaults.VAPID_SUBJECT)
    key_written = datetime.fromtimestamp(os.path.getmtime(app.config["VAPID_PRIVATE_KEY_PATH"]), timezone.utc)
    db = database.obj
    try:
        with db.connection_context():
            if db.table_exists(PushSubscription._meta.table_name):
                key = PushSubscription.vapid_key
                other_key = PushSubscription.select().where(
                    (key.is_null(False) & (key != app.config["VAPID_PUBLIC_KEY"]))
                    | (key.is_null() & (PushSubscription.created_at < key_written.replace(tzinfo=None)))).count()
                if other_key:
                    warnings.append(
                        "%d push subscriptions were made with another VAPID key than %s (was the instance folder "
                        "lost?): push services will refuse them until each phone subscribes again; restore the "
                        "old vapid_private.pem if you have it" % (other_key, app.config["VAPID_PRIVATE_KEY_PATH"]))
    except OperationalError as exc:
        warnings.append(f"could not check the push subscriptions' VAPID key: {exc}")
    finally:
        if hasattr(db, "close_idle"):
            db.close_idle()  # no pooled connection left open in a process that may fork (gunicorn --preload)
    for text in warnings:
        app.logger.warning("push: %s", text)
    return warnings
