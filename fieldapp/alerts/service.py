"""Alerts: stored with their recipients first, delivered by push in a task, acknowledged, escalated.

Ready-made alerts (templates) store only their key and the area; each recipient reads them in their own
language, on the page and in the push message. The app's own alerts about a report (REPORT_TEMPLATES) store
the report's codes in `area` ("category/kind", or "category"), never words: they too are worded per reader.
"""
import os
import uuid as uuidlib
from collections import namedtuple
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import force_locale
from peewee import JOIN, IntegrityError, OperationalError, chunked, fn

from .. import audit
from ..config import Defaults
from ..db import ReusedSelect, database, model_from
from ..inputs import InputError, free_text, whole_number
from ..models import (ALERT_LEVELS, AUDIENCES, Alert, AlertRecipient, CheckIn, DeviceSession, Membership,
                      PushDelivery, PushSubscription, Site, User, utcnow)
from .delivery import queue_deliveries
from .tasks import deliver_soon
from .wording import COMPOSE_TEMPLATES, report_codes, templates

MAX_TITLE = 120
MAX_BODY = 2000
MAX_AREA = 200
MAX_ACK_MINUTES = 24 * 60
ACK_MINUTES = {"stop_work": 10, "warning": 60, "info": 60}


class AlertError(InputError):
    """Bad input or a rule that says no: `reason` picks the message (fieldapp.inputs); nothing was saved."""

    scope = "alert"


# --- composing ---------------------------------------------------------------------------------------

def parse_form(form, sender_language=None):
    """The compose form -> dict for create(), or AlertError.

    sender_language: the code the title and text are written in (the sender's). The form may add the text in
    other languages as title_<code>/body_<code> (a free-text alert needs both, a ready-made one only the
    added text); they go to fields["texts"] = {code: {"title": ..., "body": ...}}.
    """
    template = (form.get("template") or "").strip() or None
    if template is not None and template not in COMPOSE_TEMPLATES:
        raise AlertError("bad_template", field="template")
    level = (form.get("level") or "").strip() or (templates()[template][0] if template else "info")
    if level not in ALERT_LEVELS:
        raise AlertError("bad_level", field="level")
    title = free_text(form.get("title"))
    body = free_text(form.get("body"))
    area = free_text(form.get("area"))
    if not template and not (title and body):
        raise AlertError("empty", field="title")  # told beside the title, where the writing starts
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
    minutes = whole_number(minutes) if minutes else ACK_MINUTES[level]
    if minutes is None or not 1 <= minutes <= MAX_ACK_MINUTES:
        raise AlertError("bad_minutes", field="ack_minutes", n=MAX_ACK_MINUTES)
    texts = _other_languages(form, template, sender_language)
    return dict(template=template, level=level, title=title, body=body, area=area, audience=audience,
                ack_required=ack_required, ack_minutes=minutes, language=sender_language, texts=texts or None)


def _other_languages(form, template, sender_language):
    """{code: {"title", "body"}} of the texts given in languages other than the sender's; AlertError for a
    half-given one (a free-text alert's title without text, or the other way round) or one too long."""
    texts = {}
    for code in Defaults.LANGUAGES:
        if code == sender_language:
            continue
        title = free_text(form.get(f"title_{code}"))
        body = free_text(form.get(f"body_{code}"))
        if not (title or body):
            continue
        if template:
            title = ""
        elif not (title and body):
            raise AlertError("translation_half", field=f"title_{code}" if not title else f"body_{code}")
        for name, value, limit in ((f"title_{code}", title, MAX_TITLE), (f"body_{code}", body, MAX_BODY)):
            if len(value) > limit:
                raise AlertError("too_long", field=name, n=limit)
        texts[code] = {"title": title, "body": body}
    return texts


def recipient_languages(site, sender):
    """The languages the people an alert may reach read, with how many per audience, for the compose form:
    [(code, {audience: count})], most readers first; the sender left out (they do not get their own alert)."""
    languages = dict(User.select(User.id, User.language).join(Membership, on=(Membership.user == User.id))
                     .where((Membership.site == site) & (User.active == True)).tuples())  # noqa: E712
    counts = {}
    for audience in AUDIENCES:
        for user_id, _role in audience_members(site, audience):
            if user_id == sender.id:
                continue
            code = languages.get(user_id) or Defaults.BABEL_DEFAULT_LOCALE
            counts.setdefault(code, dict.fromkeys(AUDIENCES, 0))[audience] += 1
    return sorted(counts.items(), key=lambda item: (-item[1].get("all", 0), item[0]))


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


# What a person's alert says: sent again under its UUID (the outbox, a double tap) it must say the same.
SENT_FIELDS = ("level", "template", "area", "title", "body", "audience", "ack_required", "language", "texts")


def _sent_before(existing, actor, site, fields, composed):
    """`existing` (the alert saved under this UUID) when this request is the same alert sent again: the same site
    and, for an alert a person composed (the form's UUID), the same sender and words (SENT_FIELDS). Anything
    else under that UUID is not this alert: AlertError("uuid_conflict"), 409, and nothing is sent (issue 13: sent
    twice, saved once; never a person told that another's alert was theirs). The app's own alerts use keys made
    from what they are about (one per SJA revision): the first one made under a key stands."""
    if existing.site_id != site.id:
        raise AlertError("uuid_conflict")
    if composed and (existing.sender_id != actor.id
                     or any(getattr(existing, name) != fields.get(name) for name in SENT_FIELDS)):
        raise AlertError("uuid_conflict")
    return existing


def create(actor, site, alert_uuid, fields, recipients=None, report=None, send=True, composed=False):
    """(alert, created). Stores the alert, its recipients and their push deliveries in one transaction, then
    asks a consumer to send them (send=False: the caller does, after its own transaction commits).

    composed: the alert a person wrote in the compose form (alert_uuid is the form's). The same alert sent again
    under its UUID gives (the saved alert, False); another under that UUID raises AlertError("uuid_conflict")
    (_sent_before)."""
    existing = Alert.get_or_none(Alert.uuid == alert_uuid)
    if existing is not None:
        return _sent_before(existing, actor, site, fields, composed), False
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
                                 language=fields.get("language"), texts=fields.get("texts"),
                                 ack_required=fields["ack_required"], ack_deadline=deadline, report=report,
                                 created_at=now)
            if recipients:
                # In batches: one statement for 11,000 people would pass SQLite's 32,766 variables.
                for batch in chunked([{"alert": alert.id, "user": user_id, "role": role}
                                      for user_id, role in recipients], 1000):
                    AlertRecipient.insert_many(batch).execute()
                queue_deliveries(alert)
            audit.record(actor, "alert.create", "alert", alert.id,
                         after={"site": site.id, "level": alert.level, "template": alert.template,
                                "audience": alert.audience, "recipients": len(recipients),
                                "ack_required": alert.ack_required})
    except IntegrityError:
        existing = Alert.get_or_none(Alert.uuid == alert_uuid)
        if existing is None:
            raise
        return _sent_before(existing, actor, site, fields, composed), False
    if send:
        deliver_soon(alert.id)
    return alert, True


def inform(actor, site, key, recipients, words):
    """Information alerts (inbox and push, no acknowledgement) to `recipients` [(user id, role, language)], one
    per language so that each person reads it in theirs: words(language) -> (title, body), called in that
    locale. The alert's UUID is made from `key` and the language, so sending again makes nothing new.
    Returns how many alerts were made."""
    by_language = {}
    for user_id, role, language in recipients:
        by_language.setdefault(language or "nb", []).append((user_id, role))
    made = 0
    for language, people in sorted(by_language.items()):
        with force_locale(language):
            title, body = words(language)
        fields = dict(template=None, level="info", area="", audience="all", ack_required=False, ack_minutes=0,
                      title=title[:120], body=body)
        _alert, created = create(actor, site, uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"{key}:{language}"), fields,
                                 recipients=people)
        made += created
    return made


SERIOUS_INJURY_ACK_MINUTES = 30  # then the foremen who have not acknowledged are told again (escalate)


def report_created(report, serious=False):
    """A new high-severity report or an injury: the site's verneombud and foremen are told.

    serious: the injury is marked serious (InjuryDetails.serious). That it is serious is no medical detail: the
    verneombud gets a copy of the employer's notice (AML § 5-2), and the foremen secure the scene for the
    police. A serious injury also goes to the site's managers, who must acknowledge it: the employer notifies
    Arbeidstilsynet and the police at once (AML § 5-2), and records when on the report. It stays at the top of
    their pages until acknowledged, and escalates like any alert that asks for acknowledgement.

    Call inside the report's transaction (issue 13: a crash between the two must not lose the alert), then
    deliver_soon(alert.id) after it commits. Returns the alert, or None when the report needs none.
    """
    if report.kind != "injury" and report.severity != "high":
        return None
    serious = report.kind == "injury" and serious
    roles = ("verneombud", "foreman", "manager") if serious else ("verneombud", "foreman")
    what = report_codes(report)  # each reader gets it in their own language (issue 15)
    people = [(m.user_id, m.role) for m in Membership.select().where(
        (Membership.site == report.site_id) & Membership.role.in_(roles))
        if m.user_id != report.reporter_id]
    if serious:
        template, ack_minutes = "report_serious_injury", SERIOUS_INJURY_ACK_MINUTES
    else:
        template, ack_minutes = ("report_injury" if report.kind == "injury" else "report_high"), 60
    fields = dict(template=template, level="warning", title="", body="", area=what, audience="all",
                  ack_required=serious, ack_minutes=ack_minutes)
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


def may_lift(membership, alert):
    """Whether `membership` (the actor's Membership of the alert's site) may lift this stop-work order.

    AML § 6-3: a verneombud's stop is not the employer's to overrule; work resumes when the verneombud finds
    it safe (or Arbeidstilsynet decides). So the sender may lift their own order; an order from a verneombud
    (or from a sender no longer on the site) may also be lifted by another verneombud of the site, and an
    order from the employer's side by a manager of the site. Returns a bool.
    """
    if membership is None or alert.level != "stop_work":
        return False
    if alert.sender_id == membership.user_id:
        return True
    sender = Membership.get_or_none((Membership.site == alert.site_id) & (Membership.user == alert.sender_id))
    if sender is None or sender.role == "verneombud":
        return membership.role == "verneombud"
    return membership.role == "manager"


def lift(actor, alert, membership=None):
    """Lift a stop-work order: work may start again ("arbeidet kan gjenopptas", AML § 6-3).

    Records who and when on the alert (and in the audit chain), and tells everyone who got the order with a
    new alert (template "work_resumed": push and inbox). Returns (alert, lifted now): lifting twice records
    it once and tells people once. membership: the actor's Membership of the site (may_lift decides).
    AlertError("not_stop_work") (409) for any other level, AlertError("not_yours_to_lift") (403) when
    may_lift says no; nothing saved.
    """
    if alert.level != "stop_work":
        raise AlertError("not_stop_work")
    if not may_lift(membership, alert):
        raise AlertError("not_yours_to_lift")
    if alert.lifted_at is not None:
        return alert, False
    now = utcnow()
    fields = dict(template="work_resumed", level="info", title="", body="", area=alert.area, audience="all",
                  ack_required=False, ack_minutes=60)
    told = [(r.user_id, r.role) for r in AlertRecipient.select(AlertRecipient.user, AlertRecipient.role)
            .where(AlertRecipient.alert == alert)]
    sender = Membership.get_or_none((Membership.site == alert.site_id) & (Membership.user == alert.sender_id))
    if sender is not None and sender.user_id != actor.id:
        told.append((sender.user_id, sender.role))  # the verneombud who stopped the work hears it too
    with database.atomic():
        claimed = (Alert.update(lifted_at=now, lifted_by=actor)
                   .where((Alert.id == alert.id) & Alert.lifted_at.is_null()).execute())
        if not claimed:  # lifted by someone else a moment ago
            return Alert.get_by_id(alert.id), False
        audit.record(actor, "alert.lift", "alert", alert.id, after={"at": now.isoformat()})
        notice, _created = create(actor, alert.site, uuidlib.uuid5(alert.uuid, "lifted"), fields, recipients=told,
                                  send=False)
    deliver_soon(notice.id)
    return Alert.get_by_id(alert.id), True


def active_stop_orders(site_ids):
    """{site id: the newest stop-work order not lifted} for these sites: what their home card says first."""
    if not site_ids:
        return {}
    orders = {}
    for alert in (Alert.select().where(Alert.site.in_(list(site_ids)) & (Alert.level == "stop_work")
                                       & Alert.lifted_at.is_null()).order_by(Alert.created_at)):
        orders[alert.site_id] = alert
    return orders


# --- reading and acknowledging -----------------------------------------------------------------------------

def still_on_its_site():
    """A condition on a query of AlertRecipient joined to Alert: the copy's person is still on the alert's site.

    Someone removed from a site keeps their copies (the record of who was told), but the alert's page answers
    them 404: their banner, count and inbox must not offer what they can no longer open or acknowledge."""
    return fn.EXISTS(Membership.select(Membership.id).where((Membership.site == Alert.site)
                                                            & (Membership.user == AlertRecipient.user)))


def _unacknowledged_query(user_id):
    return (AlertRecipient.select(fn.COUNT(AlertRecipient.id)).join(Alert)
            .where((AlertRecipient.user == user_id) & AlertRecipient.acked_at.is_null()
                   & ((Alert.ack_required & Alert.lifted_at.is_null()) | AlertRecipient.seen_at.is_null())
                   & still_on_its_site()))


# Every signed-in page's bottom bar runs it: the SQL is built once per process (db.ReusedSelect).
_UNACKNOWLEDGED = ReusedSelect(_unacknowledged_query, [(AlertRecipient.user, -7_000_000_004)])


def unacknowledged_count(user_id):
    """Alerts the person has not acknowledged (or, when no acknowledgement is asked, not seen): the bottom bar."""
    return _UNACKNOWLEDGED.rows(user_id)[0][0]


BANNER_SIZE = 3  # alerts at most at the top of a page: the inbox has the rest


def _banner_query(user_id):
    Sender = User.alias()
    return (AlertRecipient.select(AlertRecipient.id, Alert, Site, Sender.name).join(Alert).join(Site)
            .switch(Alert).join(Sender, JOIN.LEFT_OUTER, on=(Alert.sender == Sender.id))
            .where((AlertRecipient.user == user_id) & AlertRecipient.acked_at.is_null() & Alert.ack_required
                   & Alert.lifted_at.is_null() & still_on_its_site())
            .order_by(Alert.level != "stop_work", Alert.created_at.desc(), AlertRecipient.id).limit(BANNER_SIZE + 1))


# Every signed-in page asks (during a stop-work order, every page of everyone on the site shows it): the SQL of
# the copies with their alert, site and sender is built once per process (db.ReusedSelect).
_BANNER = ReusedSelect(_banner_query, [(AlertRecipient.user, -7_000_000_009)])


def banner(user_id):
    """The alerts the person must acknowledge and has not (stop-work orders first, newest first), not lifted, at
    most BANNER_SIZE: ([AlertRecipient with .alert, .alert.site and .alert.sender loaded], more), where more
    says that there are others beyond them (the banner then points to the inbox). Every page shows them at the
    top. The sender is a User with only its id and name (None for the app's own alerts)."""
    rows = _BANNER.rows(user_id)
    alert_end = 1 + len(Alert._meta.sorted_fields)
    site_end = alert_end + len(Site._meta.sorted_fields)
    copies = []
    for row in rows[:BANNER_SIZE]:
        alert = model_from(Alert, row[1:alert_end])
        alert.site = model_from(Site, row[alert_end:site_end])
        alert.sender = User(id=alert.sender_id, name=row[site_end]) if alert.sender_id else None
        copy = AlertRecipient(id=row[0])
        copy.alert = alert
        copies.append(copy)
    return copies, len(rows) > BANNER_SIZE


def inbox(user, limit=100):
    """The person's copies of alerts on the sites they are still on, those to acknowledge first, newest first:
    [AlertRecipient with .alert and .alert.site loaded], at most `limit`."""
    return list(AlertRecipient.select(AlertRecipient, Alert, Site).join(Alert).join(Site)
                .where((AlertRecipient.user == user) & still_on_its_site())
                .order_by(AlertRecipient.acked_at.is_null(False), Alert.created_at.desc()).limit(limit))


# The audience of an alert about one person (their certificate expiring, their term as verneombud ending): it
# rides on a site only to reach an inbox, and only its recipients see it; the site's alert list and status pages
# never show it, so another organization's staff on that site do not read about someone they do not employ.
PERSONAL = "personal"


def site_alert(site, alert_id, user=None):
    """The site's alert with this id, or None (another site's alert is None too: the view answers 404). A
    PERSONAL alert is None unless `user` (a User or None) is one of its recipients."""
    alert = Alert.get_or_none((Alert.id == alert_id) & (Alert.site == site.id))
    if alert is not None and alert.audience == PERSONAL and (user is None or copy_for(alert, user) is None):
        return None
    return alert


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
    """True when recorded now, False when it was already; AlertError("ack_uuid_conflict") (409) for a UUID that
    another acknowledgement already carries.

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
        raise AlertError("ack_uuid_conflict") from None
    return bool(updated)


StatusRow = namedtuple("StatusRow", "user_id name role escalated_at delivered_at received_at seen_at acked_at "
                                     "ack_phone_at ack_received_at push_broken no_push")


def _recipients_query(alert_id):
    return (AlertRecipient.select(AlertRecipient.user, User.name, AlertRecipient.role, AlertRecipient.escalated_at,
                                  AlertRecipient.delivered_at, AlertRecipient.received_at, AlertRecipient.seen_at,
                                  AlertRecipient.acked_at, AlertRecipient.ack_phone_at, AlertRecipient.ack_received_at)
            .join(User).where(AlertRecipient.alert == alert_id).order_by(User.name))


def _subscriptions_query(alert_id):
    recipients = AlertRecipient.select(AlertRecipient.user).where(AlertRecipient.alert == alert_id)
    return PushSubscription.select(PushSubscription.user, PushSubscription.broken_at).where(
        PushSubscription.user.in_(recipients))


# The sender's status polls every 5 s while anyone has not acknowledged: SQL built once (db.ReusedSelect).
_RECIPIENTS = ReusedSelect(_recipients_query, [(AlertRecipient.alert, -7_000_000_007)])
_SUBSCRIPTIONS = ReusedSelect(_subscriptions_query, [(AlertRecipient.alert, -7_000_000_008)])


def status_rows(alert):
    """Every recipient as a flat StatusRow (name, role and times), those who have not acknowledged first.

    Plain data, so the sender's polled status can take its ETag from it (htmx.render_polled). Two queries.
    row.push_broken: a push service refused one of the person's phones (400/403): the sender tells them to
    turn notifications on again (the phone also re-subscribes by itself on its next visit).
    row.no_push: the person has turned on notifications on no phone: only the app's inbox reaches them.
    """
    rows = _RECIPIENTS.rows(alert.id)
    subscriptions = _SUBSCRIPTIONS.rows(alert.id)
    broken = {user_id for user_id, broken_at in subscriptions if broken_at is not None}
    working = {user_id for user_id, broken_at in subscriptions if broken_at is None}
    # no_push: only the inbox reaches them
    out = [StatusRow(*row, row[0] in broken, row[0] not in broken and row[0] not in working) for row in rows]
    out.sort(key=lambda r: (r.acked_at is not None, r.seen_at is not None, r.name))
    return out


AlertHead = namedtuple("AlertHead", "id escalated_at ack_required")


def status_of(site, alert_id, user):
    """What the sender's live status of the site's alert `alert_id` shows, as plain data: (AlertHead,
    [StatusRow]), or None when the site has no such alert for `user` (site_alert)."""
    alert = site_alert(site, alert_id, user)
    if alert is None:
        return None
    return AlertHead(alert.id, alert.escalated_at, alert.ack_required), status_rows(alert)


def site_alerts(site, limit=50):
    """The site's latest alerts (not PERSONAL ones) with .total, .acked and .seen recipient counts."""
    counts = (AlertRecipient.select(AlertRecipient.alert, fn.COUNT(AlertRecipient.id).alias("total"),
                                    fn.COUNT(AlertRecipient.acked_at).alias("acked"),
                                    fn.COUNT(AlertRecipient.seen_at).alias("seen"))
              .group_by(AlertRecipient.alert))
    alerts = list(Alert.select().where((Alert.site == site) & (Alert.audience != PERSONAL))
                  .order_by(Alert.created_at.desc()).limit(limit))
    if alerts:
        totals = {row.alert_id: (row.total, row.acked, row.seen) for row in
                  counts.where(AlertRecipient.alert.in_([a.id for a in alerts]))}
        for a in alerts:
            a.total, a.acked, a.seen = totals.get(a.id, (0, 0, 0))
    return alerts


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
    if app.config.get("TESTING") or app.config["LOCAL_DEV"]:
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
