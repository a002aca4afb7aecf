"""Who is responsible for what (issue 24): the responsibilities page's statuses, each person's own duties and
rights, and the verneombud register (AML §§ 6-1 to 6-5)."""
from datetime import date, timedelta

from peewee import JOIN, fn

from .. import audit, clock, photos
from ..authz import roles_with
from ..db import database, locked, replayed_since
from ..inputs import FormReader, InputError, decimal_number, file_name, iso_date, plausible_date, whole_number
from ..models import (ELECTION_KINDS, INSPECTION_SANCTIONS, VERNEOMBUD_ROLES, Inspection, InspectionOrder,
                      Membership, OrderEvidence, Organization, Report, Site, User, VerneombudTerm,
                      utcnow)
from ..sites.service import org_number_valid, staffing_agency
from ..competence import service as competence
from ..meetings import service as meetings
from ..models import CheckIn, MeetingAttendance, RoundSignature, SafetyRound, VerneombudHours
from ..rounds import service as rounds
from ..stats import service as stats
from ..stats.definitions import Period as StatsPeriod
from . import evidence, pack, rules

DEFAULT_DAYS = 90  # the period the statuses look back over, a setting on the page
MAX_DAYS = 730
MAX_AREA = 200


class DutyError(InputError):
    scope = "duties"


# How far from the site's today each date the feature takes may lie (years back, years ahead): an absurd date
# (9999-12-31) never reaches the database, where date arithmetic on it overflows ("year 10000 is out of range").
TERM_YEARS = (10, 2)  # a term's start (its end is two years on: term_end)
NOTICE_YEARS = (10, 0)  # the employer's written notice
HELD_YEARS = (5, 0)  # an inspection
DEADLINE_YEARS = (5, 5)  # an order's deadline
WORKED_YEARS = (1, 0)  # a verneombud's hours
FIRST_BIRTH = date(1900, 1, 1)  # a date of birth: from this day, never in the future


def _recent(model):
    """model's rows created in the last db.REPLAY_SECONDS (a query to narrow down to an exact twin)."""
    return model.select().where(model.created_at >= replayed_since())


def _plausible(fields, name, value, today, years):
    """value, or None after noting "implausible_date" on `fields` (a FormReader) when outside `years` of today."""
    try:
        return plausible_date(value, today, name, years[0], years[1])
    except InputError as exc:
        fields.fail(exc.reason, name, **exc.params)
        return None


def parse_days(raw):
    """The period's length in days from the query (default DEFAULT_DAYS). DutyError("bad_period") unless
    1..MAX_DAYS."""
    if raw in (None, ""):
        return DEFAULT_DAYS
    days = whole_number(raw)
    if days is None or not 1 <= days <= MAX_DAYS:
        raise DutyError("bad_period", field="days", n=MAX_DAYS)
    return days


def scope_for(user, site, scope):
    """rules.Scope: [site] for "site"; for "org", every site of the site's organization where the person's role
    grants duties.site (a site they cannot see never counts). DutyError("bad_scope") for anything else."""
    if scope in (None, "", "site"):
        return rules.Scope(site.organization, [site], site.name)
    if scope != "org":
        raise DutyError("bad_scope", field="scope")
    sites = list(Site.select().join(Membership)
                 .where((Membership.user == user) & Membership.role.in_(roles_with("duties.site"))
                        & (Site.organization == site.organization_id))
                 .order_by(Site.name))
    return rules.Scope(site.organization, sites or [site], site.organization.name)


def period_ending(today, days):
    """rules.Period of `days` local days ending today (inclusive)."""
    return rules.Period(today - timedelta(days=days - 1), today)


def responsibilities(scope, period, today):
    """[(role, [rules.Duty])] for the roles in rules.SECTIONS order, each duty computed from the records."""
    return [(role, [rule(scope, period, today) for rule in duty_rules]) for role, duty_rules in rules.SECTIONS]


def summary(sections):
    """{status: count} over every duty of the sections."""
    out = dict.fromkeys(rules.STATUSES, 0)
    for _role, duties in sections:
        for duty in duties:
            out[duty.status] += 1
    return out


# --- each person's own duties and rights ----------------------------------------------------------------------

ROLE_ORDER = ("worker", "verneombud", "foreman", "manager")


def own_roles(user):
    """The person's distinct site roles, in ROLE_ORDER, plus "verneombud" when they hold a current term in the
    register (a deputy too)."""
    roles = {r for (r,) in Membership.select(Membership.role).where(Membership.user == user).tuples()}
    today = clock.today()
    if VerneombudTerm.select().where((VerneombudTerm.user == user) & (VerneombudTerm.elected_to >= today)).exists():
        roles.add("verneombud")
    return [r for r in ROLE_ORDER if r in roles] or ["worker"]


# --- the verneombud register ------------------------------------------------------------------------------------

def term_end(elected_from):
    """The last day of a two-year term that starts on `elected_from` (AML § 6-1; forskrift om organisering,
    ledelse og medvirkning § 3-3: elected for two years): the day before the same date two years on
    (29 February: 28 February two years on)."""
    try:
        same = elected_from.replace(year=elected_from.year + 2)
    except ValueError:  # 29 February
        same = date(elected_from.year + 2, 3, 1)
    return same - timedelta(days=1)


def site_people(site):
    """[User] of the site, by name: who may be recorded as its verneombud."""
    return list(User.select().join(Membership).where(Membership.site == site).order_by(User.name))


def register(site, today):
    """[(VerneombudTerm, state)] for the site (terms of the site and the organization's, newest first); state
    "current", "ending" (within rules.TERM_WARNING_DAYS), "ended" or "future"."""
    terms = (VerneombudTerm.select(VerneombudTerm, User).join(User)
             .where((VerneombudTerm.organization == site.organization_id)
                    & (VerneombudTerm.site.is_null() | (VerneombudTerm.site == site)))
             .order_by(VerneombudTerm.elected_to.desc(), VerneombudTerm.id))
    out = []
    for term in terms:
        if term.elected_from > today:
            state = "future"
        elif term.elected_to < today:
            state = "ended"
        elif (term.elected_to - today).days <= rules.TERM_WARNING_DAYS:
            state = "ending"
        else:
            state = "current"
        out.append((term, state))
    return out


def site_roles(site, terms):
    """{user id: site role or None (not a member)} on `site` of the people of `terms` ([(VerneombudTerm, state)],
    as register gives). The register says who the verneombud is (AML § 6-1); the site role "verneombud" gives the
    app's permissions (walkarounds, this page), so the register page warns when they differ. One query."""
    ids = list({term.user_id for term, _state in terms})
    roles = dict(Membership.select(Membership.user, Membership.role)
                 .where((Membership.site == site) & Membership.user.in_(ids)).tuples()) if ids else {}
    return {u: roles.get(u) for u in ids}


def course_40h(terms):
    """{user id: "done" | "waiting" | "missing"}: the 40-hour verneombud course (AML § 6-5; competence course
    "verneombud_40h") of each person with one of `terms` ([(VerneombudTerm, state)], as register gives). One
    query."""
    ids = list({term.user_id for term, _state in terms})
    known = competence.standing(ids, ["verneombud_40h"])
    return {u: "done" if (u, "verneombud_40h") in known.best
            else "waiting" if (u, "verneombud_40h") in known.pending else "missing" for u in ids}


def read_term(form, site, today):
    """Clean fields of a register form: {user, role, how, elected_from, elected_to, notice_on, area, whole_org,
    regional}. InputErrors with every problem: a person not on the site, a term not exactly two years
    (term_end), an end before the start, a written notice in the future."""
    fields = FormReader(form)
    people = {str(p.id): p for p in site_people(site)}
    person_id = fields.choice("user", list(people), "duties.person")
    role = fields.choice("role", VERNEOMBUD_ROLES, "duties.bad_role")
    how = fields.choice("how", ELECTION_KINDS, "duties.bad_how")
    start = fields.date("elected_from")
    end = fields.date("elected_to")
    notice = fields.date("notice_on")
    area = fields.text("area", MAX_AREA)
    start = _plausible(fields, "elected_from", start, today, TERM_YEARS)
    end = _plausible(fields, "elected_to", end, today, (TERM_YEARS[0], TERM_YEARS[1] + 2))
    notice = _plausible(fields, "notice_on", notice, today, NOTICE_YEARS)
    if start is None and "elected_from" not in {p.field for p in fields.problems}:
        fields.fail("duties.from_required", "elected_from")
    if end is None and "elected_to" not in {p.field for p in fields.problems}:
        fields.fail("duties.to_required", "elected_to")
    if start and end and not {"elected_from", "elected_to"} & {p.field for p in fields.problems}:
        if end < start:
            fields.fail("duties.to_before_from", "elected_to")
        elif end != term_end(start):
            # The date in the reader's own format ("14.06.2028" in nb), not ISO.
            fields.fail("duties.not_two_years", "elected_to", date=clock.format_date(term_end(start), "medium"))
    if notice and notice > today:
        fields.fail("duties.notice_future", "notice_on")
    values = fields.done()
    return {"user": people[person_id], "role": role, "how": how, "elected_from": values["elected_from"],
            "elected_to": values["elected_to"], "notice_on": values["notice_on"], "area": area,
            "whole_org": form.get("whole_org") == "1", "regional": form.get("regional") == "1"}


def add_term(actor, site, form):
    """Record a verneombud's (or deputy's) term from the register form; audited. InputErrors: see read_term."""
    today = clock.today(site)
    values = read_term(form, site, today)
    with database.atomic():
        locked(Organization, site.organization_id)
        twin = _recent(VerneombudTerm).where(
            (VerneombudTerm.organization == site.organization_id) & (VerneombudTerm.user == values["user"])
            & (VerneombudTerm.site.is_null() if values["whole_org"] else VerneombudTerm.site == site)
            & (VerneombudTerm.role == values["role"]) & (VerneombudTerm.elected_from == values["elected_from"])
            & (VerneombudTerm.created_by == actor)).first()
        if twin is not None:  # the same form sent twice (a double tap): saved once
            return twin
        term = VerneombudTerm.create(
            organization=site.organization_id, user=values["user"], site=None if values["whole_org"] else site,
            area=values["area"], role=values["role"], how=values["how"], elected_from=values["elected_from"],
            elected_to=values["elected_to"], notice_on=values["notice_on"], regional=values["regional"],
            created_by=actor)
        audit.record(actor, "verneombud.term", "verneombud_term", term.id,
                     after={"user": values["user"].id, "site": term.site_id, "role": term.role, "how": term.how,
                            "from": term.elected_from.isoformat(), "to": term.elected_to.isoformat(),
                            "notice_on": term.notice_on.isoformat() if term.notice_on else None,
                            "area": term.area, "regional": term.regional})
    return term


def terms_ending(today, days=rules.TERM_WARNING_DAYS):
    """Current terms that end within `days` and whose reminder has not gone out (once per term)."""
    return list(VerneombudTerm.select(VerneombudTerm, User, Organization)
                .join(User).switch(VerneombudTerm).join(Organization, JOIN.INNER)
                .where(VerneombudTerm.reminded_at.is_null() & (VerneombudTerm.elected_to >= today)
                       & (VerneombudTerm.elected_to <= today + timedelta(days=days))))




# --- the two fields the attendance list lacked (byggherreforskriften § 15) -----------------------------------------

MAX_AGENCY_NAME = 200


def person_on_site(site, user_id):
    """The site's member `user_id` (a User, with their staffing agency), or None."""
    return (User.select().join(Membership).where((Membership.site == site) & (User.id == user_id)).first())


def agency_of(person):
    """The person's staffing agency (an Organization) or None."""
    if person.staffing_agency_id is None:
        return None
    return Organization.get_or_none(Organization.id == person.staffing_agency_id)


def set_s15(actor, site, person, form):
    """Record a person's date of birth, whether they are hired in (checkbox "hired_in"; an agency given implies
    it) and a hired-in worker's staffing agency: name and organisation number, both or neither. Hired in
    without the agency is saved (the § 15 list then shows itself incomplete: rules.s15_lacking).
    InputErrors: a date of birth in the future ("duties.born_future"), a bad organisation number
    ("duties.agency_number"), a number without a name or a name without a number, and those of
    sites.service.staffing_agency (the person's own employer; a number registered under another name). The
    person's link is replaced; no organization is renamed. Audited without the date of birth itself (personal data:
    the audit log records that it changed)."""
    fields = FormReader(form)
    born = fields.date("date_of_birth")
    name = fields.text("agency_name", MAX_AGENCY_NAME)
    number = "".join(fields.text("agency_org_number", 20).split())
    if born and born > clock.today(site):
        fields.fail("duties.born_future", "date_of_birth")
    elif born and born < FIRST_BIRTH:
        fields.fail("implausible_date", "date_of_birth", first=FIRST_BIRTH, last=clock.today(site))
    if number and not org_number_valid(number):
        fields.fail("duties.agency_number", "agency_org_number")
    elif number and not name and Organization.get_or_none(Organization.org_number == number) is None:
        fields.fail("duties.agency_name", "agency_name")
    elif name and not number:
        fields.fail("duties.agency_number", "agency_org_number")
    fields.done()
    with database.atomic():
        agency = staffing_agency(actor, name, number, {person.employer_id}) if number else None
        hired_in = form.get("hired_in") == "1" or agency is not None
        before = {"date_of_birth_set": person.date_of_birth is not None, "hired_in": person.hired_in,
                  "staffing_agency": person.staffing_agency_id}
        User.update(date_of_birth=born, staffing_agency=agency, hired_in=hired_in).where(User.id == person.id).execute()
        audit.record(actor, "person.s15", "user", person.id, before=before,
                     after={"date_of_birth_set": born is not None, "hired_in": hired_in,
                            "staffing_agency": agency.id if agency else None})
    return agency


# --- Arbeidstilsynet: inspections and orders (AML §§ 18-6 to 18-8) ---------------------------------------------

MAX_REFERENCE = 60
MAX_TEXT = 4000
MAX_ORDERS = 30  # orders recorded with one inspection


def inspections_of(site):
    """[(Inspection, [InspectionOrder])] of the site, newest first; each order's `evidence_items` holds its
    [OrderEvidence]. Three queries."""
    inspections = list(Inspection.select().where(Inspection.site == site)
                       .order_by(Inspection.held_on.desc(), Inspection.id.desc()))
    orders = {}
    if inspections:
        for order in (InspectionOrder.select().where(InspectionOrder.inspection.in_([i.id for i in inspections]))
                      .order_by(InspectionOrder.deadline, InspectionOrder.id)):
            orders.setdefault(order.inspection_id, []).append(order)
    items = evidence_of([o.id for rows in orders.values() for o in rows])
    for rows in orders.values():
        for order in rows:
            order.evidence_items = items.get(order.id, [])
    return [(i, orders.get(i.id, [])) for i in inspections]


def open_orders(site_ids):
    """[(InspectionOrder, Inspection)] not closed, on the sites, earliest deadline first."""
    if not site_ids:
        return []
    rows = (InspectionOrder.select(InspectionOrder, Inspection).join(Inspection)
            .where(Inspection.site.in_(list(site_ids)) & InspectionOrder.closed_at.is_null())
            .order_by(InspectionOrder.deadline, InspectionOrder.id))
    return [(order, order.inspection) for order in rows]


def add_inspection(actor, site, form):
    """Record an inspection and its orders from the form: held_on (not in the future), reference, sanction
    (INSPECTION_SANCTIONS), note, and order_text / order_deadline lists (each order needs a deadline).
    InputErrors with every problem; nothing is saved then. Audited."""
    today = clock.today(site)
    fields = FormReader(form)
    held_on = fields.date("held_on")
    reference = fields.text("reference", MAX_REFERENCE, required="duties.reference_required")
    sanction = fields.choice("sanction", INSPECTION_SANCTIONS, "duties.bad_sanction", default="none")
    note = fields.text("note", MAX_TEXT)
    if held_on is None and "held_on" not in {p.field for p in fields.problems}:
        fields.fail("duties.held_on_required", "held_on")
    elif held_on and held_on > today:
        fields.fail("duties.held_on_future", "held_on")
    else:
        held_on = _plausible(fields, "held_on", held_on, today, HELD_YEARS)
    texts = [t.strip() for t in form.getlist("order_text")]
    deadlines = [d.strip() for d in form.getlist("order_deadline")]
    if sum(1 for i, t in enumerate(texts) if t or (i < len(deadlines) and deadlines[i])) > MAX_ORDERS:
        fields.fail("duties.too_many_orders", "order_text", n=MAX_ORDERS)  # refused whole: never some saved
        texts = []
    orders = []
    for index, text in enumerate(texts):
        raw = deadlines[index] if index < len(deadlines) else ""
        if not text and not raw:
            continue
        if len(text) > MAX_TEXT:
            fields.fail("too_long", "order_text", n=MAX_TEXT)
            continue
        if not text:
            fields.fail("duties.order_text", "order_text")
            continue
        try:
            deadline = iso_date(raw)
        except ValueError:
            deadline = None
        if deadline is None:
            fields.fail("duties.order_deadline", "order_deadline")
            continue
        if _plausible(fields, "order_deadline", deadline, today, DEADLINE_YEARS) is None:
            continue
        orders.append((text, deadline))
    fields.done()
    with database.atomic():
        locked(Site, site.id)
        twin = _recent(Inspection).where((Inspection.site == site) & (Inspection.held_on == held_on)
                                         & (Inspection.reference == reference)
                                         & (Inspection.created_by == actor)).first()
        if twin is not None:  # the same form sent twice (a double tap): saved once
            return twin
        inspection = Inspection.create(site=site, held_on=held_on, reference=reference, sanction=sanction, note=note,
                                       created_by=actor)
        for text, deadline in orders:
            InspectionOrder.create(inspection=inspection, text=text, deadline=deadline)
        audit.record(actor, "inspection.add", "inspection", inspection.id,
                     after={"held_on": held_on.isoformat(), "reference": reference, "sanction": sanction,
                            "orders": [{"text": t, "deadline": d.isoformat()} for t, d in orders]})
    return inspection


def close_order(actor, site, order_id, form, files=(), store=None):
    """Close an open order of the site with the response (required), optionally a linked report of the site
    (its follow-up and photos are evidence) and photos or PDF documents (files, store: as for add_evidence).
    None when the order is not the site's; DutyError "response_required" (422), "bad_report" (422),
    "order_closed" (409), and the evidence's errors (see add_evidence). Nothing is saved on any error. Audited."""
    order = _order_of(site, order_id)
    if order is None:
        return None
    if order.closed_at is not None:
        raise DutyError("order_closed")
    fields = FormReader(form)
    response = fields.text("response", MAX_TEXT, required="duties.response_required")
    raw = (form.get("report") or "").strip()
    report = None
    if raw:
        report_id = whole_number(raw)
        report = (Report.get_or_none((Report.id == report_id) & (Report.site == site))
                  if report_id is not None else None)
        if report is None:
            fields.fail("duties.bad_report", "report")
    fields.done()
    items = _prepare_evidence(order, files, store) if files else []
    with database.atomic():
        changed = (InspectionOrder.update(response=response, report=report, closed_at=utcnow(), closed_by=actor)
                   .where((InspectionOrder.id == order.id) & InspectionOrder.closed_at.is_null()).execute())
        if changed != 1:
            raise DutyError("order_closed")
        audit.record(actor, "inspection.order.close", "inspection_order", order.id,
                     after={"response": response, "report": report.id if report else None})
        _record_evidence(actor, order, items)
    return order


# --- the inspector's pack ------------------------------------------------------------------------------------------

PACK_LIMIT = 500  # rounds and meetings read for the pack (bounded)


def pack_data(site, period, today, language, store=None):
    """Everything the inspector's pack shows for the site and period (rules.Period), read through the features'
    services: {"site", "period", "attendance": {checkins, people, days, lacking}, "injuries": [stats
    RegisterRow] (no medical details), "rounds", "next_round": (date, days), "meetings" (held), "kind_names",
    "with_verneombud": {meeting id}, "orders" (open), "closed_orders" (closed in the period), "evidence":
    {order id: [OrderEvidence]}, "store" (the app's store, fieldapp/storage.py, for thumbnails; None: no thumbnails), "terms",
    "trained": {user id}, "competence": {status: cells}, "requirements": n}."""
    lo, hi = clock.day_bounds(period.start, period.end, site)
    checkins = list(CheckIn.select(CheckIn.user, CheckIn.name, CheckIn.checked_in_at)
                    .where((CheckIn.site == site) & (CheckIn.checked_in_at >= lo) & (CheckIn.checked_in_at < hi))
                    .tuples())
    user_ids = {u for u, _n, _t in checkins if u is not None}
    lacking = (User.select().where(User.id.in_(list(user_ids)) & rules.s15_lacking()).count() if user_ids else 0)
    days = {clock.local(at, site).date() for _u, _n, at in checkins}
    round_rows = [r for r in rounds.list_rounds(site, limit=PACK_LIMIT) if lo <= r.started_at < hi]
    meeting_rows = meetings.held_meetings(site, period.start, period.end, today, limit=PACK_LIMIT)
    with_vo = rules.meetings_with_verneombud(site.organization_id,
                                             [(m.id, m.site_id, m.held_on) for m in meeting_rows])
    terms = register(site, today)
    term_users = [t.user_id for t, _state in terms]
    known = competence.standing(term_users, ["verneombud_40h"]) if term_users else competence.Standing()
    m = competence.matrix(site)
    orders = open_orders([site.id])
    closed = [(o, o.inspection) for o in InspectionOrder.select(InspectionOrder, Inspection).join(Inspection)
              .where((Inspection.site == site) & (InspectionOrder.closed_at >= lo) & (InspectionOrder.closed_at < hi))
              .order_by(InspectionOrder.closed_at, InspectionOrder.id)]
    return {
        "site": site, "period": period,
        "attendance": {"checkins": len(checkins), "people": len({(u, n) for u, n, _t in checkins}),
                       "days": len(days), "lacking": lacking},
        "injuries": stats.injury_register([site], StatsPeriod(period.start, period.end)),
        "rounds": round_rows, "next_round": rounds.due_dates([site.id])[site.id],
        "meetings": meeting_rows, "with_verneombud": with_vo,
        "kind_names": {code: names[0] for code, names in meetings.kinds_for(site.organization_id, language).items()},
        "orders": orders, "closed_orders": closed, "store": store,
        "evidence": evidence_of([o.id for o, _i in orders + closed]), "terms": terms,
        "trained": {u for u in term_users if (u, "verneombud_40h") in known.best},
        "competence": m.counts, "requirements": len(m.requirements),
    }


def inspector_pack(site, period, today, language, store=None):
    """The inspector's pack as PDF bytes (fieldapp/duties/pack.py); store: the app's store (thumbnails of the
    orders' evidence), or None."""
    return pack.build(pack_data(site, period, today, language, store))


# --- the verneombud's hours (AML § 6-5 (1)) ------------------------------------------------------------------------

MAX_HOURS = 24
MAX_NOTE = 300


def record_hours(actor, site, form):
    """The signed-in verneombud records hours spent on the role: worked_on (today or up to WORKED_YEARS back),
    hours (0.25 to MAX_HOURS, and at most MAX_HOURS in one day over all the person's sites: DutyError
    "day_full"), note. The same entry sent again within db.REPLAY_SECONDS is the one saved (returned, not added).
    InputErrors; nothing saved then. Audited."""
    fields = FormReader(form)
    worked_on = fields.date("worked_on")
    note = fields.text("note", MAX_NOTE)
    hours = decimal_number(form.get("hours"))
    if hours is None or not 0.25 <= hours <= MAX_HOURS:
        fields.fail("duties.bad_hours", "hours", n=MAX_HOURS)
    if (worked_on is None or worked_on > clock.today(site)) and "worked_on" not in {p.field for p in fields.problems}:
        fields.fail("duties.worked_on", "worked_on")
    else:
        worked_on = _plausible(fields, "worked_on", worked_on, clock.today(site), WORKED_YEARS)
    fields.done()
    with database.atomic():
        locked(User, actor.id)
        twin = _recent(VerneombudHours).where(
            (VerneombudHours.user == actor) & (VerneombudHours.site == site) & (VerneombudHours.worked_on == worked_on)
            & (VerneombudHours.hours == hours) & (VerneombudHours.note == note)).first()
        if twin is not None:  # the same form sent twice (a double tap): saved once
            return twin
        have = (VerneombudHours.select(fn.SUM(VerneombudHours.hours))
                .where((VerneombudHours.user == actor) & (VerneombudHours.worked_on == worked_on)).scalar() or 0)
        if have + hours > MAX_HOURS:
            raise DutyError("day_full", field="hours", n=MAX_HOURS, have=f"{float(have):g}")
        row = VerneombudHours.create(user=actor, site=site, worked_on=worked_on, hours=hours, note=note)
        audit.record(actor, "verneombud.hours", "verneombud_hours", row.id,
                     after={"worked_on": worked_on.isoformat(), "hours": hours, "note": note})
    return row


def hours_summary(site, period):
    """[(User, recorded hours, walkarounds)] per verneombud or deputy of the site in the register over the period
    (and anyone else who recorded hours or signed for the verneombud's side): hours they recorded,
    and the rounds they signed for the verneombud's side (counted from the rounds, never recorded by hand)."""
    lo, hi = clock.day_bounds(period.start, period.end, site)
    recorded = {}
    for user_id, hours in (VerneombudHours.select(VerneombudHours.user, VerneombudHours.hours)
                           .where((VerneombudHours.site == site) & (VerneombudHours.worked_on >= period.start)
                                  & (VerneombudHours.worked_on <= period.end)).tuples()):
        recorded[user_id] = recorded.get(user_id, 0) + hours
    walked = {}
    for (user_id,) in (RoundSignature.select(RoundSignature.signer).join(SafetyRound)
                       .where((SafetyRound.site == site) & (RoundSignature.side == "verneombud")
                              & (SafetyRound.started_at >= lo) & (SafetyRound.started_at < hi)).tuples()):
        walked[user_id] = walked.get(user_id, 0) + 1
    # The register says who the verneombud are (rules.register_terms), not the site role.
    people = {u.id: u for u in User.select().where(User.id.in_(
        [t.user_id for t in rules.register_terms(site.organization_id, period.start, period.end)
         if t.site_id in (None, site.id)]))}
    for user_id in set(recorded) | set(walked):
        if user_id not in people:
            people[user_id] = User.get_by_id(user_id)
    return [(u, recorded.get(u.id, 0), walked.get(u.id, 0)) for u in sorted(people.values(), key=lambda u: u.name)]


# --- the evidence that closes an order (photos and documents) ------------------------------------------------------

MAX_EVIDENCE = 12  # files of evidence per order
MAX_EVIDENCE_UPLOAD = 6  # files in one request (their photos share one photos.Budget)


def _order_of(site, order_id):
    return (InspectionOrder.select(InspectionOrder).join(Inspection)
            .where((InspectionOrder.id == order_id) & (Inspection.site == site)).first())


def clean_name(raw):
    """A file's name as sent, fit to store and show (inputs.file_name), at most 120 characters (OrderEvidence.name)."""
    return file_name(raw, 120)


def _prepare_evidence(order, files, store):
    """Read and check every uploaded file, then store them: [(kind, digest, name, size)], photos through the
    photo pipeline (re-encoded without metadata, one photos.Budget for the request), PDFs as sent
    (fieldapp/duties/evidence.py). Nothing is stored unless every file passed: anything else, an empty file
    (DutyError "evidence_empty"), or a file over its cap, raises (DutyError, DocumentError or PhotoError, field
    "evidence") before any file is written. Empty file inputs are skipped. The per-order cap is checked here
    and again, with the order locked, where the rows are written (_record_evidence)."""
    uploads = [f for f in files if f and (f.filename or f.content_length)]
    if len(uploads) > MAX_EVIDENCE_UPLOAD:
        raise DutyError("too_much_evidence", field="evidence", n=MAX_EVIDENCE_UPLOAD)
    have = OrderEvidence.select().where(OrderEvidence.order == order.id).count() if order else 0
    if have + len(uploads) > MAX_EVIDENCE:
        raise DutyError("too_much_evidence", field="evidence", n=MAX_EVIDENCE)
    budget = photos.Budget()
    checked = []
    for upload in uploads:
        name = clean_name(upload.filename)
        try:
            try:
                data = photos.read_limited(upload.stream)
            except photos.PhotoError as exc:
                if exc.reason == "empty_file":  # a document as much as a photo: "the file is empty"
                    raise DutyError("evidence_empty") from None
                raise
            if evidence.is_pdf(data):
                evidence.check_document(data)
                checked.append(("document", data, name))
                continue
            try:
                processed = photos.process(data, budget=budget)
            except photos.PhotoError as exc:
                if exc.reason == "not_image":
                    raise DutyError("evidence_type", field="evidence") from None
                raise
            checked.append(("photo", processed, name))
        except InputError as exc:
            exc.field = "evidence"
            raise
    items = []
    for kind, content, name in checked:
        if kind == "document":
            items.append(("document", evidence.save(store, content), name, len(content)))
        else:
            photos.save(store, content)
            items.append(("photo", content.digest, name, len(content.photo)))
    return items


def _record_evidence(actor, order, items):
    """OrderEvidence rows for the stored items (inside the caller's transaction, the order locked); a file the
    order already has is not added twice (sent twice = saved once). DutyError "too_much_evidence" when the new
    ones would take the order over MAX_EVIDENCE (parallel uploads counted together). Returns the digests
    added."""
    locked(InspectionOrder, order.id)  # its evidence is counted and added by one request at a time
    known = {d for (d,) in OrderEvidence.select(OrderEvidence.digest).where(OrderEvidence.order == order.id).tuples()}
    new = []
    for kind, digest, name, size in items:
        if digest not in known and digest not in {d for _k, d, _n, _s in new}:
            new.append((kind, digest, name, size))
    if len(known) + len(new) > MAX_EVIDENCE:
        raise DutyError("too_much_evidence", field="evidence", n=MAX_EVIDENCE)
    added = []
    for kind, digest, name, size in new:
        OrderEvidence.create(order=order.id, kind=kind, digest=digest, name=name, size=size, created_by=actor)
        added.append({"kind": kind, "digest": digest, "name": name})
    if added:
        audit.record(actor, "inspection.order.evidence", "inspection_order", order.id, after={"added": added})
    return added


def add_evidence(actor, site, order_id, files, store):
    """Attach photos and PDF documents (request.files.getlist("evidence")) to an order of the site, open or
    closed: the evidence that it was carried out (AML § 18-6). store: the app's store (storage.for_app(app)),
    which keeps photos and documents alike. Returns the digests added, or None when the order is not the site's.
    DutyError "evidence_none" (422) for no file, "too_much_evidence" (422: MAX_EVIDENCE_UPLOAD a request,
    MAX_EVIDENCE an order), "evidence_type" (415); evidence.DocumentError (413); photos.PhotoError (413/415/422).
    Nothing is recorded on any error. Audited."""
    order = _order_of(site, order_id)
    if order is None:
        return None
    items = _prepare_evidence(order, files, store)
    if not items:
        raise DutyError("evidence_none", field="evidence")
    with database.atomic():
        return _record_evidence(actor, order, items)


def evidence_item(site, order_id, digest):
    """The OrderEvidence `digest` of an order of the site, or None (so a file is only served on its site)."""
    return (OrderEvidence.select(OrderEvidence).join(InspectionOrder).join(Inspection)
            .where((OrderEvidence.order == order_id) & (OrderEvidence.digest == digest)
                   & (Inspection.site == site)).first())


def evidence_of(order_ids):
    """{order id: [OrderEvidence]} in the order they were added. One query."""
    out = {}
    if order_ids:
        for row in (OrderEvidence.select().where(OrderEvidence.order.in_(list(order_ids)))
                    .order_by(OrderEvidence.id)):
            out.setdefault(row.order_id, []).append(row)
    return out
