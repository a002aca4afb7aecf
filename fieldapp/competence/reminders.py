"""Expiry reminders: 90, 30 and 0 days before a certificate expires and once after, each step sent once.

The person and the foremen and managers of their own employer on the site the reminder rides on (their
employer's own site where they have one) are told in the inbox and by push, each in their own language (one
PERSONAL alert per reader, worded when it is made: no one else on the site sees it). A step is recorded in
CompetenceReminder under a unique key (record, step, expiry) in the same transaction as its alerts, so a
second run, a retry or two consumers at once never send it twice. A record that a newer one of the same
person and course replaces is not reminded of.
"""
import uuid as uuidlib
from datetime import date, timedelta

import flask_babel
from flask_babel import force_locale
from flask_babel import gettext as _
from peewee import IntegrityError, fn

from .. import audit, clock, isolate
from ..alerts.delivery import queue_deliveries
from ..alerts.service import PERSONAL
from ..alerts.tasks import deliver_soon
from ..db import database
from ..models import Alert, AlertRecipient, CompetenceReminder, Membership, Site, TrainingRecord, User
from .service import course_names, org_of

STEPS = ("90", "30", "0", "after")
# "Once after" reaches records that expired at most this many days ago: a record that expired long before
# the feature was turned on is on the matrix, not in everyone's inbox on the first morning.
AFTER_DAYS = 30
CHUNK = 500
NAMESPACE = uuidlib.UUID("0b6f3f0e-5a0c-4d8e-9e77-0c7d2b9b4a11")


def step_for(days_left):
    """The step due `days_left` days before expiry (negative: after it), or None before 90 days."""
    if days_left < 0:
        return "after"
    if days_left == 0:
        return "0"
    if days_left <= 30:
        return "30"
    if days_left <= 90:
        return "90"
    return None


def _candidates(today):
    """Approved records expiring within 90 days (or up to AFTER_DAYS ago) that no newer record of the same
    person and course replaces: [(id, user id, course, expires_on)]. One query."""
    newer = TrainingRecord.alias()
    replaced = (newer.select(newer.id)
                .where((newer.user == TrainingRecord.user) & (newer.course == TrainingRecord.course)
                       & (newer.status == "approved")
                       & (newer.expires_on.is_null() | (newer.expires_on > TrainingRecord.expires_on))))
    # The window is wide by a day each way: each person's day is then taken on their site's clock.
    return list(TrainingRecord.select(TrainingRecord.id, TrainingRecord.user, TrainingRecord.course,
                                      TrainingRecord.expires_on)
                .where((TrainingRecord.status == "approved")
                       & TrainingRecord.expires_on.between(today - timedelta(days=AFTER_DAYS + 1),
                                                           today + timedelta(days=91))
                       & ~fn.EXISTS(replaced))
                .tuples())


def _carrier_sites(people):
    """{user id: Site} the site each person's reminders ride on: one of their employer's own sites they are a
    member of (lowest id), else their lowest-numbered site (the alert is PERSONAL there, so another
    organization's staff on that site never see it). A person on no site is left out. Two queries."""
    if not people:
        return {}
    rows = list(Membership.select(Membership.user, Membership.site, Site.organization).join(Site)
                .where(Membership.user.in_(list(people))).order_by(Membership.site).tuples())
    chosen = {}
    for user_id, site_id, organization_id in rows:
        own = organization_id == org_of(people[user_id])
        if user_id not in chosen or (own and not chosen[user_id][1]):
            chosen[user_id] = (site_id, own)
    sites = {s.id: s for s in Site.select().where(Site.id.in_(list({c[0] for c in chosen.values()})))}
    return {user_id: sites[site_id] for user_id, (site_id, _own) in chosen.items()}


def run(now=None):
    """One daily run. Returns {"sent": steps sent, "alerts": alerts made, "failed": steps that raised}.
    now: naive UTC (default clock).

    Who is told (privacy): the person, and the foremen and managers of the person's own employer (org_of) on the
    site the reminder rides on; the alert is PERSONAL (alerts.service), so nobody else on that site sees it.
    A step that raises unexpectedly (one site's broken setting) is logged and not recorded, and the run goes on
    with the others (fieldapp/isolate.py); the next run tries it again.
    """
    now = now or clock.utcnow()
    today = clock.today()
    counts = {"sent": 0, "alerts": 0, "failed": 0}
    candidates = _candidates(today)
    if not candidates:
        return counts
    ids = [c[0] for c in candidates]
    sent = {}
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start:chunk_start + 5000]
        for record_id, step, expires_on in (CompetenceReminder
                                            .select(CompetenceReminder.record, CompetenceReminder.step,
                                                    CompetenceReminder.expires_on)
                                            .where(CompetenceReminder.record.in_(chunk)).tuples()):
            sent.setdefault((record_id, expires_on), set()).add(step)
    people = {u.id: u for u in User.select().where(User.id.in_(list({c[1] for c in candidates})))}
    site_of = _carrier_sites(people)
    site_today = {}
    due = []
    for record_id, user_id, course, expires_on in candidates:
        site = site_of.get(user_id)
        if site is None:
            continue  # on no site: nobody to tell them through a site's inbox; the matrix shows it
        if site.id not in site_today:
            ok, site_today[site.id] = isolate.attempt("competence reminders: site's day", site.id, clock.today,
                                                      site)
            counts["failed"] += not ok
        if site_today[site.id] is None:
            continue  # logged once for the site; its people's steps wait for the next run
        if isinstance(expires_on, str):
            expires_on = date.fromisoformat(expires_on)
        days = (expires_on - site_today[site.id]).days
        step = step_for(days)
        if step is None or (step == "after" and days < -AFTER_DAYS):
            continue
        done = sent.get((record_id, expires_on), set())
        if step in done or any(STEPS.index(s) > STEPS.index(step) for s in done):
            continue
        due.append((record_id, user_id, course, expires_on, step, site, days))
    if not due:
        return counts
    leads = {}
    for m in (Membership.select(Membership.site, Membership.role, User)
              .join(User).where(Membership.site.in_(list({d[5].id for d in due}))
                                & Membership.role.in_(("foreman", "manager")) & (User.active == True))):  # noqa: E712
        leads.setdefault(m.site_id, []).append((m.user, m.role))
    roles = {(m.user_id, m.site_id): m.role for m in Membership.select(Membership.user, Membership.site,
                                                                       Membership.role)
             .where(Membership.user.in_(list(people)))}
    names_by_org = {}
    # Steps are committed CHUNK at a time (a commit per step cost 5 ms of fsync each on SQLite); each step is
    # a savepoint of its own, so one that another run recorded first, or one that fails, is skipped without
    # losing the others.
    for start in range(0, len(due), CHUNK):
        with database.atomic():
            for item in due[start:start + CHUNK]:
                ok, alerts = isolate.attempt("competence reminders", f"record {item[0]} step {item[4]}",
                                             _send_step, item, people, roles, leads, names_by_org, now)
                if not ok:
                    counts["failed"] += 1
                elif alerts is not None:
                    counts["sent"] += 1
                    counts["alerts"] += alerts
    if counts["sent"]:
        audit.record(None, "competence.reminders.send", "competence_reminder", today.isoformat(),
                     after={"sent": counts["sent"], "alerts": counts["alerts"]})
        deliver_soon(None)
    return counts


def _send_step(item, people, roles, leads, names_by_org, now):
    """Record one step and make its alerts (inside the caller's savepoint). Returns the number of alerts made,
    or None when another run recorded the step first (it has been sent)."""
    record_id, user_id, course, expires_on, step, site, days = item
    person = people[user_id]
    readers = [(person, roles.get((user_id, site.id), "worker"))]
    readers += [(lead, role) for lead, role in leads.get(site.id, [])
                if lead.id != person.id and org_of(lead) == org_of(person)]
    try:
        with database.atomic():
            CompetenceReminder.create(record=record_id, step=step, expires_on=expires_on, sent_at=now)
    except IntegrityError:
        return None
    for reader, role in readers:
        title, body = _wording(reader, person, course, site, expires_on, days, step, names_by_org)
        key = uuidlib.uuid5(NAMESPACE, f"{record_id}/{step}/{expires_on}/{reader.id}")
        alert = Alert.create(uuid=key, site=site, sender=None, level="info", title=title[:120], body=body,
                             audience=PERSONAL, ack_required=False, created_at=now)
        AlertRecipient.create(alert=alert, user=reader, role=role)
        queue_deliveries(alert)
    return len(readers)


def _wording(reader, person, course, site, expires_on, days, step, names):
    """(title, text) of a reminder in the reader's language. names: a cache {(organization, language): names}."""
    language = reader.language or "nb"
    with force_locale(language):
        key = (site.organization_id, language)
        if key not in names:
            names[key] = course_names(site.organization_id, language)
        course_name = names[key].get(course, course)
        when = clock.format_date(expires_on, "medium")
        if step == "after":
            title = _("Certificate has expired")
            text = _("%(name)s: %(course)s expired on %(date)s.", name=person.name, course=course_name, date=when)
        elif step == "0":
            title = _("Certificate expires today")
            text = _("%(name)s: %(course)s is valid until today, %(date)s.", name=person.name, course=course_name,
                     date=when)
        else:
            title = _("Certificate expires soon")
            text = flask_babel.ngettext("%(name)s: %(course)s expires in %(num)d day (%(date)s).",
                                        "%(name)s: %(course)s expires in %(num)d days (%(date)s).", days,
                                        name=person.name, course=course_name, date=when)
        return str(title), str(text)
