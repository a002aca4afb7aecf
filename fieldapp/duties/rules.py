"""Duty status rules: each duty is a small function of (scope, period, today) returning a Duty.

A status is computed from the records the other features keep (walkarounds, meetings, reports, statistics,
competence, check-in, alerts, the verneombud register); nothing is ticked by hand. Statuses:

- "met": the records show the duty done in the period;
- "at_risk": done so far, but about to lapse (a term ending within 60 days, a walkaround due today...);
- "not_met": the records show it is not done (overdue, missing, lapsed);
- "untracked": the app does not record what this duty needs yet.

`scope` is a Scope (the sites looked at, all of one organization); `period` a Period (first and last local day,
inclusive); `today` the site's local date (fieldapp.clock.today). Every rule returns
Duty(key, status, reason, evidence, law, fix, fix_link): reason and fix in the current language, evidence and
fix_link (endpoint, url kwargs) of the page that shows the records and of the page where the fix is made, or None.

A duty with nothing to measure against (no meeting schedule and no meeting held, no required course, no
equipment asked for, nobody on the list) is never "met": it is at risk, with the fix that sets it up.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from peewee import JOIN, Case, fn

from .. import clock
from ..competence import service as competence
from ..meetings import service as meetings
from ..models import (AUDIENCES, AlertRecipient, Alert, CheckIn, FollowUp, InjuryDetails, Inspection,
                      InspectionOrder, Meeting, MeetingAttendance, MeetingSchedule, Membership, Report, SafetyRound,
                      RoundSignature, Site, SiteEquipment, SiteRequirement, User, VerneombudTerm)
from ..rounds import service as rounds

MET, AT_RISK, NOT_MET, UNTRACKED = "met", "at_risk", "not_met", "untracked"
STATUSES = (NOT_MET, AT_RISK, UNTRACKED, MET)  # worst first

TERM_WARNING_DAYS = 60  # remind when a verneombud's term ends within this many days
REQUIRED_FROM = 5  # AML § 6-1 (1) since 1 January 2024: five or more employees must have a verneombud (fewer:
# the parties may agree another arrangement in writing, which the app does not record)
DEADLINE_WARNING_DAYS = 3  # a follow-up whose deadline is this close is at risk
ORDER_WARNING_DAYS = 7  # an order of Arbeidstilsynet whose deadline is this close is at risk; reminded then


@dataclass
class Period:
    """First and last local day of the period, inclusive."""

    start: date
    end: date


@dataclass
class Scope:
    """The sites looked at (all of `organization`), and the first one, which the evidence links go to."""

    organization: object
    sites: list
    label: str = ""
    cache: dict = field(default_factory=dict)

    @property
    def site_ids(self):
        return [s.id for s in self.sites]

    @property
    def first(self):
        return self.sites[0]


@dataclass
class Duty:
    key: str
    status: str
    reason: str
    evidence: tuple | None
    law: str
    fix: str = ""
    fix_link: tuple | None = None


def worst(statuses):
    """The worst of the statuses (not met < at risk < not yet tracked < met); "met" for none."""
    statuses = list(statuses)
    return next((s for s in STATUSES if s in statuses), MET)


def _bounds(scope, period):
    """UTC (naive) bounds of the period's local days, in the first site's time zone."""
    return clock.day_bounds(period.start, period.end, scope.first)


def _site_link(scope, endpoint):
    return (endpoint, {"site_id": scope.first.id})


# --- the employer -------------------------------------------------------------------------------------------

def employer_training(scope, period, today):
    """AML § 3-5: whoever acts for the employer (the site's managers and foremen) has HMS training.
    From competence records of course "hms_training": missing -> not met, only waiting for approval -> at risk."""
    leads = list(Membership.select(Membership.user).distinct()
                 .where(Membership.site.in_(scope.site_ids) & Membership.role.in_(("foreman", "manager")))
                 .tuples())
    ids = [u for (u,) in leads]
    evidence = _site_link(scope, "competence.matrix")
    if not ids:
        return Duty("employer_training", NOT_MET, _("Nobody acts for the employer on the site."), evidence,
                    "AML § 3-5", _("Give a person the foreman or manager role."))
    known = competence.standing(ids, ["hms_training"])
    lacking = [u for u in ids if (u, "hms_training") not in known.best]
    waiting = [u for u in lacking if (u, "hms_training") in known.pending]
    if len(lacking) > len(waiting):
        n = len(lacking) - len(waiting)
        return Duty("employer_training", NOT_MET,
                    ngettext("%(num)s person acting for the employer lacks HMS training.",
                             "%(num)s people acting for the employer lack HMS training.", n),
                    evidence, "AML § 3-5", _("Register their HMS training course in competence."))
    if waiting:
        return Duty("employer_training", AT_RISK,
                    ngettext("%(num)s HMS training record waits for approval.",
                             "%(num)s HMS training records wait for approval.", len(waiting)),
                    evidence, "AML § 3-5", _("Approve or reject the waiting records."))
    return Duty("employer_training", MET, _("Everyone acting for the employer has HMS training."), evidence,
                "AML § 3-5")


def competence_present(scope, period, today):
    """AML § 2-1 and § 3-2 (1) a: every worker has the training the site requires (the competence matrix).
    A missing or expired required course -> not met; one waiting or about to expire -> at risk; a site that
    requires no course at all -> at risk (nothing to measure against: set the requirements)."""
    unset = len(set(scope.site_ids) - {s for (s,) in SiteRequirement.select(SiteRequirement.site).distinct()
                                       .where(SiteRequirement.site.in_(scope.site_ids)).tuples()})
    missing = risky = 0
    for counts in competence.matrix_counts(scope.sites).values():  # four queries for the whole organization
        missing += counts.get("missing", 0) + counts.get("expired", 0)
        risky += sum(n for status, n in counts.items() if status not in ("missing", "expired", "valid"))
    evidence = _site_link(scope, "competence.matrix")
    if missing:
        return Duty("competence", NOT_MET,
                    ngettext("%(num)s required course is missing or expired.",
                             "%(num)s required courses are missing or expired.", missing),
                    evidence, "AML § 2-1, § 3-2", _("Open the competence matrix and register the courses."))
    if risky:
        return Duty("competence", AT_RISK,
                    ngettext("%(num)s required course expires soon or waits for approval.",
                             "%(num)s required courses expire soon or wait for approval.", risky),
                    evidence, "AML § 2-1, § 3-2", _("Renew or approve them in the competence matrix."))
    if unset:
        return Duty("competence", AT_RISK,
                    ngettext("%(num)s site requires no course, so nothing shows the competence is in place.",
                             "%(num)s sites require no course, so nothing shows the competence is in place.",
                             unset),
                    evidence, "AML § 2-1, § 3-2", _("Choose the courses the site requires."),
                    _site_link(scope, "competence.requirements"))
    return Duty("competence", MET, _("The required competence is in place."), evidence, "AML § 2-1, § 3-2")


def walkarounds(scope, period, today):
    """Internkontrollforskriften § 5 and AML § 3-1 (2) c: the site's safety walkaround held on its schedule
    (rounds.service.due_dates). Due before today -> not met (one day overdue is overdue); due today -> at risk."""
    due = rounds.due_dates(scope.site_ids)
    overdue = sorted(d for d, _days in due.values() if d < today)
    evidence = _site_link(scope, "rounds.rounds")
    if overdue:
        days = (today - overdue[0]).days
        return Duty("walkarounds", NOT_MET,
                    ngettext("A safety walkaround is %(num)s day overdue.",
                             "A safety walkaround is %(num)s days overdue.", days),
                    evidence, "AML § 3-1, internkontrollforskriften § 5", _("Start a safety walkaround."))
    if any(d == today for d, _days in due.values()):
        return Duty("walkarounds", AT_RISK, _("A safety walkaround is due today."), evidence,
                    "AML § 3-1, internkontrollforskriften § 5", _("Start a safety walkaround."))
    return Duty("walkarounds", MET, _("Safety walkarounds are held on schedule."), evidence,
                "AML § 3-1, internkontrollforskriften § 5")


def _meetings_in(scope, period, today):
    """[(meeting id, site id, held_on)] of the scope's meetings (not morning meetings) held in the period: held as
    meetings.service.held decides (approved minutes, dated no later than `today`)."""
    return list(Meeting.select(Meeting.id, Meeting.site, Meeting.held_on)
                .where(Meeting.site.in_(scope.site_ids) & (Meeting.held_on >= period.start)
                       & (Meeting.held_on <= period.end) & (Meeting.kind != "morning")
                       & meetings.held(today)).tuples())


def meetings_held(scope, period, today):
    """AML § 3-1 (2) and § 6-2 (2): HMS meetings held on their schedules (meetings.service.due_meetings), and
    the verneombud present (taking part in planning): an attendee registered as verneombud or deputy for the site
    on the meeting's day (meetings_with_verneombud). Only meetings held count, as meetings.service.held decides
    (approved minutes dated no later than `today`): a draft, or a meeting planned ahead, is not held. Overdue ->
    not met; held without the verneombud -> not met; a site that has never held a meeting -> at risk (its first is
    "due today" for ever, so it is never overdue), with the fix "set a meeting schedule" when the site has none of
    its own, else "call the meeting"."""
    evidence = _site_link(scope, "meetings.index")
    overdue = sum(1 for rows in meetings.due_meetings_of(scope.sites, today).values()  # two queries in all
                  for _kind, _day, late in rows if late)
    held = _meetings_in(scope, period, today)
    without = len(held) - len(meetings_with_verneombud(scope.organization, held))
    law = "AML § 3-1, § 6-2"
    if overdue:
        return Duty("meetings", NOT_MET, ngettext("%(num)s meeting is overdue.", "%(num)s meetings are overdue.",
                                                  overdue), evidence, law, _("Call the meeting."))
    if without:
        return Duty("meetings", NOT_MET,
                    ngettext("%(num)s meeting was held without the verneombud.",
                             "%(num)s meetings were held without the verneombud.", without),
                    evidence, law, _("Invite the verneombud and record their attendance."))
    ever = {s for (s,) in Meeting.select(Meeting.site).distinct()
            .where(Meeting.site.in_(scope.site_ids) & (Meeting.kind != "morning")
                   & meetings.held(today)).tuples()}
    never = [i for i in scope.site_ids if i not in ever]
    if never:
        scheduled = {s for (s,) in MeetingSchedule.select(MeetingSchedule.site).distinct()
                     .where(MeetingSchedule.site.in_(never)).tuples()}
        if len(scheduled) < len(never):
            return Duty("meetings", AT_RISK,
                        ngettext("%(num)s site has no meeting schedule and has held no meeting.",
                                 "%(num)s sites have no meeting schedule and have held no meeting.",
                                 len(never) - len(scheduled)),
                        evidence, law, _("Set a meeting schedule."),
                        ("meetings.settings", {"site_id": scope.first.id, "_anchor": "schedule"}))
        return Duty("meetings", AT_RISK, ngettext("%(num)s site has held no meeting yet.",
                                                  "%(num)s sites have held no meeting yet.", len(never)),
                    evidence, law, _("Call the meeting."))
    return Duty("meetings", MET, _("Meetings are held on schedule with the verneombud."), evidence, law)


def follow_ups(scope, period, today):
    """Internkontrollforskriften § 5 (2) nr. 7 and AML § 3-1 (2) c: reported deviations put right by their
    deadline. An open report past its deadline -> not met; one due within 3 days -> at risk; an open report
    with no deadline at all -> at risk (it can never be late, so nothing shows it is followed up)."""
    # One query for the three counts (the page runs every rule on each view).
    soon_day = today + timedelta(days=DEADLINE_WARNING_DAYS)
    late, soon, undated = (Report.select(fn.SUM(Case(None, [(Report.deadline < today, 1)], 0)),
                                         fn.SUM(Case(None, [((Report.deadline >= today) & (Report.deadline <= soon_day),
                                                             1)], 0)),
                                         fn.SUM(Case(None, [(Report.deadline.is_null(), 1)], 0)))
                           .where(Report.site.in_(scope.site_ids) & (Report.status != "closed")
                                  & (Report.kind != "decision")
                                  & (Report.deadline.is_null() | (Report.deadline <= soon_day))).tuples().get())
    # NULL when no row; PostgreSQL sums to Decimal
    late, soon, undated = int(late or 0), int(soon or 0), int(undated or 0)
    evidence = _site_link(scope, "reports.reports")
    law = "AML § 3-1, internkontrollforskriften § 5"
    if late:
        return Duty("follow_ups", NOT_MET, ngettext("%(num)s report is past its deadline.",
                                                    "%(num)s reports are past their deadline.", late),
                    evidence, law, _("Put it right and close it, or agree a new deadline."))
    if soon:
        return Duty("follow_ups", AT_RISK, ngettext("%(num)s report is due within days.",
                                                    "%(num)s reports are due within days.", soon),
                    evidence, law, _("Put it right before the deadline."))
    if undated:
        return Duty("follow_ups", AT_RISK, ngettext("%(num)s open report has no deadline.",
                                                    "%(num)s open reports have no deadline.", undated),
                    evidence, law, _("Give each open report a person and a deadline."))
    return Duty("follow_ups", MET, _("Reports are followed up by their deadline."), evidence, law)


def injuries(scope, period, today):
    """AML § 5-1 (register every injury) and § 5-2 (a serious injury: notify Arbeidstilsynet at once).
    A serious injury without the notification recorded -> not met; an injury in the period without its
    details in the register -> at risk."""
    evidence = _site_link(scope, "stats.page")
    law = "AML § 5-1, § 5-2"
    unnotified = (Report.select().join(InjuryDetails, on=(InjuryDetails.report == Report.id))
                  .where(Report.site.in_(scope.site_ids) & InjuryDetails.serious
                         & InjuryDetails.arbeidstilsynet_notified_at.is_null()).count())
    if unnotified:
        return Duty("injuries", NOT_MET, ngettext("%(num)s serious injury is not notified to Arbeidstilsynet.",
                                                  "%(num)s serious injuries are not notified to Arbeidstilsynet.",
                                                  unnotified),
                    evidence, law, _("Notify Arbeidstilsynet and the police, and record when."))
    lo, hi = _bounds(scope, period)
    bare = (Report.select().join(InjuryDetails, on=(InjuryDetails.report == Report.id), join_type=JOIN.LEFT_OUTER)
            .where(Report.site.in_(scope.site_ids) & (Report.kind == "injury") & InjuryDetails.id.is_null()
                   & (Report.happened_at >= lo) & (Report.happened_at < hi)).count())
    if bare:
        return Duty("injuries", AT_RISK, ngettext("%(num)s injury lacks its details in the register.",
                                                  "%(num)s injuries lack their details in the register.", bare),
                    evidence, law, _("Record the injury's absence and treatment."))
    return Duty("injuries", MET, _("Injuries are registered and notified."), evidence, law)


def s15_lacking():
    """The peewee condition on User for a person the § 15 list lacks a required field of: no date of birth, or
    hired in (User.hired_in) without the staffing agency (innleievirksomhet, with its organisation number)."""
    return User.date_of_birth.is_null() | ((User.hired_in == True) & User.staffing_agency.is_null())  # noqa: E712


def attendance_list(scope, period, today):
    """Byggherreforskriften § 15: a daily list of everyone working on the site, with each person's date of
    birth and, for a hired-in worker, the staffing agency with its organisation number. No check-in at all in
    the period on a site with workers -> not met; anyone checked in during the period who lacks a required
    field (s15_lacking) -> not met (the list is incomplete); nobody checked in at all on a site without
    workers -> at risk (an empty list shows nothing kept). Visitors are not on the § 15 list's duty."""
    evidence = _site_link(scope, "checkin.attendance")
    law = "byggherreforskriften § 15"
    lo, hi = _bounds(scope, period)
    in_period = CheckIn.site.in_(scope.site_ids) & (CheckIn.checked_in_at >= lo) & (CheckIn.checked_in_at < hi)
    checked = {s for (s,) in CheckIn.select(CheckIn.site).distinct().where(in_period).tuples()}
    staffed = {s for (s,) in Membership.select(Membership.site).distinct()
               .where(Membership.site.in_(scope.site_ids) & (Membership.role == "worker")).tuples()}
    empty = len(staffed - checked)
    if empty:
        return Duty("attendance", NOT_MET, ngettext("%(num)s site has nobody checked in during the period.",
                                                    "%(num)s sites have nobody checked in during the period.",
                                                    empty),
                    evidence, law, _("Put up the check-in poster and have everyone check in."))
    lacking = list(User.select(User.id, User.date_of_birth, User.hired_in, User.staffing_agency)
                   .join(CheckIn, on=(CheckIn.user == User.id)).where(in_period & s15_lacking()).distinct().tuples())
    if lacking:
        born = sum(1 for _id, birth, _hired, _agency in lacking if birth is None)
        agency = sum(1 for _id, _birth, hired, agency_id in lacking if hired and agency_id is None)
        reason = (ngettext("The list is incomplete: %(num)s person on it lacks a date of birth.",
                           "The list is incomplete: %(num)s people on it lack a date of birth.", born)
                  if born else "")
        if agency:
            reason = (reason + " " if reason else "") + ngettext(
                "The list is incomplete: %(num)s hired-in worker on it lacks the staffing agency.",
                "The list is incomplete: %(num)s hired-in workers on it lack the staffing agency.", agency)
        return Duty("attendance", NOT_MET, reason, evidence, law,
                    _("Record their date of birth and, for the hired in, the staffing agency, from People on "
                      "the site."))
    if not checked:
        return Duty("attendance", AT_RISK, _("Nobody checked in during the period, so the list is empty."),
                    evidence, law, _("Put up the check-in poster and have everyone check in."))
    return Duty("attendance", MET, _("The attendance list is kept and complete."), evidence, law)


# --- the verneombud register: the one record of who the verneombud is ---------------------------------------------
# AML § 6-1 and forskrift om organisering, ledelse og medvirkning §§ 3-1 to 3-4: the verneombud is chosen by the
# employees and the employer is told in writing; the register (VerneombudTerm) records exactly that. A site role
# "verneombud" (Membership) only grants the app's permissions, so no rule reads it to decide who the verneombud is.

def register_terms(organization, start, end):
    """[VerneombudTerm] of the organization (verneombud and deputies, on any of its sites or the whole of it)
    whose term overlaps the local days start..end (inclusive). One query."""
    return list(VerneombudTerm.select().where((VerneombudTerm.organization == organization)
                                              & (VerneombudTerm.elected_from <= end)
                                              & (VerneombudTerm.elected_to >= start)))


def registered(terms, user_id, site_id, day):
    """True when `user_id` holds one of `terms` (register_terms) covering site `site_id` on local date `day`."""
    return any(t.user_id == user_id and (t.site_id is None or t.site_id == site_id)
               and t.elected_from <= day <= t.elected_to for t in terms)


def meetings_with_verneombud(organization, meetings):
    """{meeting id} of `meetings` ([(id, site id, held_on)]) attended by someone registered as verneombud or
    deputy for the meeting's site on its day (whatever side the attendance row names). Two queries."""
    meetings = list(meetings)
    if not meetings:
        return set()
    days = [d for _m, _s, d in meetings]
    terms = register_terms(organization, min(days), max(days))
    where = {m: (s, d) for m, s, d in meetings}
    out = set()
    for meeting, user in (MeetingAttendance.select(MeetingAttendance.meeting, MeetingAttendance.user)
                          .where(MeetingAttendance.meeting.in_(list(where)) & MeetingAttendance.user.is_null(False))
                          .tuples()):
        site_id, day = where[meeting]
        if registered(terms, user, site_id, day):
            out.add(meeting)
    return out


def _active_terms(scope, today):
    key = ("terms", today)
    if key not in scope.cache:
        scope.cache[key] = list(VerneombudTerm.select().where(
            (VerneombudTerm.organization == scope.organization)
            & (VerneombudTerm.site.is_null() | VerneombudTerm.site.in_(scope.site_ids))
            & (VerneombudTerm.elected_from <= today)))
    return scope.cache[key]


def _role_is_not_an_election(site_ids):
    """A sentence for a reason that says no verneombud is registered, when someone on those sites has the app's
    verneombud role: the page lists them as verneombud, and "none registered" would read as a contradiction. ""
    when nobody has the role there."""
    if not site_ids or not (Membership.select().where(Membership.site.in_(list(site_ids))
                                                      & (Membership.role == "verneombud")).exists()):
        return ""
    return " " + _("The verneombud role in the app gives the rights on the site; the election is recorded in the "
                   "register.")


def verneombud_in_place(scope, period, today):
    """AML § 6-1 (1) (since 1 January 2024): an undertaking with five or more employees has a verneombud; with
    fewer the parties may agree another arrangement in writing. Read from the register only (register_terms;
    the site role "verneombud" is a permission, not an election). Per site: workers (members of any role but
    manager) and no registered verneombud covering the site today (a term of the site or of the whole
    organization): five or more -> not met, fewer -> at risk (the written agreement is not recorded). For the
    organization: five or more distinct workers over its sites and no current verneombud anywhere -> not met.
    Met only when every site with workers is covered by a registered term."""
    workers = dict(Membership.select(Membership.site, fn.COUNT(Membership.id))
                   .where(Membership.site.in_(scope.site_ids) & (Membership.role != "manager"))
                   .group_by(Membership.site).tuples())
    terms = [t for t in _active_terms(scope, today) if t.role == "verneombud" and t.elected_to >= today]
    org_wide = any(t.site_id is None for t in terms)
    covered = {t.site_id for t in terms}
    uncovered = [s for s in scope.sites if workers.get(s.id, 0) and not org_wide and s.id not in covered]
    missing = [s for s in uncovered if workers[s.id] >= REQUIRED_FROM]
    evidence = _site_link(scope, "duties.register")
    law = "AML § 6-1"
    fix = _("Hold an election and record the verneombud in the register.")
    if not missing and not terms:
        org_sites = Site.select(Site.id).where(Site.organization == scope.organization)
        everyone = (Membership.select(Membership.user).distinct()
                    .where(Membership.site.in_(org_sites) & (Membership.role != "manager")).count())
        anywhere = VerneombudTerm.select().where(
            (VerneombudTerm.organization == scope.organization) & (VerneombudTerm.role == "verneombud")
            & (VerneombudTerm.elected_from <= today) & (VerneombudTerm.elected_to >= today)).exists()
        if everyone >= REQUIRED_FROM and not anywhere:
            return Duty("verneombud_in_place", NOT_MET,
                        ngettext("The organization has %(num)s worker on its sites and no verneombud.",
                                 "The organization has %(num)s workers on its sites and no verneombud.", everyone),
                        evidence, law, fix)
    role_note = _role_is_not_an_election([site.id for site in uncovered])
    if missing:
        return Duty("verneombud_in_place", NOT_MET,
                    ngettext("%(num)s site with five or more workers has no registered verneombud.",
                             "%(num)s sites with five or more workers have no registered verneombud.", len(missing))
                    + role_note, evidence, law, fix)
    if uncovered:
        return Duty("verneombud_in_place", AT_RISK,
                    ngettext("%(num)s site has no registered verneombud. With fewer than five workers that needs "
                             "a written agreement on another arrangement.",
                             "%(num)s sites have no registered verneombud. With fewer than five workers that needs "
                             "a written agreement on another arrangement.", len(uncovered)) + role_note,
                    evidence, law, fix)
    return Duty("verneombud_in_place", MET, _("A registered verneombud covers every site with workers."), evidence,
                law)


# --- the verneombud -----------------------------------------------------------------------------------------

def verneombud_term(scope, period, today):
    """AML § 6-1 and forskrift om organisering, ledelse og medvirkning § 3-2: elected for two years, the employer
    told in writing. No current term: the verdict of verneombud_in_place (AML § 6-1 (1): five or more workers
    -> not met, fewer -> at risk, none -> met), so one rule gives one verdict on the page; when that is "not
    met", the reason says whether the term ended or none was registered. One ending within 60 days -> at risk;
    no written notice recorded -> at risk."""
    terms = [t for t in _active_terms(scope, today) if t.role == "verneombud"]
    current = [t for t in terms if t.elected_to >= today]
    evidence = _site_link(scope, "duties.register")
    law = "AML § 6-1"
    if not current:
        # No verneombud today: the same count and threshold as verneombud_in_place (one rule, one verdict).
        place = verneombud_in_place(scope, period, today)
        reason = (_("The verneombud's term has ended.") if terms
                  else _("No safety representative (verneombud) is registered.")
                  + _role_is_not_an_election(scope.site_ids))
        if place.status != NOT_MET:
            return Duty("verneombud_term", place.status, f"{reason} {place.reason}" if terms else place.reason,
                        evidence, law, place.fix)
        return Duty("verneombud_term", NOT_MET, reason, evidence, law,
                    _("Hold an election and record the verneombud in the register."))
    ending = [t for t in current if (t.elected_to - today).days <= TERM_WARNING_DAYS]
    if ending:
        days = min((t.elected_to - today).days for t in ending)
        return Duty("verneombud_term", AT_RISK, ngettext("A term ends in %(num)s day.", "A term ends in %(num)s days.",
                                                         days),
                    evidence, law, _("Prepare the next election."))
    if any(t.notice_on is None for t in current):
        return Duty("verneombud_term", AT_RISK, _("The employer's written notice is not recorded."), evidence, law,
                    _("Record the date the employer was told in writing."))
    return Duty("verneombud_term", MET, _("Elected, notified in writing, within the two-year term."), evidence, law)


def verneombud_training(scope, period, today):
    """AML § 6-5 (1): the verneombud has at least 40 hours of training (competence course "verneombud_40h").
    A current verneombud without it -> not met; waiting for approval -> at risk; no verneombud -> the verdict
    of verneombud_in_place (five or more workers -> not met, fewer -> at risk)."""
    ids = list({t.user_id for t in _active_terms(scope, today) if t.elected_to >= today})
    evidence = _site_link(scope, "competence.matrix")
    law = "AML § 6-5"
    if not ids:
        # No verneombud to train: the same verdict as verneombud_in_place (fewer than five workers: at risk).
        place = verneombud_in_place(scope, period, today)
        if place.status != NOT_MET:
            return Duty("verneombud_training", place.status, place.reason, evidence, law, place.fix)
        return Duty("verneombud_training", NOT_MET, _("No safety representative (verneombud) is registered."),
                    evidence, law, _("Record the verneombud in the register."))
    known = competence.standing(ids, ["verneombud_40h"])
    lacking = [u for u in ids if (u, "verneombud_40h") not in known.best]
    if any((u, "verneombud_40h") not in known.pending for u in lacking):
        return Duty("verneombud_training", NOT_MET, _("A verneombud lacks the 40-hour course."), evidence, law,
                    _("Send them on the course; the employer pays (AML § 6-5)."))
    if lacking:
        return Duty("verneombud_training", AT_RISK, _("The 40-hour course waits for approval."), evidence, law,
                    _("Approve the record in competence."))
    return Duty("verneombud_training", MET, _("The 40-hour course is done."), evidence, law)


def verneombud_walkarounds(scope, period, today):
    """AML § 6-2 (1): the verneombud takes part in the walkarounds. A round in the period not signed for the
    verneombud's side by someone registered as verneombud or deputy for the site on the round's day -> at risk;
    no round in the period -> not met."""
    lo, hi = _bounds(scope, period)
    # The rounds held with the signers of the verneombud's side, in one query; the register in one more.
    rows = list(SafetyRound.select(SafetyRound.id, SafetyRound.site, SafetyRound.started_at, RoundSignature.signer)
                .join(RoundSignature, JOIN.LEFT_OUTER,
                      on=((RoundSignature.round == SafetyRound.id) & (RoundSignature.side == "verneombud")))
                .where(SafetyRound.site.in_(scope.site_ids) & (SafetyRound.started_at >= lo)
                       & (SafetyRound.started_at < hi)).tuples())
    sites = {s.id: s for s in scope.sites}
    terms = register_terms(scope.organization, period.start, period.end) if rows else []
    held = len({r for r, _s, _at, _signer in rows})
    signed = len({r for r, site, at, signer in rows
                  if signer is not None and registered(terms, signer, site, clock.local(at, sites[site]).date())})
    evidence = _site_link(scope, "rounds.rounds")
    law = "AML § 6-2"
    if not held:
        return Duty("verneombud_walkarounds", NOT_MET, _("No walkaround in the period."), evidence, law,
                    _("Walk the site together with the employer's side."))
    if signed < held:
        return Duty("verneombud_walkarounds", AT_RISK,
                    ngettext("%(num)s walkaround is not signed by the verneombud.",
                             "%(num)s walkarounds are not signed by the verneombud.", held - signed),
                    evidence, law, _("Sign the round for the verneombud's side."))
    return Duty("verneombud_walkarounds", MET, _("The verneombud took part in every walkaround."), evidence, law)


# --- the workers --------------------------------------------------------------------------------------------

def equipment_confirmed(scope, period, today):
    """AML § 2-3 (2) a: workers use the protective equipment the employer requires; they confirm it at
    check-in. Missing equipment not yet provided (an open follow-up) -> not met; a site that asks for no
    equipment at check-in -> at risk (nothing is confirmed: choose it); otherwise met."""
    open_ = FollowUp.select().where(FollowUp.site.in_(scope.site_ids) & (FollowUp.kind == "missing_equipment")
                                    & FollowUp.resolved_at.is_null()).count()
    evidence = _site_link(scope, "checkin.on_site")
    law = "AML § 2-3"
    if open_:
        return Duty("equipment", NOT_MET, ngettext("%(num)s person lacks required equipment.",
                                                   "%(num)s people lack required equipment.", open_),
                    evidence, law, _("Provide the equipment and mark it as provided."))
    asking = {s for (s,) in SiteEquipment.select(SiteEquipment.site).distinct()
              .where(SiteEquipment.site.in_(scope.site_ids)).tuples()}
    unset = len(set(scope.site_ids) - asking)
    if unset:
        return Duty("equipment", AT_RISK,
                    ngettext("%(num)s site asks for no protective equipment at check-in.",
                             "%(num)s sites ask for no protective equipment at check-in.", unset),
                    evidence, law, _("Choose the equipment the site requires."),
                    _site_link(scope, "checkin.settings"))
    return Duty("equipment", MET, _("Equipment is confirmed at check-in."), evidence, law)


def reports_made(scope, period, today):
    """AML § 2-3 (2) b-d: workers report faults, dangers and injuries. No report in the period -> at risk
    (a site where nothing is reported is rarely a site where nothing happens)."""
    lo, hi = _bounds(scope, period)
    count = Report.select().where(Report.site.in_(scope.site_ids) & (Report.happened_at >= lo)
                                  & (Report.happened_at < hi)
                                  & (Report.kind != "decision")).count()
    evidence = _site_link(scope, "reports.reports")
    if not count:
        return Duty("reports", AT_RISK, _("No report in the period."), evidence, "AML § 2-3",
                    _("Remind everyone that reporting dangers and near misses is a duty."))
    return Duty("reports", MET, ngettext("%(num)s report in the period.", "%(num)s reports in the period.", count),
                evidence, "AML § 2-3")


def alerts_acknowledged(scope, period, today):
    """AML § 2-3 (2) a: workers follow the safety instructions given; a worker's copy of an alert that asked to be
    acknowledged, not acknowledged -> at risk. Only alerts sent to the site's people count (audience in
    AUDIENCES): the app's personal reminders (a term ending, an order due: audience "personal", sent to
    managers and verneombud) and alerts that ask no acknowledgement are no duty of the workers."""
    lo, hi = _bounds(scope, period)
    unacked = (AlertRecipient.select().join(Alert)
               .where(Alert.site.in_(scope.site_ids) & AlertRecipient.acked_at.is_null()
                      & (AlertRecipient.role == "worker") & (Alert.ack_required == True)  # noqa: E712
                      & Alert.audience.in_(AUDIENCES)
                      & (Alert.created_at >= lo) & (Alert.created_at < hi)).count())
    evidence = _site_link(scope, "alerts.site_alerts")
    sent = (Alert.select().where(Alert.site.in_(scope.site_ids) & (Alert.created_at >= lo)
                                 & (Alert.created_at < hi)).exists())
    if not sent:  # nothing to acknowledge: met, but not worded as if someone had
        return Duty("alerts", MET, _("No alert was sent in the period."), evidence, "AML § 2-3")
    if unacked:
        return Duty("alerts", AT_RISK, ngettext("%(num)s alert copy is not acknowledged.",
                                                "%(num)s alert copies are not acknowledged.", unacked),
                    evidence, "AML § 2-3", _("Ask them to read and acknowledge it."))
    return Duty("alerts", MET, _("Alerts are acknowledged."), evidence, "AML § 2-3")


# --- Arbeidstilsynet ----------------------------------------------------------------------------------------

def orders(scope, period, today):
    """AML § 18-6: Arbeidstilsynet's orders (pålegg) carried out by their deadline (§ 18-7: a coercive fine
    otherwise). An open order past its deadline -> not met; one due within ORDER_WARNING_DAYS -> at risk;
    open orders with time left, or none -> met."""
    rows = (InspectionOrder.select(InspectionOrder.deadline).join(Inspection)
            .where(Inspection.site.in_(scope.site_ids) & InspectionOrder.closed_at.is_null()).tuples())
    deadlines = sorted(d for (d,) in rows)
    evidence = _site_link(scope, "duties.inspections")
    law = "AML § 18-6"
    late = sum(1 for d in deadlines if d < today)
    if late:
        return Duty("orders", NOT_MET, ngettext("%(num)s order from Arbeidstilsynet is past its deadline.",
                                                "%(num)s orders from Arbeidstilsynet are past their deadline.", late),
                    evidence, law, _("Carry out the order and record the response, or ask Arbeidstilsynet for "
                                     "more time."))
    soon = sum(1 for d in deadlines if d <= today + timedelta(days=ORDER_WARNING_DAYS))
    if soon:
        return Duty("orders", AT_RISK, ngettext("%(num)s order is due within a week.",
                                                "%(num)s orders are due within a week.", soon),
                    evidence, law, _("Carry out the order and record the response."))
    if deadlines:
        return Duty("orders", MET, ngettext("%(num)s open order, on time.", "%(num)s open orders, on time.",
                                            len(deadlines)), evidence, law)
    return Duty("orders", MET, _("No open orders from Arbeidstilsynet."), evidence, law)


SECTIONS = (
    ("employer", (employer_training, competence_present, walkarounds, meetings_held, follow_ups, injuries,
                  attendance_list, verneombud_in_place)),
    ("workers", (equipment_confirmed, reports_made, alerts_acknowledged)),
    ("verneombud", (verneombud_term, verneombud_training, verneombud_walkarounds)),
    ("arbeidstilsynet", (orders,)),
)
