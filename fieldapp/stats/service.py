"""HMS statistics for a site or the organization's sites: hours, injuries, H1/H2/F and the other figures.

Views call `statistics(...)` (the page and the exports) and never touch models. Definitions: definitions.py;
hours: hours.py. Whose figures: the site's own organization and, unless `own_only`, every subcontractor
whose people worked or were injured there (as Norwegian main contractors report: AF Gruppen and others
include subcontractors); each employer is also shown apart.
"""
import statistics as stats_lib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timezone

from flask import current_app
from peewee import JOIN, fn

from .. import audit, clock
from ..authz import roles_with
from ..inputs import InputError, decimal_number, iso_date, whole_number
from ..db import database
from ..models import (Alert, AlertRecipient, AmuMember, CertificatePhoto, CheckIn, FollowUp, InjuryDetails, Meeting,
                      MeetingAttendance, MeetingProposal, Membership, Organization, Report, RoundAnswer, RoundSchedule,
                      RoundSignature, SafetyRound, Site, Sja, SjaParticipant, SjaSignature, TrainingRecord, User)
from ..rounds.service import DEFAULT_INTERVAL as ROUND_INTERVAL
from . import definitions
from . import hours as hours_mod
from .definitions import Injury, Period

EARLIEST_YEAR = 2000


class StatsError(InputError):
    """A period or scope the statistics cannot show (fieldapp.inputs catalogue, scope "stats")."""

    scope = "stats"


# --- what the person asks for -------------------------------------------------------------------------------

def _int(value, field, reason):
    """A year, quarter or month number typed in the filter: ASCII digits only (inputs.whole_number)."""
    number = whole_number(value)
    if number is None:
        raise StatsError(reason, field=field)
    return number


def _date(value, field):
    try:
        return iso_date(value)
    except ValueError:
        raise StatsError("bad_date", field=field) from None


# The field a period's start was typed in: where "too early" and "not started yet" are told.
START_FIELD = {"rolling": "period", "year": "year", "quarter": "year", "month": "month", "range": "start"}


def parse_period(args, today):
    """A definitions.Period from the query: period=rolling (default) | year&year=YYYY |
    quarter&year=YYYY&quarter=1..4 | month&month=YYYY-MM | range&start=YYYY-MM-DD&end=YYYY-MM-DD.

    The end is cut at today (a year so far). StatsError, each naming the field to correct: bad_period (no
    such kind), bad_year, bad_quarter (not 1-4), bad_month, bad_date (unreadable), too_early (before
    EARLIEST_YEAR), reversed_range (end before start), future_period (it starts after today).
    """
    kind = (args.get("period") or "rolling").strip()
    if kind not in START_FIELD:
        raise StatsError("bad_period", field="period")
    try:
        if kind == "rolling":
            period = definitions.rolling_12(today)
        elif kind == "year":
            period = definitions.year(_int(args.get("year"), "year", "bad_year"))
        elif kind == "quarter":
            number = _int(args.get("quarter"), "quarter", "bad_quarter")
            if not 1 <= number <= 4:
                raise StatsError("bad_quarter", field="quarter")
            period = definitions.quarter(_int(args.get("year"), "year", "bad_year"), number)
        elif kind == "month":
            y, _dash, m = (args.get("month") or "").partition("-")
            period = definitions.month(_int(y, "month", "bad_month"), _int(m, "month", "bad_month"))
        else:
            period = Period(_date(args.get("start"), "start"), _date(args.get("end"), "end"))
    except (ValueError, OverflowError):  # a year or month number that is no date (year 0, month 13, 10**20)
        raise StatsError("bad_month" if kind == "month" else "bad_year", field=START_FIELD[kind]) from None
    if period.start.year < EARLIEST_YEAR:
        raise StatsError("too_early", field=START_FIELD[kind], year=EARLIEST_YEAR)
    if period.end < period.start:
        raise StatsError("reversed_range", field="end")
    if period.start > today:
        raise StatsError("future_period", field=START_FIELD[kind])
    return Period(period.start, min(period.end, today), period.kind)


def sites_in_scope(user, site, scope):
    """The sites the figures cover: [site] for scope "site"; for "org", every site of the site's organization
    where the person holds a role that may read statistics (a site they cannot see never counts)."""
    if scope == "site":
        return [site]
    if scope != "org":
        raise StatsError("bad_scope", field="scope")
    return list(Site.select(Site, Organization).join(Organization).switch(Site).join(Membership)
                .where((Membership.user == user) & Membership.role.in_(roles_with("stats.read"))
                       & (Site.organization == site.organization_id))
                .order_by(Site.name))


# --- the figures --------------------------------------------------------------------------------------------

@dataclass
class Statistics:
    """Everything the page and the exports show for one scope and period."""

    sites: list
    period: Period
    own_only: bool
    total: definitions.Figures
    months: list  # [(first day, Figures)]
    employers: list  # [(org number, name, own?, Figures)]
    per_site: list  # [(Site, Figures)]
    replaced: list  # [(first day of month, site name, org number, employer name)]: entered hours won
    other: dict = field(default_factory=dict)
    lost_time_days: int = definitions.DEFAULT_LOST_TIME_DAYS
    few_hours: int = definitions.DEFAULT_FEW_HOURS


def _settings():
    config = current_app.config
    return (config.get("STATS_LOST_TIME_DAYS", definitions.DEFAULT_LOST_TIME_DAYS),
            config.get("STATS_LOST_TIME_HOURS"), config.get("STATS_FEW_HOURS", definitions.DEFAULT_FEW_HOURS))


def injuries(sites, period):
    """The injury reports of the sites in the period (by the injury's local date), as definitions.Injury.

    The employer is the reporting person's employer (an injury report is made by or for the injured person).
    """
    by_id = {s.id: s for s in sites}
    if not by_id:
        return []
    start, end = clock.day_bounds(period.start, period.end, sites[0])
    rows = (Report.select(Report.site, Report.happened_at, InjuryDetails.fatal, InjuryDetails.absence_beyond_day,
                          InjuryDetails.absence_days, InjuryDetails.absence_hours, InjuryDetails.medical_treatment,
                          InjuryDetails.alternative_work, Organization.org_number)
            .join(InjuryDetails, JOIN.LEFT_OUTER, on=(InjuryDetails.report == Report.id))
            .switch(Report).join(User, on=(Report.reporter == User.id))
            .join(Organization, JOIN.LEFT_OUTER, on=(User.employer == Organization.id))
            .where(Report.site.in_(list(by_id)) & (Report.kind == "injury")
                   & (Report.happened_at >= start) & (Report.happened_at < end))
            .tuples())
    out = []
    for site_id, at, fatal, beyond, days, absence_hours, medical, alternative, org in rows:
        out.append(Injury(day=clock.local(at, by_id[site_id]).date(), fatal=bool(fatal),
                          absence_beyond_day=bool(beyond), absence_days=days, absence_hours=absence_hours, medical_treatment=bool(medical),
                          alternative_work=bool(alternative), site_id=site_id, employer=org))
    return out


def employer_names(org_numbers):
    """{organisation number: name} of the employers the app knows among org_numbers (None and unknown numbers are
    left out): what the statistics and the entered hours show beside a number."""
    numbers = {number for number in org_numbers if number}
    if not numbers:
        return {}
    return dict(Organization.select(Organization.org_number, Organization.name)
                .where(Organization.org_number.in_(sorted(numbers))).tuples())


def statistics(sites, period, own_only=False, other=True):
    """H1/H2/F for the sites and period: in total, per month, per employer and per site; `other`: the
    other figures too. own_only: only the sites' own organizations' hours and injuries."""
    min_days, min_hours, few = _settings()
    site_ids = [s.id for s in sites]
    own_orgs = {s.id: s.organization.org_number for s in sites}
    bounds = hours_mod.month_bounds(sites, period)
    hours_mod.refresh(sites)
    by_key, equipment, replaced = hours_mod.combined(site_ids, bounds)
    hurt = injuries(sites, period)
    if own_only:
        by_key = {k: v for k, v in by_key.items() if k[2] == own_orgs[k[1]]}
        hurt = [i for i in hurt if i.employer == own_orgs[i.site_id]]

    def figures(hours, injured):
        return definitions.figures(hours, injured, min_days, min_hours, few)

    month_index = {}
    for i, (first, last, _s, _e) in enumerate(bounds):
        month_index[(first.year, first.month)] = i
    month_hours = defaultdict(float)
    employer_hours, site_hours = defaultdict(float), defaultdict(float)
    for (i, site_id, org), value in by_key.items():
        month_hours[i] += value
        employer_hours[org] += value
        site_hours[site_id] += value
    month_hurt, employer_hurt, site_hurt = defaultdict(list), defaultdict(list), defaultdict(list)
    for injury in hurt:
        month_hurt[month_index[(injury.day.year, injury.day.month)]].append(injury)
        employer_hurt[injury.employer].append(injury)
        site_hurt[injury.site_id].append(injury)
    total = figures(sum(month_hours.values()), hurt)
    months = [(b[0], figures(month_hours[i], month_hurt[i])) for i, b in enumerate(bounds)]
    orgs = set(employer_hours) | set(employer_hurt)
    names = employer_names(orgs)
    own = set(own_orgs.values())
    employers = sorted(((org, names.get(org, ""), org in own, figures(employer_hours[org], employer_hurt[org]))
                        for org in orgs), key=lambda e: (not e[2], -e[3].hours, e[0] or ""))
    per_site = [(s, figures(site_hours[s.id], site_hurt[s.id])) for s in sites]
    site_names = {s.id: s.name for s in sites}
    replaced_rows = [(bounds[i][0].replace(day=1), site_names[site_id], org, names.get(org, ""))
                     for i, site_id, org in replaced]
    result = Statistics(sites=sites, period=period, own_only=own_only, total=total, months=months,
                        employers=employers, per_site=per_site, replaced=replaced_rows, lost_time_days=min_days,
                        few_hours=few)
    if other:
        result.other = other_figures(sites, period, bounds, equipment)
    return result


# --- the other figures --------------------------------------------------------------------------------------

def _percentile(values, share):
    """The share-th percentile (0..1) by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def other_figures(sites, period, bounds, equipment):
    """Reports by kind, category and month; near misses per injury; median and 90th percentile days to close;
    open and overdue reports and open follow-ups; the share of check-ins with all equipment; alert
    acknowledgements: the rate and the median minutes to acknowledge."""
    site_ids = [s.id for s in sites]
    start, end = clock.day_bounds(period.start, period.end, sites[0] if sites else None)
    in_period = Report.site.in_(site_ids) & (Report.happened_at >= start) & (Report.happened_at < end)
    by_kind = dict(Report.select(Report.kind, fn.COUNT(Report.id)).where(in_period).group_by(Report.kind).tuples())
    by_category = dict(Report.select(Report.category, fn.COUNT(Report.id)).where(in_period)
                       .group_by(Report.category).tuples())
    by_month = hours_mod.count_by_month("report", "happened_at", site_ids, bounds)
    closed = (Report.select(Report.happened_at, Report.closed_at)
              .where(in_period & Report.closed_at.is_null(False)).tuples())
    days_to_close = [(c - h).total_seconds() / 86400 for h, c in closed]
    today = clock.today(sites[0] if sites else None)
    open_reports = Report.select().where(Report.site.in_(site_ids) & (Report.status != "closed")).count()
    overdue = Report.select().where(Report.site.in_(site_ids) & (Report.status != "closed")
                                    & (Report.deadline < today)).count()
    open_follow_ups = FollowUp.select().where(FollowUp.site.in_(site_ids) & FollowUp.resolved_at.is_null()).count()
    copies = (AlertRecipient.select(Alert.created_at, AlertRecipient.acked_at).join(Alert)
              .where(Alert.site.in_(site_ids) & Alert.ack_required & (Alert.created_at >= start)
                     & (Alert.created_at < end)).tuples())
    asked, minutes = 0, []
    for created, acked in copies:
        asked += 1
        if acked is not None:
            minutes.append(max(0.0, (acked - created).total_seconds() / 60))
    checkins = sum(v[0] for v in equipment.values())
    complete = sum(v[1] for v in equipment.values())
    kinds = Counter(by_kind)
    rounds_done, rounds_due = rounds_done_and_due(sites, period)
    return {
        "by_kind": by_kind,
        "by_category": by_category,
        "by_month": [(b[0], by_month.get(i, 0)) for i, b in enumerate(bounds)],
        "near_miss_per_injury": (kinds["near_miss"] / kinds["injury"]) if kinds["injury"] else None,
        "near_misses": kinds["near_miss"],
        "median_days_to_close": stats_lib.median(days_to_close) if days_to_close else None,
        "p90_days_to_close": _percentile(days_to_close, 0.9),
        "closed": len(days_to_close),
        "open_reports": open_reports,
        "overdue_reports": overdue,
        "open_follow_ups": open_follow_ups,
        "checkins": checkins,
        "equipment_share": complete / checkins if checkins else None,
        "alerts_asked": asked,
        "rounds_done": rounds_done,
        "rounds_due": rounds_due,
        "ack_rate": len(minutes) / asked if asked else None,
        "median_minutes_to_ack": stats_lib.median(minutes) if minutes else None,
    }


def rounds_done_and_due(sites, period):
    """(done, due): walkarounds (vernerunder) finished in the period on the sites, and how many their schedules
    (RoundSchedule.interval_days, else the rounds' default of 7) asked for: per site, the whole intervals between
    the later of the period's start and the site's creation (its local date) and the period's end. Two queries."""
    site_ids = [s.id for s in sites]
    if not site_ids:
        return 0, 0
    start, end = clock.day_bounds(period.start, period.end, sites[0])
    done = (SafetyRound.select().where(SafetyRound.site.in_(site_ids) & SafetyRound.finished_at.is_null(False)
                                       & (SafetyRound.finished_at >= start) & (SafetyRound.finished_at < end))
            .count())
    intervals = dict(RoundSchedule.select(RoundSchedule.site, RoundSchedule.interval_days)
                     .where(RoundSchedule.site.in_(site_ids)).tuples())
    due = 0
    for site in sites:
        first = max(period.start, clock.local(site.created_at, site).date())
        days = (period.end - first).days + 1
        if days > 0:
            due += days // intervals.get(site.id, ROUND_INTERVAL)
    return done, due


def sites_with(user, site, permission):
    """The sites of `site`'s organization where the person's role grants `permission` (ordered by name)."""
    return list(Site.select().join(Membership)
                .where((Membership.user == user) & Membership.role.in_(roles_with(permission))
                       & (Site.organization == site.organization_id))
                .order_by(Site.name))


# --- the injury register (AML § 5-1) ------------------------------------------------------------------------

@dataclass
class RegisterRow:
    """One injury in the register: what happened, where and when, and what it cost; no medical details (the
    injury's notes and whether it was treated are left out: AML § 5-1 keeps them out without consent)."""

    report_id: int
    site: str
    happened_at: object  # naive UTC
    site_obj: object
    place: str
    category: str
    severity: str
    description: str
    employer: str
    org_number: str
    lost_time: bool
    fatal: bool
    serious: bool
    absence_days: int | None
    returned_on: date | None
    alternative_work: bool
    status: str
    corrective_action: str


def injury_register(sites, period):
    """The injury reports of the sites in the period, oldest first, as RegisterRows."""
    min_days, min_hours, _few = _settings()
    by_id = {s.id: s for s in sites}
    start, end = clock.day_bounds(period.start, period.end, sites[0])
    query = (Report.select(Report, InjuryDetails, User.name, Organization.name, Organization.org_number)
             .join(InjuryDetails, JOIN.LEFT_OUTER, on=(InjuryDetails.report == Report.id))
             .switch(Report).join(User, on=(Report.reporter == User.id))
             .join(Organization, JOIN.LEFT_OUTER, on=(User.employer == Organization.id))
             .where(Report.site.in_(list(by_id)) & (Report.kind == "injury")
                    & (Report.happened_at >= start) & (Report.happened_at < end))
             .order_by(Report.happened_at, Report.id))
    out = []
    for report in query:
        details = getattr(report, "injurydetails", None)
        employer = getattr(report.reporter, "employer", None)
        site = by_id[report.site_id]
        injury = Injury(day=clock.local(report.happened_at, site).date(), fatal=bool(details and details.fatal),
                        absence_beyond_day=bool(details and details.absence_beyond_day),
                        absence_days=details.absence_days if details else None,
                        absence_hours=details.absence_hours if details else None)
        out.append(RegisterRow(report.id, site.name, report.happened_at, site, report.place, report.category,
                               report.severity, report.description, employer.name if employer else "",
                               employer.org_number if employer else "",
                               definitions.is_lost_time(injury, min_days, min_hours), injury.fatal,
                               bool(details and details.serious), injury.absence_days,
                               details.returned_on if details else None,
                               bool(details and details.alternative_work), report.status, report.corrective_action))
    return out


# --- the hours export: one line per check-in, read in batches ------------------------------------------------

HOURS_BATCH = 2000


def hours_lines(sites, period):
    """Each closed check-in of the sites that began in the period, in the order they began, as tuples (site name, local
    date, name, employer, org number, local in, local out as "YYYY-MM-DD HH:MM" on the site's clock, hours).
    A generator that reads HOURS_BATCH rows at a time (keyset), so memory stays flat on either database
    however long the export."""
    by_id = {s.id: s for s in sites}
    zones = {s.id: clock.zone(s) for s in sites}
    start, end = clock.day_bounds(period.start, period.end, sites[0])
    last_at, last_id = start, 0
    while True:
        # Keyset on (checked_in_at, id): each batch continues along the checked_in_at index where the last ended.
        batch = list(CheckIn.select(CheckIn.id, CheckIn.site, CheckIn.name, CheckIn.employer_name,
                                    CheckIn.employer_org_number, CheckIn.checked_in_at, CheckIn.checked_out_at)
                     .where((CheckIn.checked_in_at >= last_at) & (CheckIn.checked_in_at < end)
                            & ((CheckIn.checked_in_at > last_at) | (CheckIn.id > last_id))
                            & CheckIn.site.in_(list(by_id)) & CheckIn.checked_out_at.is_null(False))
                     .order_by(CheckIn.checked_in_at, CheckIn.id).limit(HOURS_BATCH).tuples())
        if not batch:
            return
        for row_id, site_id, name, employer, org, checked_in, checked_out in batch:
            tz = zones[site_id]
            local_in = checked_in.replace(tzinfo=timezone.utc).astimezone(tz)
            local_out = checked_out.replace(tzinfo=timezone.utc).astimezone(tz)
            yield (by_id[site_id].name, local_in.date().isoformat(), name, employer, org,
                   local_in.isoformat(" ", "minutes")[:16], local_out.isoformat(" ", "minutes")[:16],
                   round((checked_out - checked_in).total_seconds() / 3600, 2))
        last_at, last_id = batch[-1][5], batch[-1][0]


# --- a person's own data (GDPR art. 15) ----------------------------------------------------------------------

def own_data(user):
    """Everything stored about the person (GDPR art. 15), as a JSON-ready dict: account, roles, check-ins,
    reports (with injury details: they are the person's own), alert copies, walkaround answers and signatures,
    SJA participation and signatures, training records (each certificate photo's side, size and digest; not
    its bytes), meeting proposals and attendance. Times are UTC ("...Z"), dates ISO."""
    def when(value):
        return value.isoformat() + "Z" if value else None

    employer = user.employer
    data = {
        "account": {"name": user.name, "phone": user.phone, "email": user.email, "language": user.language,
                    "employer": employer.name if employer else None,
                    "employer_org_number": employer.org_number if employer else None,
                    "hms_card_number": user.hms_card_number,
                    "hms_card_expiry": user.hms_card_expiry.isoformat() if user.hms_card_expiry else None,
                    "created_at": when(user.created_at)},
        "roles": [{"site": m.site.name, "role": m.role, "since": when(m.created_at)}
                  for m in Membership.select(Membership, Site).join(Site).where(Membership.user == user)],
        "check_ins": [{"site": c.site.name, "in": when(c.checked_in_at), "out": when(c.checked_out_at),
                       "confirmed": c.confirmed, "missing": c.missing, "auto_closed": c.auto_closed}
                      for c in CheckIn.select(CheckIn, Site).join(Site).where(CheckIn.user == user)
                      .order_by(CheckIn.checked_in_at)],
        "reports": [],
        "alerts": [{"title": a.alert.title or a.alert.template, "site": a.alert.site.name,
                    "sent": when(a.alert.created_at), "seen": when(a.seen_at), "acknowledged": when(a.acked_at)}
                   for a in AlertRecipient.select(AlertRecipient, Alert, Site).join(Alert).join(Site)
                   .where(AlertRecipient.user == user).order_by(Alert.created_at)],
    }
    for report in (Report.select(Report, Site).join(Site).where(Report.reporter == user).order_by(Report.happened_at)):
        item = {"site": report.site.name, "kind": report.kind, "category": report.category,
                "severity": report.severity, "description": report.description, "place": report.place,
                "happened_at": when(report.happened_at), "status": report.status}
        details = InjuryDetails.get_or_none(InjuryDetails.report == report)
        if details:
            item["injury"] = {"absence_beyond_day": details.absence_beyond_day, "absence_days": details.absence_days,
                              "medical_treatment": details.medical_treatment, "notes": details.notes,
                              "alternative_work": details.alternative_work, "fatal": details.fatal,
                              "returned_on": details.returned_on.isoformat() if details.returned_on else None,
                              "absence_hours": details.absence_hours}
        data["reports"].append(item)
    data.update(_own_feature_data(user, when))
    return data


def _own_feature_data(user, when):
    """own_data's walkarounds, SJAs, training records and meetings (issues 18, 19, 21)."""
    def day(value):
        return value.isoformat() if value else None

    photos = {}
    for record_id, side, width, height, digest in (
            CertificatePhoto.select(CertificatePhoto.record, CertificatePhoto.side, CertificatePhoto.width,
                                    CertificatePhoto.height, CertificatePhoto.digest)
            .join(TrainingRecord).where(TrainingRecord.user == user).tuples()):
        photos.setdefault(record_id, []).append({"side": side, "width": width, "height": height, "digest": digest})
    return {
        "walkaround_answers": [
            {"site": a.round.site.name, "round": str(a.round.uuid), "item": a.item_key, "answer": a.answer,
             "note": a.note, "answered_at": when(a.answered_at)}
            for a in RoundAnswer.select(RoundAnswer, SafetyRound, Site).join(SafetyRound).join(Site)
            .where(RoundAnswer.answered_by == user).order_by(RoundAnswer.answered_at)],
        "walkaround_signatures": [
            {"site": r.round.site.name, "round": str(r.round.uuid), "side": r.side, "with_pin": r.with_pin,
             "signed_at": when(r.signed_at)}
            for r in RoundSignature.select(RoundSignature, SafetyRound, Site).join(SafetyRound).join(Site)
            .where(RoundSignature.signer == user).order_by(RoundSignature.signed_at)],
        "sja_participation": [
            {"sja": p.sja.title, "site": p.sja.site.name if p.sja.site else None, "added_at": when(p.added_at)}
            for p in SjaParticipant.select(SjaParticipant, Sja).join(Sja)
            .where(SjaParticipant.user == user).order_by(SjaParticipant.added_at)],
        "sja_signatures": [
            {"sja": s.sja.title, "revision": s.revision, "method": s.method, "language": s.language,
             "signed_at": when(s.signed_at)}
            for s in SjaSignature.select(SjaSignature, Sja).join(Sja)
            .where(SjaSignature.user == user).order_by(SjaSignature.signed_at)],
        "training_records": [
            {"course": t.course, "taken_on": day(t.taken_on), "expires_on": day(t.expires_on), "issuer": t.issuer,
             "certificate_number": t.certificate_number, "status": t.status, "reject_reason": t.reject_reason,
             "verneombud_may_see": t.verneombud_may_see, "created_at": when(t.created_at),
             "photos": photos.get(t.id, [])}
            for t in TrainingRecord.select().where(TrainingRecord.user == user).order_by(TrainingRecord.taken_on)],
        "meeting_proposals": [
            {"site": m.site.name, "text": m.text, "language": m.language, "photo_digest": m.photo_digest,
             "created_at": when(m.created_at)}
            for m in MeetingProposal.select(MeetingProposal, Site).join(Site)
            .where(MeetingProposal.proposer == user).order_by(MeetingProposal.created_at)],
        "meeting_attendance": [
            {"meeting": a.meeting.kind, "held_on": day(a.meeting.held_on), "side": a.side, "name": a.name}
            for a in MeetingAttendance.select(MeetingAttendance, Meeting).join(Meeting)
            .where(MeetingAttendance.user == user).order_by(Meeting.held_on)],
    }


# --- an injury's cost, recorded by a manager -----------------------------------------------------------------

MAX_ABSENCE_HOURS = 24 * 366


def record_injury(actor, report, form):
    """Record an injury's alternative work, fatality, return date, days and hours of absence (form fields:
    alternative_work, fatal, returned_on YYYY-MM-DD or "", absence_days, absence_hours). Audited.
    StatsError("injury.…") for a bad date or number; InputError("not_injury") for another kind of report."""
    if report.kind != "injury":
        raise InputError("not_injury")
    details = InjuryDetails.get_or_none(InjuryDetails.report == report) or InjuryDetails(report=report)
    day = clock.local(report.happened_at, report.site).date()
    returned_text = (form.get("returned_on") or "").strip()
    try:
        returned = iso_date(returned_text) if returned_text else None
    except ValueError:
        raise InjuryError("bad_date", field="returned_on") from None
    if returned is not None and not day <= returned <= clock.today(report.site):  # the range, in the reader's dates
        raise InjuryError("implausible_date", field="returned_on", first=day, last=clock.today(report.site))
    days_text = (form.get("absence_days") or "").strip()
    days = whole_number(days_text) if days_text else None
    if days_text and days is None:
        raise InputError("bad_absence_days", field="absence_days", n=366)
    if days is not None and not 0 <= days <= 366:
        raise InputError("bad_absence_days", field="absence_days", n=366)
    hours_text = (form.get("absence_hours") or "").strip()
    absence_hours = decimal_number(hours_text) if hours_text else None
    if hours_text and absence_hours is None:
        raise InjuryError("bad_hours", field="absence_hours", n=MAX_ABSENCE_HOURS)
    if absence_hours is not None and not 0 <= absence_hours <= MAX_ABSENCE_HOURS:
        raise InjuryError("bad_hours", field="absence_hours", n=MAX_ABSENCE_HOURS)
    if days is None and returned is not None:
        days = max(0, (returned - day).days - 1)  # the days between the day of injury and the day back
    yes = ("y", "yes", "on", "1", "true")
    before = {"alternative_work": details.alternative_work, "fatal": details.fatal,
              "returned_on": details.returned_on.isoformat() if details.returned_on else None,
              "absence_days": details.absence_days, "absence_hours": details.absence_hours} if details.id else None
    details.alternative_work = (form.get("alternative_work") or "").lower() in yes
    details.fatal = (form.get("fatal") or "").lower() in yes
    details.returned_on, details.absence_days, details.absence_hours = returned, days, absence_hours
    details.absence_beyond_day = bool(days) or details.fatal
    with database.atomic():
        details.save()
        audit.record(actor, "injury.record", "report", report.id, before,
                     {"alternative_work": details.alternative_work, "fatal": details.fatal,
                      "returned_on": returned.isoformat() if returned else None, "absence_days": days,
                      "absence_hours": absence_hours})
    return details


class InjuryError(InputError):
    scope = "injury"


def may_read_register(user, site):
    """AML § 5-1: the register of a site is open to its managers and its verneombud."""
    return (Membership.select().where((Membership.user == user) & (Membership.site == site)
                                      & Membership.role.in_(roles_with("injuries.register"))).exists())


def amu_register_sites(user):
    """AML § 5-1 and § 7-2: the AMU (working environment committee) reads the injury register of its
    organization. [Site]: every site of the organization where the person is an AMU member (AmuMember),
    ordered by name; [] when they are not one (the view answers 404)."""
    member = AmuMember.get_or_none(AmuMember.user == user)
    if member is None:
        return []
    return list(Site.select(Site, Organization).join(Organization)
                .where(Site.organization == member.organization_id).order_by(Site.name))


def site_report(site, report_id):
    """The report with that id on the site, or None."""
    return Report.get_or_none((Report.id == report_id) & (Report.site == site))


def all_sites():
    """Every site (the periodic refresh of the day sums)."""
    return list(Site.select())
