"""Reminders that a verneombud's term ends within 60 days (AML § 6-1: elected for two years; the next election
must be held before the term runs out). Once per term: the term's `reminded_at` is set by a conditional
update in the same transaction as its alerts, so a second run, a retry or two consumers never send it twice.

The verneombud and the managers of the term's organization on the term's site (for an organization-wide term:
the verneombud's first site in the organization) are told, in PERSONAL alerts that nobody else on the site
sees, in the inbox and by push, each in their own language.
"""
import uuid as uuidlib
from datetime import timedelta

import flask_babel
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import audit, clock, isolate
from ..alerts.delivery import queue_deliveries
from ..alerts.service import PERSONAL
from ..alerts.tasks import deliver_soon
from ..models import Alert, AlertRecipient, Inspection, InspectionOrder, Membership, Site, User, VerneombudTerm
from . import rules

NAMESPACE = uuidlib.UUID("5d0f1c62-3f1e-4c55-9a57-2f8f3b7f6e24")
MAX_TERMS = 5000  # terms handled per run (bounded; the next run takes the rest)


def _site_for(term):
    if term.site_id is not None:
        return Site.get_by_id(term.site_id)
    return (Site.select().join(Membership)
            .where((Membership.user == term.user_id) & (Site.organization == term.organization_id))
            .order_by(Site.id).first())


def _wording(reader, term):
    with force_locale(reader.language or "nb"):
        days = max(0, (term.elected_to - clock.today()).days)  # never "in -3 days"
        title = _("Verneombud's term ends soon")
        text = flask_babel.ngettext(
            "%(name)s's term as verneombud ends in %(num)d day (%(date)s). Hold the next election.",
            "%(name)s's term as verneombud ends in %(num)d days (%(date)s). Hold the next election.", days,
            name=term.user.name, date=clock.format_date(term.elected_to, "medium"))
        return str(title), str(text)


def run(now=None):
    """One daily run. Returns {"terms": terms reminded, "alerts": alerts made}. now: naive UTC (default clock)."""
    now = now or clock.utcnow()
    today = clock.today()
    due = list(VerneombudTerm.select(VerneombudTerm, User).join(User)
               .where(VerneombudTerm.reminded_at.is_null() & (VerneombudTerm.elected_to >= today)
                      & (VerneombudTerm.elected_from <= today)
                      & (VerneombudTerm.elected_to <= today + timedelta(days=rules.TERM_WARNING_DAYS)))
               .limit(MAX_TERMS))
    counts = {"terms": 0, "alerts": 0, "failed": 0}
    for term in due:
        ok, made = isolate.attempt("verneombud term reminders", term.id, _remind_term, term, now)
        counts["failed"] += not ok
        if made is not None:
            counts["terms"] += 1
            counts["alerts"] += made
    if counts["alerts"]:
        deliver_soon(None)
    return counts


def _remind_term(term, now):
    """One term's reminder (inside isolate.attempt's transaction): the number of alerts made, or None when
    there is no site to tell them through or another run sent it first.

    The readers are the verneombud and the managers of the term's own organization on the site (AML § 6-1: the
    undertaking's register); the alerts are PERSONAL, so another organization's staff on that site never see
    them."""
    site = _site_for(term)
    if site is None:
        return None  # on no site: no inbox to tell them through; the responsibilities page shows it
    readers = {term.user_id: (term.user, "verneombud")}
    for m in (Membership.select(Membership.role, User).join(User)
              .where((Membership.site == site) & (Membership.role == "manager")
                     & (User.active == True))):  # noqa: E712
        if (m.user.employer_id or m.user.organization_id) == term.organization_id:
            readers.setdefault(m.user.id, (m.user, "manager"))
    claimed = (VerneombudTerm.update(reminded_at=now)
               .where((VerneombudTerm.id == term.id) & VerneombudTerm.reminded_at.is_null()).execute())
    if claimed != 1:
        return None  # another run sent it first
    for reader, role in readers.values():
        title, body = _wording(reader, term)
        alert = Alert.create(uuid=uuidlib.uuid5(NAMESPACE, f"{term.id}/{reader.id}"), site=site, sender=None,
                             level="info", title=title[:120], body=body, audience=PERSONAL, ack_required=False,
                             created_at=now)
        AlertRecipient.create(alert=alert, user=reader, role=role)
        queue_deliveries(alert)
    audit.record(None, "verneombud.term.reminded", "verneombud_term", term.id,
                 after={"elected_to": term.elected_to.isoformat()})
    return len(readers)


def _order_wording(reader, order, site):
    with force_locale(reader.language or "nb"):
        days = (order.deadline - clock.today(site)).days
        title = _("Order from Arbeidstilsynet due soon")
        if days < 0:  # recorded after its deadline had passed: no "due in -3 days"
            text = _("%(site)s: the order \"%(order)s\" was due on %(date)s.", site=site.name,
                     order=order.text[:200], date=clock.format_date(order.deadline, "medium"))
            return str(title), str(text)
        text = flask_babel.ngettext(
            "%(site)s: the order \"%(order)s\" is due in %(num)d day (%(date)s).",
            "%(site)s: the order \"%(order)s\" is due in %(num)d days (%(date)s).", days,
            site=site.name, order=order.text[:200], date=clock.format_date(order.deadline, "medium"))
        return str(title), str(text)


def run_orders(now=None):
    """Remind the site's managers once, rules.ORDER_WARNING_DAYS before an open order's deadline (AML § 18-6).
    Returns {"orders": orders reminded, "alerts": alerts made}."""
    now = now or clock.utcnow()
    today = clock.today()
    due = list(InspectionOrder.select(InspectionOrder, Inspection).join(Inspection)
               .where(InspectionOrder.closed_at.is_null() & InspectionOrder.reminded_at.is_null()
                      & (InspectionOrder.deadline <= today + timedelta(days=rules.ORDER_WARNING_DAYS)))
               .limit(MAX_TERMS))
    counts = {"orders": 0, "alerts": 0, "failed": 0}
    for order in due:
        ok, made = isolate.attempt("inspection order reminders", order.id, _remind_order, order, now)
        counts["failed"] += not ok
        if made is not None:
            counts["orders"] += 1
            counts["alerts"] += made
    if counts["alerts"]:
        deliver_soon(None)
    return counts


def _remind_order(order, now):
    """One order's reminder to its site's managers (inside isolate.attempt's transaction): the number of alerts
    made, or None when another run sent it first. An order is the site's (its employer answers it), so the
    alert is listed on the site like the inspection."""
    site = Site.get_by_id(order.inspection.site_id)
    managers = list(User.select().join(Membership)
                    .where((Membership.site == site) & (Membership.role == "manager")
                           & (User.active == True)))  # noqa: E712
    claimed = (InspectionOrder.update(reminded_at=now)
               .where((InspectionOrder.id == order.id) & InspectionOrder.reminded_at.is_null()).execute())
    if claimed != 1:
        return None
    for reader in managers:
        title, body = _order_wording(reader, order, site)
        alert = Alert.create(uuid=uuidlib.uuid5(NAMESPACE, f"order/{order.id}/{reader.id}"), site=site,
                             sender=None, level="info", title=title[:120], body=body, audience="all",
                             ack_required=False, created_at=now)
        AlertRecipient.create(alert=alert, user=reader, role="manager")
        queue_deliveries(alert)
    audit.record(None, "inspection.order.reminded", "inspection_order", order.id,
                 after={"deadline": order.deadline.isoformat()})
    return len(managers)
