"""Alerts: stored with their recipients first, delivered by push in a task, acknowledged, escalated.

Ready-made alerts (templates) store only their key and the area; each recipient reads them in their own
language, on the page and in the push message.
"""
import json
import uuid as uuidlib
from collections import namedtuple
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from peewee import IntegrityError, fn

from .. import audit, push
from ..db import Prepared, database, slot
from ..models import (ALERT_LEVELS, AUDIENCES, Alert, AlertRecipient, CheckIn, Membership, PushSubscription,
                      User, utcnow)

MAX_TITLE = 120
MAX_BODY = 2000
PAYLOAD_BODY = 600  # characters of the text in the push message; the whole text is in the app
ACK_MINUTES = {"stop_work": 10, "warning": 60, "info": 60}
TTL = {"stop_work": 4 * 3600, "warning": 12 * 3600, "info": 24 * 3600}  # seconds a push service keeps it
MAX_ATTEMPTS = 5
STAFF = ("foreman", "verneombud", "manager")


class AlertError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


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


def wording(alert, language=None):
    """(title, text) of an alert in a language (the current one by default)."""
    if alert.template:
        def build():
            level, title, text = templates()[alert.template]
            extra = f"\n\n{alert.body}" if alert.body else ""
            return str(title(alert.area)), str(text(alert.area)) + extra

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
        raise AlertError("bad_template")
    level = (form.get("level") or "").strip() or (templates()[template][0] if template else "info")
    if level not in ALERT_LEVELS:
        raise AlertError("bad_level")
    title = (form.get("title") or "").strip()
    body = (form.get("body") or "").strip().replace("\r\n", "\n")
    area = (form.get("area") or "").strip()
    if not template and not (title and body):
        raise AlertError("empty")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY or len(area) > 200:
        raise AlertError("too_long")
    audience = form.get("audience") or "all"
    if audience not in AUDIENCES:
        raise AlertError("bad_audience")
    ack = form.get("ack") or "default"
    if ack not in ("default", "yes", "no"):
        raise AlertError("bad_ack")
    ack_required = level in ("warning", "stop_work") if ack == "default" else ack == "yes"
    minutes = (form.get("ack_minutes") or "").strip()
    try:
        minutes = int(minutes) if minutes else ACK_MINUTES[level]
    except ValueError:
        raise AlertError("bad_minutes") from None
    if not 1 <= minutes <= 24 * 60:
        raise AlertError("bad_minutes")
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


def create(actor, site, alert_uuid, fields, recipients=None, report=None):
    """(alert, created). Stores the alert and its recipients in one transaction, then queues delivery."""
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
            audit.record(actor, "alert.create", "alert", alert.id,
                         after={"site": site.id, "level": alert.level, "template": alert.template,
                                "audience": alert.audience, "recipients": len(recipients),
                                "ack_required": alert.ack_required})
    except IntegrityError:
        existing = Alert.get_or_none(Alert.uuid == alert_uuid)
        if existing is None:
            raise
        return existing, False
    from ..tasks import deliver_alert

    deliver_alert(alert.id)
    return alert, True


def report_created(report):
    """A new high-severity report or an injury: the site's verneombud and foremen are told."""
    if report.kind != "injury" and report.severity != "high":
        return None
    from ..reports.labels import categories, kinds

    with force_locale("nb"):
        what = f"{categories()[report.category]} ({kinds()[report.kind]})"
    people = [(m.user_id, m.role) for m in Membership.select().where(
        (Membership.site == report.site_id) & Membership.role.in_(("verneombud", "foreman")))
        if m.user_id != report.reporter_id]
    fields = dict(template="report_injury" if report.kind == "injury" else "report_high", level="warning",
                  title="", body="", area=what, audience="all", ack_required=False, ack_minutes=60)
    alert, _created = create(None, report.site, uuidlib.uuid5(report.uuid, "report-created"), fields,
                             recipients=people, report=report)
    return alert


def report_closed(report):
    """The reporter is told that their report was closed."""
    from ..reports.labels import categories

    with force_locale("nb"):
        what = str(categories()[report.category])
    fields = dict(template="report_closed", level="info", title="", body="", area=what, audience="all",
                  ack_required=False, ack_minutes=60)
    role = Membership.get_or_none((Membership.site == report.site_id) & (Membership.user == report.reporter_id))
    if role is None:
        return None
    key = uuidlib.uuid5(report.uuid, f"closed-{report.closed_at.isoformat()}")
    alert, _created = create(None, report.site, key, fields, recipients=[(report.reporter_id, role.role)],
                             report=report)
    return alert


# --- delivery --------------------------------------------------------------------------------------------

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


def _messages(alert, rows, prefix_for=None):
    """Push messages for (recipient id, language, subscription) rows; one payload per language."""
    cache = {}
    messages = []
    for recipient_id, language, subscription in rows:
        prefix = prefix_for(recipient_id) if prefix_for else ""
        key = (language, prefix)
        if key not in cache:
            cache[key] = payload(alert, language, prefix)
        messages.append(push.Message(key=(recipient_id, subscription.id), endpoint=subscription.endpoint,
                                     p256dh=subscription.p256dh, auth=subscription.auth, payload=cache[key],
                                     ttl=TTL[alert.level], urgency="high" if alert.level == "stop_work" else "normal",
                                     topic=f"alert{alert.id}"))
    return messages


Subscription = namedtuple("Subscription", "id endpoint p256dh auth")


def _rows(alert, user_ids=None, subscription_ids=None):
    """(recipient id, language, Subscription) for every device of the alert's recipients."""
    query = (AlertRecipient.select(AlertRecipient.id, User.language, PushSubscription.id, PushSubscription.endpoint,
                                   PushSubscription.p256dh, PushSubscription.auth)
             .join(User, on=(AlertRecipient.user == User.id))
             .join(PushSubscription, on=(PushSubscription.user == User.id))
             .where(AlertRecipient.alert == alert))
    if user_ids is not None:
        query = query.where(AlertRecipient.user.in_(list(user_ids)))
    if subscription_ids is not None:
        query = query.where(PushSubscription.id.in_(list(subscription_ids)))
    return [(rid, language, Subscription(sid, endpoint, p256dh, auth))
            for rid, language, sid, endpoint, p256dh, auth in query.tuples()]


def send(alert, messages, attempt=0, now=None):
    """Send, record deliveries, drop dead subscriptions, schedule a retry for the rest. Returns counts."""
    now = now or utcnow()
    results = push.sender_for(current_app).send_many(messages) if messages else []
    delivered = {r.key[0] for r in results if r.ok}
    worked = {r.key[1] for r in results if r.ok}
    gone = {r.key[1] for r in results if r.gone}
    again = [r for r in results if r.retry]
    with database.atomic():
        if delivered:
            AlertRecipient.update(delivered_at=now).where(AlertRecipient.id.in_(list(delivered))
                                                          & AlertRecipient.delivered_at.is_null()).execute()
        if worked:
            PushSubscription.update(last_success_at=now).where(PushSubscription.id.in_(list(worked))).execute()
        if gone:
            PushSubscription.delete().where(PushSubscription.id.in_(list(gone))).execute()
    scheduled = None
    if again and attempt + 1 < MAX_ATTEMPTS:
        from ..tasks import deliver_alert

        wait = max([30 * 2 ** attempt] + [min(r.retry_after or 0, 3600) for r in again])
        scheduled = wait
        deliver_alert.schedule((alert.id, sorted({r.key[1] for r in again}), attempt + 1), delay=wait)
    return {"sent": len(worked), "gone": len(gone), "retry": len(again), "retry_in": scheduled,
            "failed": len([r for r in results if not (r.ok or r.gone or r.retry)])}


def deliver(alert_id, subscription_ids=None, attempt=0):
    alert = Alert.get_or_none(Alert.id == alert_id)
    if alert is None:
        return {"sent": 0}
    return send(alert, _messages(alert, _rows(alert, subscription_ids=subscription_ids)), attempt)


# --- reading and acknowledging -----------------------------------------------------------------------------

# The bottom bar shows this count on every page: prepared once (see db.Prepared).
_unacknowledged = Prepared(lambda: (
    AlertRecipient.select(fn.COUNT(AlertRecipient.id)).join(Alert)
    .where((AlertRecipient.user == slot("user_id")) & AlertRecipient.acked_at.is_null()
           & (Alert.ack_required | AlertRecipient.seen_at.is_null()))))


def unacknowledged_count(user_id):
    return _unacknowledged.rows(lambda count: count, user_id=user_id)[0]


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
    """Every recipient with name, role and times, those who have not acknowledged first."""
    rows = list(AlertRecipient.select(AlertRecipient, User).join(User)
                .where(AlertRecipient.alert == alert).order_by(User.name))
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
            audit.record(None, "alert.escalate", "alert", alert.id,
                         after={"foremen": [r.user_id for r in late], "managers": managers if late else []})
        if late:
            names = ", ".join(r.user.name for r in late)
            foremen_rows = _rows(alert, user_ids=[r.user_id for r in late])
            manager_rows = _rows(alert, user_ids=managers)
            late_ids = {r.id for r in late}

            def prefix(recipient_id):
                return "" if recipient_id in late_ids else f"{names}: "

            send(alert, _messages(alert, foremen_rows + manager_rows, prefix_for=prefix))
        done.append((alert.id, [r.user_id for r in late], managers if late else []))
    return done


def push_subscriptions(user):
    return list(PushSubscription.select().where(PushSubscription.user == user).order_by(PushSubscription.created_at))


def subscribe(user, info, user_agent=""):
    """Store (or move to this person) a device's subscription. Returns (subscription, created)."""
    with database.atomic():
        existing = PushSubscription.get_or_none(PushSubscription.endpoint == info["endpoint"])
        if existing is not None:
            existing.user = user
            existing.p256dh, existing.auth = info["p256dh"], info["auth"]
            existing.user_agent = user_agent[:300]
            existing.save()
            return existing, False
        sub = PushSubscription.create(user=user, user_agent=user_agent[:300], **info)
        audit.record(user, "push.subscribe", "push_subscription", sub.id)
        return sub, True


def unsubscribe(user, subscription_id):
    with database.atomic():
        deleted = PushSubscription.delete().where((PushSubscription.id == subscription_id)
                                                  & (PushSubscription.user == user)).execute()
        if deleted:
            audit.record(user, "push.unsubscribe", "push_subscription", subscription_id)
    return bool(deleted)

