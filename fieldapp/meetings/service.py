"""Meetings: the agenda built from the site's records, the minutes, decisions followed up as reports,
approval (then frozen: amendments only), proposals from anyone on the site, and the morning meeting."""
import contextlib
import functools
import hashlib
import json
import operator
import secrets
import uuid as uuidlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from peewee import JOIN, IntegrityError, fn

from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import audit, clock, i18n, isolate, photos
from ..alerts import service as alerts
from ..alerts import wording as alert_wording
from ..authz import roles_with
from ..competence import service as competence
from ..db import database, locked, replayed_since
from ..inputs import InputError, free_text, iso_date, plausible_date, whole_number
from ..models import (AMU_SIDES, ATTENDANCE_SIDES, AgendaItem, Alert, AmuMember, AuditEvent, CheckIn, Meeting,
                      MeetingAmendment, MeetingAttendance, MeetingDecision, MeetingKind, MeetingProposal,
                      MeetingSchedule, Membership, Organization, Report, ReportEvent, RoundAnswer, SafetyRound,
                      Site, Sja, TrainingRecord, User, utcnow)
from ..reports import labels as report_labels
from ..stats import service as stats
from ..stats.definitions import Period
from . import kinds as kind_catalogue

MAX_TEXT = 2000
MAX_NAME = 200  # an attendee typed by name (MeetingAttendance.name)
SOURCE_LIMIT = 50  # rows per agenda source: an agenda is read aloud, not a report archive
LOOKBACK_DAYS = 28  # the first meeting of a kind looks this far back
MAX_YEARS_BACK = 5  # a meeting is recorded at most this long after it was held
MAX_YEARS_AHEAD = 2  # and planned at most this far ahead; a decision deadline too


class MeetingError(InputError):
    scope = "meeting"


# --- kinds ----------------------------------------------------------------------------------------------

def kinds_for(organization_id, language):
    """{code: (name, level)}: the built-in kinds and the organization's own or renamed ones."""
    own = MeetingKind.select().where(MeetingKind.organization == organization_id)
    return kind_catalogue.kind_names(own, language)


# --- the agenda's sources: one function each (site, since, today) -> [(source, record id, title[, params])] ---
# `today` is the day the agenda is read as of: the meeting's day when the minutes are typed in afterwards (a
# meeting records what was there by its day, nothing made after it), else today (build_agenda).
# A source that names a record stores no words (title ""): the item is read from the record's codes in each
# reader's language when shown (item_titles; issue 17). Free text (proposals, typed items) is stored as written.
# The walkaround, SJA, certificate and statistics sources store what they found as codes and numbers
# (AgendaItem.params, a snapshot at the meeting's making) and item_titles words them in each reader's language
# (_worded_title); the title stored beside them is the maker's wording, kept for the audit trail only.
CERTIFICATE_DAYS = 30  # certificates expiring within this many days join the agenda (issue 19)


def _until(site, day):
    """Where the agenda's records stop (naive UTC): the end of a past local `day` on the site's clock; no end for
    today (a record's time may be a phone's claim a little ahead of the server's clock, fieldapp/phone_time.py)."""
    if day >= clock.today(site):
        return datetime.max
    return clock.day_bounds(day, day, site)[1]


def _statistics(site, since, today):
    """One item: hours, injuries, H1 and H2 of the site from the day of the last meeting to today (issue 20)."""
    since_day = clock.local(since, site).date()
    if since_day > today:
        return []
    total = stats.statistics([site], Period(since_day, today), other=False).total

    params = {"since": since_day.isoformat(), "hours": float(total.hours), "injuries": int(total.injuries),
              "h1": None if total.h1 is None else float(total.h1), "h2": None if total.h2 is None else float(total.h2)}
    return [("statistics", None, _worded_title("statistics", params, {}), params)]


def _new_reports(site, since, today):
    rows = (Report.select(Report.id)
            .where((Report.site == site) & (Report.happened_at >= since) & (Report.happened_at < _until(site, today))
                   & Report.kind.not_in(("injury", "decision", "finding")))
            .order_by(Report.happened_at.desc()).limit(SOURCE_LIMIT).tuples())
    return [("report", rid, "") for (rid,) in rows]


def _injuries(site, since, today):
    # Without medical or personal details (AML § 5-1, GDPR art. 9): the category and the day only, never the
    # reporter's words, which often name the injured person; the agenda is read by everyone on the site
    # (item_titles words it in each reader's language).
    rows = (Report.select(Report.id)
            .where((Report.site == site) & (Report.happened_at >= since) & (Report.happened_at < _until(site, today))
                   & (Report.kind == "injury"))
            .order_by(Report.happened_at.desc()).limit(SOURCE_LIMIT).tuples())
    return [("injury", rid, "") for (rid,) in rows]


def _overdue_follow_ups(site, since, today):
    rows = (Report.select(Report.id)
            .where((Report.site == site) & (Report.status != "closed") & (Report.deadline < today))
            .order_by(Report.deadline).limit(SOURCE_LIMIT).tuples())
    return [("follow_up", rid, "") for (rid,) in rows]


def _alerts(site, since, today):
    rows = (Alert.select(Alert.id, Alert.level)
            .where((Alert.site == site) & (Alert.created_at >= since) & (Alert.created_at < _until(site, today))
                   & (Alert.level != "info"))
            .order_by(Alert.created_at.desc()).limit(SOURCE_LIMIT).tuples())
    return [("stop_work" if level == "stop_work" else "alert", aid, "") for aid, level in rows]


REPORT_SOURCES = ("report", "injury", "follow_up")
ALERT_SOURCES = ("alert", "stop_work")
CARRY_DEPTH = 50  # carried-over items followed back at most this many meetings


def _report_title(report, categories, kinds):
    """ "Electrical (Hazardous condition): loose cable": the report's codes in the words of fieldapp/reports/
    labels.py (`categories`, `kinds`: its dicts in the reader's language), then what the reporter wrote (their
    own words, as written). Never medical details (AML § 5-1). An unknown code is shown as stored."""
    words = f"{categories.get(report.category, report.category)} ({kinds.get(report.kind, report.kind)})"
    return f"{words}: {report.description}" if report.description else words


def _injury_title(report, categories):
    """ "Falls, 08/03/2026": an injury on the agenda is its category (in the reader's words) and the site's day as
    the reader writes dates, never what the reporter wrote (it often names the injured person) nor medical details
    (AML § 5-1; attack test)."""
    day = clock.format_date(report.happened_at, site=report.site)
    return f"{categories.get(report.category, report.category)}, {day}"


def _alert_title(alert):
    """ "STOP WORK: immediate danger · 3. etasje, sone B": the alert's title as fieldapp/alerts/wording.py words
    it for the reader (the current locale), then where (a report alert's codes in words, a place as the sender
    wrote it)."""
    title = alert_wording.wording(alert)[0]
    if not alert.template or not alert.area:
        return title
    area = (alert_wording.report_words(alert.area) if alert.template in alert_wording.REPORT_TEMPLATES
            else alert.area)
    return f"{title} · {area}"


def _origins(items):
    """{item id: the item it was first put on an agenda as}: carried items followed back through carried_from
    (at most CARRY_DEPTH meetings), one query per step back."""
    origin = {item.id: item for item in items}
    pending = {item.id: item.carried_from_id for item in items if item.source == "carried" and item.carried_from_id}
    for _step in range(CARRY_DEPTH):
        if not pending:
            break
        found = {row.id: row for row in AgendaItem.select().where(AgendaItem.id.in_(set(pending.values())))}
        following = {}
        for item_id, parent_id in pending.items():
            parent = found.get(parent_id)
            if parent is None:
                continue
            origin[item_id] = parent
            if parent.source == "carried" and parent.carried_from_id:
                following[item_id] = parent.carried_from_id
        pending = following
    return origin


def item_titles(items, language):
    """{item id: title} in `language`: a report's kind and category from fieldapp/reports/labels.py (with the
    reporter's words), an alert's title as fieldapp/alerts/wording.py words it for that reader, a walkaround,
    SJA, certificate or statistics item from its params (_worded_title), free text as written. Carried items
    are read from the item they first named. Up to five queries plus one per meeting a carried item goes back."""
    origin = _origins(items)
    report_ids = {o.record_id for o in origin.values() if o.source in REPORT_SOURCES and o.record_id}
    alert_ids = {o.record_id for o in origin.values() if o.source in ALERT_SOURCES and o.record_id}
    reports = {r.id: r for r in Report.select().where(Report.id.in_(report_ids))} if report_ids else {}
    alerts_by_id = {a.id: a for a in Alert.select().where(Alert.id.in_(alert_ids))} if alert_ids else {}
    worded = [o for o in origin.values() if o.source in WORDED_SOURCES and o.params]
    organizations = ({m.id: m.organization_id for m in Meeting.select(Meeting.id, Meeting.organization)
                      .where(Meeting.id.in_({o.meeting_id for o in worded}))} if worded else {})
    course_names = {}
    out = {}
    with force_locale(language):
        categories, kinds = report_labels.categories(), report_labels.kinds()
        for item in items:
            source = origin[item.id]
            report = reports.get(source.record_id) if source.source in REPORT_SOURCES else None
            alert = alerts_by_id.get(source.record_id) if source.source in ALERT_SOURCES else None
            if report is not None and source.source == "injury":
                out[item.id] = _injury_title(report, categories)
            elif report is not None:
                out[item.id] = _report_title(report, categories, kinds)
            elif alert is not None:
                out[item.id] = _alert_title(alert)
            elif source.source in WORDED_SOURCES and source.params:
                organization = organizations.get(source.meeting_id)
                if source.source == "certificate" and organization not in course_names:
                    course_names[organization] = competence.course_names(organization, language)
                try:
                    out[item.id] = _worded_title(source.source, source.params, course_names.get(organization, {}))
                except (KeyError, TypeError, ValueError):  # params of another shape: the stored words
                    out[item.id] = source.title
            else:
                out[item.id] = item.title or source.title or _("A record that is no longer there")
    return out


def _open_findings(site, since, today):
    """Walkaround findings (deviations) still open, however old (issue 18)."""
    rows = (Report.select(Report.id, Report.description)
            .where((Report.site == site) & (Report.kind == "finding") & (Report.status != "closed")
                   & (Report.happened_at < _until(site, today)))
            .order_by(Report.happened_at).limit(SOURCE_LIMIT).tuples())
    return [("finding", rid, text) for rid, text in rows]


def _rounds(site, since, today):
    """The walkarounds started since the last meeting, with their number of deviations."""
    deviations = fn.COUNT(RoundAnswer.id)
    rows = (SafetyRound.select(SafetyRound.id, SafetyRound.started_at, SafetyRound.finished_at, deviations)
            .join(RoundAnswer, JOIN.LEFT_OUTER, on=((RoundAnswer.round == SafetyRound.id)
                                                    & (RoundAnswer.answer == "deviation")))
            .where((SafetyRound.site == site) & (SafetyRound.started_at >= since)
                   & (SafetyRound.started_at < _until(site, today)))
            .group_by(SafetyRound.id, SafetyRound.started_at, SafetyRound.finished_at)
            .order_by(SafetyRound.started_at.desc()).limit(SOURCE_LIMIT).tuples())
    out = []
    for rid, started, finished, count in rows:
        params = {"date": clock.local(started, site).date().isoformat(), "finished": finished is not None,
                  "deviations": int(count)}
        out.append(("round", rid, _worded_title("round", params, {}), params))
    return out


def _sjas(site, since, today):
    """The SJAs (safe job analyses) made on the site since the last meeting, with their go / no-go."""
    rows = (Sja.select(Sja.id, Sja.title, Sja.decision)
            .where((Sja.site == site) & (Sja.created_at >= since) & (Sja.created_at < _until(site, today)))
            .order_by(Sja.created_at.desc()).limit(SOURCE_LIMIT).tuples())
    out = []
    for rid, title, decision in rows:
        params = {"title": title, "decision": decision}
        out.append(("sja", rid, _worded_title("sja", params, {}), params))
    return out


def _certificates(site, since, today):
    """Certificates of the site's people that had expired or expired within CERTIFICATE_DAYS as of `today`, the
    meeting's day (build_agenda passes held_on: minutes record the meeting, so a certificate is read as it stood
    on that day, whether the minutes are typed in afterwards or the meeting is planned ahead). Approved records
    taken by that day; a course renewed by a later such record, or one without expiry, is not listed. Each item's
    params carry "as_of" (ISO date) and its title says so. AML § 2-1 / issue 19."""
    members = Membership.select(Membership.user).where(Membership.site == site)
    latest = {}
    for rid, user_id, name, course, expires_on in (
            TrainingRecord.select(TrainingRecord.id, TrainingRecord.user, User.name, TrainingRecord.course,
                                  TrainingRecord.expires_on).join(User)
            .where(TrainingRecord.user.in_(members) & (TrainingRecord.status == "approved")
                   & (TrainingRecord.taken_on <= today) & (User.active == True)).tuples()):  # noqa: E712
        if isinstance(expires_on, str):
            expires_on = date.fromisoformat(expires_on)
        key = (user_id, course)
        known = latest.get(key)
        if key in latest and (known[3] is None or (expires_on is not None and expires_on <= known[3])):
            continue
        latest[key] = (rid, name, course, expires_on)
    limit = today + timedelta(days=CERTIFICATE_DAYS)
    due = sorted((row for row in latest.values() if row[3] is not None and row[3] <= limit), key=lambda r: r[3])
    if not due:
        return []
    names = competence.course_names(site.organization_id)
    out = []
    for rid, name, course, expires_on in due[:SOURCE_LIMIT]:
        params = {"name": name, "course": course, "expires_on": expires_on.isoformat(),
                  "expired": expires_on < today, "as_of": today.isoformat()}
        out.append(("certificate", rid, _worded_title("certificate", params, names), params))
    return out


WORDED_SOURCES = ("statistics", "round", "sja", "certificate")


def _worded_title(source, params, course_names):
    """The title of a statistics, walkaround, SJA or certificate item from its params (see the sources above)
    in the current locale; dates as clock.format_date writes them. course_names: {code: name} in that language
    (certificates only). Raises KeyError for params that lack a key the source stores."""
    if source == "statistics":
        def rate(value):
            return "–" if value is None else format_decimal(value, format="0.0")
        return ngettext("Statistics since %(date)s: %(hours)s hours, %(num)d injury, H1 %(h1)s, H2 %(h2)s",
                        "Statistics since %(date)s: %(hours)s hours, %(num)d injuries, H1 %(h1)s, H2 %(h2)s",
                        params["injuries"], date=clock.format_date(params["since"]),
                        hours=format_decimal(round(params["hours"])), h1=rate(params["h1"]), h2=rate(params["h2"]))
    if source == "round":
        day = clock.format_date(params["date"])
        if params["finished"]:
            return ngettext("Walkaround %(date)s: %(num)d deviation", "Walkaround %(date)s: %(num)d deviations",
                            params["deviations"], date=day)
        return _("Walkaround %(date)s (not finished)", date=day)
    if source == "sja":
        words = {"go": _("Go"), "no_go": _("No-go")}
        decision = params.get("decision")
        return f"{params['title']} ({words[decision]})" if decision in words else params["title"]
    course = course_names.get(params["course"], params["course"])
    day = clock.format_date(params["expires_on"])
    if params.get("as_of"):  # made as of the meeting's day (items made before that was stored have no label)
        as_of = clock.format_date(params["as_of"])
        if params["expired"]:
            return _("%(name)s: %(course)s expired %(date)s (as of the meeting on %(day)s)", name=params["name"],
                     course=course, date=day, day=as_of)
        return _("%(name)s: %(course)s expires %(date)s (as of the meeting on %(day)s)", name=params["name"],
                 course=course, date=day, day=as_of)
    if params["expired"]:
        return _("%(name)s: %(course)s expired %(date)s", name=params["name"], course=course, date=day)
    return _("%(name)s: %(course)s expires %(date)s", name=params["name"], course=course, date=day)


AGENDA_SOURCES = [_statistics, _injuries, _new_reports, _open_findings, _rounds, _sjas, _overdue_follow_ups,
                  _certificates, _alerts]


def held(today):
    """The peewee condition for a meeting that counts as held by `today` (a date on the site's clock): its minutes
    are approved (status "approved") and its day is not after `today`. The one rule for "held", used by the due
    dates (the home card, the duties page, remind_due), the duties rules (meetings held with the verneombud, AML
    § 3-1 (2), § 6-2 (2)) and the previous meeting of an agenda. A draft is not held: until its minutes are
    approved nothing shows the meeting took place (AML § 7-2 (AMU): the minutes are the record of the meeting), and
    a meeting dated ahead is planned, not held."""
    return (Meeting.status == "approved") & (Meeting.held_on <= today)


def previous_meeting(site, kind, day, today, before=None):
    """The last meeting of `kind` on `site` held (see held) on or before `day` (a date), the
    day of the meeting it precedes; `before` (that meeting, when saved) and meetings of the same day recorded after
    it are left out. None when there is none."""
    query = Meeting.select().where((Meeting.site == site) & (Meeting.kind == kind) & held(min(day, today)))
    if before is not None:
        query = query.where((Meeting.id != before.id)
                            & ((Meeting.held_on < day) | (Meeting.id < before.id)))
    return query.order_by(Meeting.held_on.desc(), Meeting.id.desc()).first()


AS_OF_MEETING = (_certificates,)  # sources read as of the meeting's day, not the day the agenda is made


def build_agenda(site, kind, today, previous=None, held_on=None):
    """[(source, record id, title, carried_from item id, proposal id[, params])]: carried-over items of `previous`
    (the last meeting of the kind held before this one's day, previous_meeting) first, then open proposals, then
    each source's records since that meeting (or LOOKBACK_DAYS before this meeting's day, or today if earlier).
    params (a dict) only for WORDED_SOURCES. The sources are read as of the meeting's day (`held_on`) when it is
    past, else as of `today`; the AS_OF_MEETING sources as of `held_on` also when it is ahead (what will have
    expired by the day)."""
    rows = []
    if previous is not None:
        for item in (AgendaItem.select().where((AgendaItem.meeting == previous) & AgendaItem.carry_over)
                     .order_by(AgendaItem.position)):
            rows.append(("carried", item.record_id, item.title, item.id, item.proposal_id))
    until_day = min(held_on or today, today)
    since_day = (min(previous.held_on, until_day) if previous is not None
                 else until_day - timedelta(days=LOOKBACK_DAYS))
    since = clock.day_bounds(since_day, since_day, site)[0]
    handled = AgendaItem.select(AgendaItem.proposal).where(AgendaItem.proposal.is_null(False))
    for pid, text in (MeetingProposal.select(MeetingProposal.id, MeetingProposal.text)
                      .where((MeetingProposal.site == site) & MeetingProposal.id.not_in(handled))
                      .order_by(MeetingProposal.created_at).tuples()):
        rows.append(("proposal", None, text, None, pid))
    for source in AGENDA_SOURCES:
        day = (held_on or today) if source in AS_OF_MEETING else min(held_on or today, today)
        rows.extend((name, rid, title, None, None, *params) for name, rid, title, *params in source(site, since, day))
    return _without_echoes(rows)


def _without_echoes(rows):
    """The rows less each automatic alert (a warning the app raised for a serious report, Alert.report) whose
    report is on the agenda itself: one matter, one item. Stop-work orders always stay."""
    listed = {row[1] for row in rows if row[0] in ("report", "injury")}
    alert_ids = [row[1] for row in rows if row[0] == "alert"]
    if not listed or not alert_ids:
        return rows
    echoes = {aid for (aid,) in Alert.select(Alert.id).where(Alert.id.in_(alert_ids) & Alert.report.in_(listed))
              .tuples()}
    return [row for row in rows if not (row[0] == "alert" and row[1] in echoes)]


def previous_decisions(meeting):
    """The last meeting of the kind's decisions with their follow-up's status: [(decision, report status)]."""
    previous = (previous_meeting(meeting.site, meeting.kind, meeting.held_on, clock.today(meeting.site), meeting)
                if meeting.site_id else None)
    if previous is None:
        return []
    return list(MeetingDecision.select(MeetingDecision, User, Report)
                .join(User, on=(MeetingDecision.person == User.id))
                .switch(MeetingDecision).join(Report, JOIN.LEFT_OUTER, on=(MeetingDecision.report == Report.id))
                .where(MeetingDecision.meeting == previous).order_by(MeetingDecision.id))


# --- meetings -------------------------------------------------------------------------------------------

def _text(raw, field, required=True):
    text = free_text(raw)
    if required and not text:
        raise MeetingError("text_required", field=field)
    if len(text) > MAX_TEXT:
        raise MeetingError("too_long", field=field, n=MAX_TEXT)
    return text


def _date(raw, today, field="held_on"):
    """A date within MAX_YEARS_BACK before to MAX_YEARS_AHEAD after `today`: "bad_date" or "implausible_date"."""
    try:
        day = iso_date(raw)
    except ValueError:
        raise MeetingError("bad_date", field=field) from None
    return plausible_date(day, today, field, MAX_YEARS_BACK, MAX_YEARS_AHEAD, MeetingError)


def _check_draft(meeting):
    if meeting.status == "approved":
        raise MeetingError("approved")


def _lock_draft(meeting, reason="approved"):
    """Inside a transaction, as its first statement: take the meeting row's write lock (SQLite's writer lock,
    PostgreSQL's row lock) and check that the minutes are still a draft, MeetingError(reason) if not. A change and
    an approval sent at the same moment then run one after the other: no change lands in approved minutes, and
    no approval is lost or recorded twice."""
    if not Meeting.update(status=Meeting.status).where((Meeting.id == meeting.id)
                                                       & (Meeting.status != "approved")).execute():
        raise MeetingError(reason)


@contextlib.contextmanager
def _draft_change(meeting):
    """A transaction for one change to draft minutes (see _lock_draft)."""
    with database.atomic():
        _lock_draft(meeting)
        yield


def _replayed(where, alike=None, **same):
    """The meeting matching `where` and the columns `same` created in the last db.REPLAY_SECONDS (the same form
    sent again by the same person), or None; alike(meeting) -> bool checks what the columns do not hold (the
    people at a morning meeting). Call inside the transaction, under the site's or organization's lock
    (db.locked)."""
    for name, value in same.items():
        where &= getattr(Meeting, name) == value
    recent = Meeting.select().where(where & (Meeting.created_at >= replayed_since())).order_by(Meeting.id.desc())
    return next((meeting for meeting in recent if alike is None or alike(meeting)), None)


def create_meeting(actor, site, kind, held_on_text, extra=False, language="nb", holds=True):
    """A new draft meeting on the site with its agenda built from the records. MeetingError: unknown or
    organization-level kind (bad_kind), bad date. holds: the actor may hold meetings (meetings.run) and chairs
    this one; a meeting the verneombud calls (holds=False) has no chair until a lead approves its minutes."""
    names = kinds_for(site.organization_id, language)
    if kind not in names or names[kind][1] != "site":
        raise MeetingError("bad_kind", field="kind")
    held_on = _date(held_on_text, clock.today(site))
    previous = previous_meeting(site, kind, held_on, clock.today(site))
    with database.atomic():
        locked(Site, site.id)  # the same form sent twice at once: the second sees the first's meeting
        twin = _replayed(Meeting.site == site.id, kind=kind, held_on=held_on, extra=extra, created_by=actor.id,
                         status="draft")
        if twin is not None:
            return twin
        meeting = Meeting.create(organization=site.organization_id, site=site, kind=kind, held_on=held_on,
                                 extra=extra, chair=actor if holds else None, created_by=actor, topics=[])
        agenda = build_agenda(site, kind, clock.today(site), previous, held_on)
        if agenda:
            AgendaItem.insert_many([
                {"meeting": meeting.id, "position": n, "source": source, "record_id": rid, "title": title,
                 "carried_from": carried, "proposal": proposal, "params": params[0] if params else None}
                for n, (source, rid, title, carried, proposal, *params) in enumerate(agenda)]).execute()
        audit.record(actor, "meeting.create", "meeting", meeting.id,
                     after={"site": site.id, "kind": kind, "held_on": held_on.isoformat(), "extra": extra,
                            "items": len(agenda)})
    return meeting


def site_meeting(site, meeting_id, drafts=True):
    """The site's meeting, or None. drafts=False (a worker): approved minutes only; a draft is not theirs to read
    (its agenda lists the site's reports before anyone has decided what the minutes say)."""
    query = (Meeting.id == meeting_id) & (Meeting.site == site.id)
    if not drafts:
        query &= Meeting.status == "approved"
    return Meeting.get_or_none(query)


def held_meetings(site, start, end, today, limit=50):
    """The site's meetings held (see held: approved minutes, not dated after `today`) from `start` to `end`
    (dates, inclusive), newest first, at most `limit`: what an inspector is shown as the meetings held."""
    return list(Meeting.select().where((Meeting.site == site) & (Meeting.held_on >= start) & (Meeting.held_on <= end)
                                       & held(today))
                .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit))


def meetings_of(site, limit=50, drafts=True):
    """The site's latest meetings, newest first; drafts=False: approved minutes only (see site_meeting)."""
    query = Meeting.site == site
    if not drafts:
        query &= Meeting.status == "approved"
    return list(Meeting.select().where(query).order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit))


def agenda(meeting):
    items = list(AgendaItem.select().where(AgendaItem.meeting == meeting).order_by(AgendaItem.position,
                                                                                   AgendaItem.id))
    decisions = {}
    for decision in (MeetingDecision.select(MeetingDecision, User).join(User, on=(MeetingDecision.person == User.id))
                     .where(MeetingDecision.meeting == meeting).order_by(MeetingDecision.id)):
        decisions.setdefault(decision.item_id, []).append(decision)
    return items, decisions


def attendance(meeting):
    return list(MeetingAttendance.select().where(MeetingAttendance.meeting == meeting)
                .order_by(MeetingAttendance.side, MeetingAttendance.name))


def amendments(meeting):
    return list(MeetingAmendment.select().where(MeetingAmendment.meeting == meeting).order_by(MeetingAmendment.id))


def add_item(actor, meeting, title_text):
    """Add an item to the draft agenda. The same title added by the same person within db.REPLAY_SECONDS (a
    double tap, a form sent again) is the item added; anyone may add the same title again later, or another
    person at once. MeetingError: title_required, too_long, approved."""
    _check_draft(meeting)
    title = _text(title_text, "title")
    with _draft_change(meeting):
        added = (AgendaItem.select().join(AuditEvent, on=(AuditEvent.record_id == AgendaItem.id.cast("TEXT")))
                 .where((AgendaItem.meeting == meeting) & (AgendaItem.source == "manual") & (AgendaItem.title == title)
                        & (AuditEvent.action == "meeting.item.add") & (AuditEvent.actor == actor.id)
                        & (AuditEvent.at >= replayed_since()))
                 .order_by(AgendaItem.id.desc()).first())
        if added is not None:
            return added  # the same item sent twice by its person: the agenda gets it once
        position = (AgendaItem.select().where(AgendaItem.meeting == meeting).count())
        item = AgendaItem.create(meeting=meeting, position=position, source="manual", title=title)
        audit.record(actor, "meeting.item.add", "agenda_item", item.id, after={"meeting": meeting.id, "title": title})
    return item


def _item(meeting, item_id):
    item_id = whole_number(item_id)
    if item_id is None:
        raise MeetingError("bad_item")
    item = AgendaItem.get_or_none((AgendaItem.id == item_id) & (AgendaItem.meeting == meeting))
    if item is None:
        raise MeetingError("bad_item")
    return item


def remove_item(actor, meeting, item_id):
    """Take an item off a draft agenda (a proposal on it goes back to the open proposals for the next meeting).
    MeetingError: approved minutes, an item not on this agenda, an item with decisions."""
    _check_draft(meeting)
    item = _item(meeting, item_id)
    with _draft_change(meeting):
        # Under the meeting's lock: a decision made on the item at the same moment is seen (it lost its item and
        # left the page, its follow-up still open, found by the breaker), and so is a removal by another phone.
        item = _item(meeting, item.id)
        if MeetingDecision.select().where(MeetingDecision.item == item).exists():
            raise MeetingError("item_has_decisions")
        audit.record(actor, "meeting.item.remove", "agenda_item", item.id,
                     before={"meeting": meeting.id, "title": item.title, "source": item.source})
        item.delete_instance()


def set_note(actor, meeting, item_id, note_text, carry_over=False):
    _check_draft(meeting)
    item = _item(meeting, item_id)
    note = _text(note_text, "note", required=False)
    before = audit.snapshot(item, ("note", "carry_over"))
    with _draft_change(meeting):
        item.note, item.carry_over = note, bool(carry_over)
        item.save(only=[AgendaItem.note, AgendaItem.carry_over])
        audit.record(actor, "meeting.item.note", "agenda_item", item.id, before,
                     audit.snapshot(item, ("note", "carry_over")))
    return item


def set_date(actor, meeting, held_on_text):
    """Correct the date of draft minutes (a meeting started with the wrong day, or moved): the date typed as
    when the meeting was started, on the site's clock (the organization's default for the AMU). Approved
    minutes keep their date: they are amended instead; so do minutes that someone has begun to approve (the
    AMU's chair or one side: they approved them with that date). MeetingError: approved, date_approved,
    bad_date, implausible_date."""
    _check_draft(meeting)
    held_on = _date(held_on_text, clock.today(meeting.site))
    with _draft_change(meeting):
        fresh = Meeting.get_by_id(meeting.id)  # under the lock: an approval given meanwhile counts
        if fresh.approved_by_id or fresh.employer_approved_by_id or fresh.workers_approved_by_id:
            raise MeetingError("date_approved", field="held_on")
        before = {"held_on": fresh.held_on.isoformat()}
        meeting.held_on = held_on
        meeting.save(only=[Meeting.held_on])
        audit.record(actor, "meeting.date", "meeting", meeting.id, before, {"held_on": held_on.isoformat()})
    return meeting


def record_vote(actor, meeting, item_id, unanimous, majority_text, minority_text):
    """The AMU's vote on an item: when it was not unanimous both the majority and the minority view are
    recorded (issue 21: the AMU's minutes keep both the majority's and the minority's view)."""
    _check_draft(meeting)
    item = _item(meeting, item_id)
    majority = _text(majority_text, "majority", required=True)
    minority = _text(minority_text, "minority", required=False)
    if not unanimous and not minority:
        raise MeetingError("vote_positions", field="minority")
    with _draft_change(meeting):
        item.vote_unanimous, item.vote_majority, item.vote_minority = bool(unanimous), majority, minority
        item.save(only=[AgendaItem.vote_unanimous, AgendaItem.vote_majority, AgendaItem.vote_minority])
        audit.record(actor, "meeting.vote", "agenda_item", item.id,
                     after={"unanimous": bool(unanimous), "majority": majority, "minority": minority})
    return item


def people_for(meeting):
    """The people who may attend or be named in a decision: the site's members (AMU: its members)."""
    if meeting.site_id is None:
        return list(User.select().join(AmuMember, on=(AmuMember.user == User.id))
                    .where(AmuMember.organization == meeting.organization_id).order_by(User.name))
    return list(User.select(User, Membership.role).join(Membership)
                .where((Membership.site == meeting.site_id) & (User.active == True))  # noqa: E712
                .order_by(User.name).objects())


def _person(meeting, person_id, field, reason="decision_person"):
    person_id = whole_number(person_id)
    if person_id is None or person_id not in {p.id for p in people_for(meeting)}:
        raise MeetingError(reason, field=field)
    return person_id


def add_attendance(actor, meeting, user_id, name_text, side):
    """Record who was there: a person on the site (user_id) or a name typed (name_text), on `side`.

    One row per person or name (a typed name compared without case): the same one sent again, also two at once
    (checked under the meeting's lock), is MeetingError "already_attending" (409) and saves nothing. Other
    MeetingErrors: bad_side, attendance_person, name_required, too_long, approved, person_or_name (a person chosen
    and a name typed: which one was there? The name was dropped without a word, found by the new user)."""
    _check_draft(meeting)
    if side not in ATTENDANCE_SIDES:
        raise MeetingError("bad_side", field="side")
    if user_id and free_text(name_text):  # a name of nothing visible is no name (the field looks empty)
        raise MeetingError("person_or_name", field="name")
    if user_id:
        user = User.get_by_id(_person(meeting, user_id, "user", "attendance_person"))
        name, field = user.name, "user"
        same = MeetingAttendance.user == user.id
    else:
        user, name, field = None, _text(name_text, "name"), "name"
        if len(name) > MAX_NAME:
            raise MeetingError("too_long", field="name", n=MAX_NAME)
        same = MeetingAttendance.user.is_null()
    with _draft_change(meeting):  # under the meeting's lock: two sent at once see each other
        there = next((row for row in MeetingAttendance.select().where((MeetingAttendance.meeting == meeting) & same)
                      if user is not None or row.name.casefold() == name.casefold()), None)
        if there is not None:
            raise MeetingError("already_attending", field=field)
        row = MeetingAttendance.create(meeting=meeting, user=user, name=name, side=side)
        audit.record(actor, "meeting.attendance", "meeting", meeting.id, after={"name": name, "side": side})
    return row


def add_decision(actor, meeting, item_id, text_raw, person_id, deadline_text):
    """A decision with who carries it out and by when; it becomes a follow-up item: a Report of kind "decision"
    assigned to the person with the deadline, followed up like any report. MeetingError: no person, no or
    past deadline, approved minutes, bad_item (a decision is made on an agenda item: the page lists them there;
    one without lost its place and was never shown). The same decision sent again (a double tap, a resend:
    the same item, text, person and deadline) is the one saved, not a second follow-up item."""
    _check_draft(meeting)
    text = _text(text_raw, "text")
    if not person_id:
        raise MeetingError("decision_person", field="person")
    person = _person(meeting, person_id, "person")
    if not (deadline_text or "").strip():
        raise MeetingError("decision_deadline", field="deadline")
    today = clock.today(meeting.site if meeting.site_id else None)  # the AMU: the organization's default zone
    deadline = _date(deadline_text, today, "deadline")
    if deadline < today:  # the AMU's too: a deadline 300 days gone was accepted there (found by the breaker)
        raise MeetingError("decision_deadline", field="deadline")
    item = _item(meeting, item_id)
    with _draft_change(meeting):
        item = _item(meeting, item.id)  # removed meanwhile by another phone: bad_item, under the lock
        twin = MeetingDecision.get_or_none((MeetingDecision.meeting == meeting) & (MeetingDecision.item == item)
                                           & (MeetingDecision.text == text) & (MeetingDecision.person == person)
                                           & (MeetingDecision.deadline == deadline))
        if twin is not None:
            return twin
        report = None
        if meeting.site_id is not None:
            now = utcnow()
            report = Report.create(
                uuid=uuidlib.uuid4(), payload_hash=hashlib.sha256(f"meeting-decision:{meeting.id}:{text}".encode())
                .hexdigest(), site=meeting.site_id, reporter=actor, kind="decision", category="other",
                severity="medium", description=text, happened_at=now, received_at=now, status="in_progress",
                assignee=person, deadline=deadline)
            ReportEvent.create(report=report, actor=actor, kind="created", at=now)
            ReportEvent.create(report=report, actor=actor, kind="assigned", at=now,
                               data={"assignee": person, "deadline": deadline, "meeting": meeting.id})
        decision = MeetingDecision.create(meeting=meeting, item=item, text=text, person=person, deadline=deadline,
                                          report=report)
        audit.record(actor, "meeting.decision", "meeting_decision", decision.id,
                     after={"meeting": meeting.id, "text": text, "person": person,
                            "deadline": deadline.isoformat(), "report": report.id if report else None})
    return decision


def amu_side(user, organization_id):
    row = AmuMember.get_or_none((AmuMember.user == user) & (AmuMember.organization == organization_id))
    return row.side if row else None


# What approve() reads again under the lock, and gives back to the caller's copy when it refuses.
_APPROVAL_FIELDS = ("chair_id", "approved_by_id", "employer_approved_by_id", "workers_approved_by_id")


def approve(actor, meeting):
    """Approve the minutes. A site meeting: its chair; then frozen. The AMU: the chair and one member of each
    side (employer, workers); frozen once all three have approved. MeetingError: approved (twice), not_chair,
    not_held_yet (the meeting is dated after today on the site's clock, the organization's default for the AMU:
    minutes record a meeting that was held, AML § 7-2; a planned one is approved once it has taken place),
    nobody_present (no attendance recorded: minutes say who took part, and they are sent to those who did)."""
    if meeting.status == "approved":
        raise MeetingError("already_approved")
    with database.atomic():
        _lock_draft(meeting, "already_approved")
        # Read again under the lock: an approval by another side that committed meanwhile is kept, and a date
        # corrected meanwhile (set_date) is the one approved, and checked again.
        fresh = Meeting.get_by_id(meeting.id)
        for name in (*_APPROVAL_FIELDS, "held_on"):
            setattr(meeting, name, getattr(fresh, name))
        if meeting.held_on > clock.today(meeting.site):
            raise MeetingError("not_held_yet")
        changed = []
        if meeting.site_id is None:
            side = amu_side(actor, meeting.organization_id)
            if side == "employer" and meeting.employer_approved_by_id is None:
                meeting.employer_approved_by = actor
                changed.append("employer")
            elif side == "workers" and meeting.workers_approved_by_id is None:
                meeting.workers_approved_by = actor
                changed.append("workers")
        if meeting.site_id is not None and meeting.chair_id is None:
            # Called by the verneombud (or its chair's account is gone): the lead who approves chairs it. The view
            # lets only those who may hold meetings (meetings.run) approve.
            meeting.chair = actor
        if actor.id == meeting.chair_id and meeting.approved_by_id is None:
            meeting.approved_by = actor
            changed.append("chair")
        if not changed:
            raise MeetingError("not_chair" if meeting.approved_by_id is None else "already_approved")
        if not MeetingAttendance.select().where(MeetingAttendance.meeting == meeting).exists():
            # Nothing was approved: the caller's copy goes back to what is stored, or the page drawn from it after
            # the refusal showed this side's approval as given (found by the breaker).
            for name in _APPROVAL_FIELDS:
                setattr(meeting, name, getattr(fresh, name))
            raise MeetingError("nobody_present")
        done = meeting.approved_by_id is not None and (
            meeting.site_id is not None
            or (meeting.employer_approved_by_id is not None and meeting.workers_approved_by_id is not None))
        if done:
            meeting.status, meeting.approved_at = "approved", utcnow()
        meeting.save(only=[Meeting.chair, Meeting.approved_by, Meeting.employer_approved_by,
                           Meeting.workers_approved_by, Meeting.status, Meeting.approved_at])
        audit.record(actor, "meeting.approve", "meeting", meeting.id, after={"as": changed, "status": meeting.status})
    return done


def amend(actor, meeting, text_raw):
    """A note on approved minutes (they never change after approval)."""
    if meeting.status != "approved":
        raise MeetingError("not_approved")
    text = _text(text_raw, "text")
    with database.atomic():
        row = MeetingAmendment.create(meeting=meeting, author=actor, text=text)
        audit.record(actor, "meeting.amend", "meeting", meeting.id, after={"text": text})
    return row


def participants(meeting):
    """User ids of those who attended (the minutes go to their inboxes)."""
    return [uid for (uid,) in MeetingAttendance.select(MeetingAttendance.user)
            .where((MeetingAttendance.meeting == meeting) & MeetingAttendance.user.is_null(False)).tuples()]


_to_inboxes = alerts.inform  # one alert per reader's language, once per key (alerts.service.inform)


def approve_and_send(actor, meeting):
    """approve(); once the minutes are approved they go to the inboxes (and phones) of those who attended and of
    those whose proposals were on the agenda, as an information alert that needs no acknowledgement."""
    done = approve(actor, meeting)
    if done and meeting.site_id is not None:
        proposers = [uid for (uid,) in MeetingProposal.select(MeetingProposal.proposer).join(
            AgendaItem, on=(AgendaItem.proposal == MeetingProposal.id)).where(AgendaItem.meeting == meeting).tuples()]
        wanted = set(participants(meeting)) | set(proposers)
        recipients = list(Membership.select(Membership.user, Membership.role, User.language).join(User)
                          .where((Membership.site == meeting.site_id) & Membership.user.in_(wanted)).tuples())

        def words(reader_language):
            name = kinds_for(meeting.organization_id, reader_language).get(meeting.kind, (meeting.kind, ""))[0]
            return (_("Minutes approved: %(kind)s %(date)s", kind=name, date=clock.format_date(meeting.held_on)),
                    _("The minutes are on the site's meetings page, with the decisions and who follows them up."))

        _to_inboxes(actor, meeting.site, f"fieldapp:minutes:{meeting.id}", recipients, words)
    return done


# --- the AMU (organization level) ----------------------------------------------------------------------

def amu_membership(user):
    """The person's AmuMember row (their organization's AMU and their side), or None."""
    return AmuMember.get_or_none(AmuMember.user == user)


def amu_meetings(organization_id, limit=50):
    return list(Meeting.select().where((Meeting.organization == organization_id) & Meeting.site.is_null()
                                       & (Meeting.kind == "amu"))
                .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit))


def amu_meeting(organization_id, meeting_id):
    return Meeting.get_or_none((Meeting.id == meeting_id) & (Meeting.organization == organization_id)
                               & Meeting.site.is_null())


def create_amu_meeting(actor, organization_id, held_on_text):
    """A draft AMU meeting chaired by `actor` (an AMU member); its agenda starts with the last one's carried
    items. Decisions of the AMU are recorded with person and deadline; they are not site reports."""
    held_on = _date(held_on_text, clock.today())
    previous = (Meeting.select().where((Meeting.organization == organization_id) & Meeting.site.is_null()
                                       & (Meeting.kind == "amu") & held(min(held_on, clock.today())))
                .order_by(Meeting.held_on.desc(), Meeting.id.desc()).first())
    with database.atomic():
        locked(Organization, organization_id)  # the same form sent twice at once: one meeting
        twin = _replayed(Meeting.site.is_null() & (Meeting.organization == organization_id), kind="amu",
                         held_on=held_on, created_by=actor.id, status="draft")
        if twin is not None:
            return twin
        meeting = Meeting.create(organization=organization_id, site=None, kind="amu", held_on=held_on, chair=actor,
                                 created_by=actor, topics=[])
        if previous is not None:
            for n, item in enumerate(AgendaItem.select().where((AgendaItem.meeting == previous)
                                                               & AgendaItem.carry_over).order_by(AgendaItem.position)):
                AgendaItem.create(meeting=meeting, position=n, source="carried", title=item.title,
                                  carried_from=item)
        audit.record(actor, "meeting.create", "meeting", meeting.id,
                     after={"organization": organization_id, "kind": "amu", "held_on": held_on.isoformat()})
    return meeting


# --- proposals ------------------------------------------------------------------------------------------

def _proposal_hash(site, user, text, photo_bytes):
    body = json.dumps([site.id, user.id, text, hashlib.sha256(photo_bytes or b"").hexdigest()])
    return hashlib.sha256(body.encode()).hexdigest()


def propose(store, site, user, proposal_uuid, when, text_raw, language, photo_bytes=None):
    """(proposal, created). Anyone on the site proposes an agenda item, in their language, with an optional
    photo (re-encoded by fieldapp/photos.py). Sent twice = saved once; the same UUID with other content is
    a conflict (409). MeetingError / PhotoError for bad input; nothing is saved then."""
    text = _text(text_raw, "text")
    digest = _proposal_hash(site, user, text, photo_bytes)
    existing = MeetingProposal.get_or_none(MeetingProposal.uuid == proposal_uuid)
    if existing is not None:
        if existing.payload_hash != digest:
            raise MeetingError("uuid_conflict")
        return existing, False
    photo = photos.process(photo_bytes) if photo_bytes else None
    if photo is not None:
        photos.save(store, photo)
    try:
        with database.atomic():
            row = MeetingProposal.create(uuid=proposal_uuid, payload_hash=digest, site=site, proposer=user, text=text,
                                         language=language or "nb", photo_digest=photo.digest if photo else None,
                                         created_at=when.recorded, received_at=when.received)
            audit.record(user, "meeting.propose", "meeting_proposal", row.id,
                         after={"site": site.id, "text": text, "photo": row.photo_digest})
        return row, True
    except IntegrityError:
        existing = MeetingProposal.get_or_none(MeetingProposal.uuid == proposal_uuid)
        if existing is None:
            raise
        if existing.payload_hash != digest:  # other content under the UUID saved a moment ago: as above, not a 500
            raise MeetingError("uuid_conflict") from None
        return existing, False


def my_proposals(site, user):
    """[(proposal, agenda item or None, meeting or None, decisions)]: what the meetings did with them. The
    answer shows once the minutes are approved."""
    out = []
    for proposal in (MeetingProposal.select().where((MeetingProposal.site == site) & (MeetingProposal.proposer == user))
                     .order_by(MeetingProposal.created_at.desc()).limit(50)):
        item = (AgendaItem.select(AgendaItem, Meeting).join(Meeting)
                .where(AgendaItem.proposal == proposal).order_by(AgendaItem.id.desc()).first())
        decisions = list(MeetingDecision.select().where(MeetingDecision.item == item)) if item else []
        out.append((proposal, item, item.meeting if item else None, decisions))
    return out


def proposal_photo(site, digest):
    return MeetingProposal.get_or_none((MeetingProposal.site == site) & (MeetingProposal.photo_digest == digest))


# --- the morning meeting --------------------------------------------------------------------------------

def checked_in_now(site):
    return list(User.select().join(CheckIn, on=(CheckIn.user == User.id))
                .where((CheckIn.site == site) & CheckIn.checked_out_at.is_null()).order_by(User.name))


def record_morning(actor, site, held_on_text, user_ids, topics, note_text):
    """A morning meeting (toolbox talk) in one post: who was there, topics from the short list, a note.
    Approved at once by the one who held it, who is recorded present with those ticked: minutes say who took part
    (see approve), and a morning meeting held when nobody had checked in had nobody at all."""
    held_on = _date(held_on_text, clock.today(site))
    if held_on > clock.today(site):  # approved at once, so only once it has been held (see approve)
        raise MeetingError("not_held_yet", field="held_on")
    bad = [t for t in topics if t not in kind_catalogue.MORNING_TOPICS]
    if bad:
        raise MeetingError("bad_topic", field="topics")
    note = _text(note_text, "note", required=False)
    members = {p.id: p for p in people_for(Meeting(site=site, organization=site.organization_id))}
    chosen = [members[actor.id]] if actor.id in members else []
    for raw in user_ids:
        person = members.get(whole_number(raw))
        if person is None:
            raise MeetingError("morning_person", field="people")
        if person not in chosen:  # a name ticked twice (people=4&people=4) is one person at the meeting
            chosen.append(person)
    with database.atomic():
        locked(Site, site.id)
        there = sorted(p.id for p in chosen)
        twin = _replayed(Meeting.site == site.id, lambda m: m.topics == sorted(set(topics)) and sorted(
            a.user_id for a in MeetingAttendance.select().where(MeetingAttendance.meeting == m)) == there,
            kind="morning", held_on=held_on, created_by=actor.id, note=note)
        if twin is not None:
            return twin  # the same morning meeting sent again (a double tap): recorded once
        now = utcnow()
        meeting = Meeting.create(organization=site.organization_id, site=site, kind="morning", held_on=held_on,
                                 chair=actor, created_by=actor, topics=sorted(set(topics)), note=note,
                                 status="approved", approved_at=now, approved_by=actor)
        for person in chosen:
            MeetingAttendance.create(meeting=meeting, user=person, name=person.name,
                                     side="employer" if person.role in ("manager", "foreman") else "workers")
        audit.record(actor, "meeting.morning", "meeting", meeting.id,
                     after={"held_on": held_on.isoformat(), "people": [p.id for p in chosen],
                            "topics": meeting.topics, "note": note})
    return meeting


# --- schedules ------------------------------------------------------------------------------------------

def due_for_home(memberships, language):
    """{site id: [(kind name, due date, overdue)]} for the sites where the person runs meetings (the home card);
    sites where they do not are left out. Three queries however many sites (tests/test_queries.py)."""
    sites = [m.site for m in memberships if m.role in roles_with("meetings.run")]
    if not sites:
        return {}
    names = {}
    for row in MeetingKind.select().where(MeetingKind.organization.in_({s.organization_id for s in sites})):
        names.setdefault(row.organization_id, []).append(row)
    due = _due_by_site(sites)
    out = {}
    for site in sites:
        kinds = kind_catalogue.kind_names(names.get(site.organization_id, []), language)
        out[site.id] = [(kinds.get(kind, (kind, ""))[0], day, overdue) for kind, day, overdue in due[site.id]]
    return out


def remind_due(remind_days=3):
    """Remind the foremen and managers of each active site of the meetings due within `remind_days` days or
    overdue, through the alerts inbox and push, each in their own language (see _to_inboxes: one reminder per
    site, kind and due date however often this runs). Returns the number of alerts made."""
    sites = list(Site.select().where(Site.active == True))  # noqa: E712
    if not sites:
        return 0
    leads = {}
    for site_id, user_id, role, language in (Membership.select(Membership.site, Membership.user, Membership.role,
                                                                User.language).join(User)
                                             .where(Membership.site.in_([s.id for s in sites])
                                                    & Membership.role.in_(roles_with("meetings.run"))).tuples()):
        leads.setdefault(site_id, []).append((user_id, role, language))
    intervals, last = _due_inputs(sites)

    def remind_site(site):
        made = 0
        today = clock.today(site)
        for kind, due, overdue in _due_rows(site, intervals, last):
            if due > today + timedelta(days=remind_days):
                continue

            def words(language, kind=kind, due=due, overdue=overdue, site=site):
                name = kinds_for(site.organization_id, language).get(kind, (kind, ""))[0]
                title = (_("%(kind)s is overdue since %(date)s", kind=name, date=clock.format_date(due)) if overdue
                         else _("Next %(kind)s by %(date)s", kind=name, date=clock.format_date(due)))
                return title, _("Open Meetings on the site to hold it; the agenda is ready.")

            # Keyed by the due date, which moves with today while the first meeting on a schedule is not held:
            # that one is keyed "first", so it is reminded once, not every day.
            when = due.isoformat() if (site.id, kind) in last else "first"
            made += _to_inboxes(None, site, f"fieldapp:meeting-due:{site.id}:{kind}:{when}", leads[site.id], words)
        return made

    # One site's unexpected error is logged and the others are still reminded (fieldapp/isolate.py); each
    # reminder is keyed, so what that site did make is not made again when the next run tries it.
    made, _failed = isolate.each("meeting reminders", [s for s in sites if s.id in leads], remind_site,
                                 atomic=False)
    return sum(made)


def _due_by_site(sites):
    """{site id: [(kind code, due date, overdue)]}: each site's schedules, else the built-in defaults, from the
    last meeting of each kind (today, the site's, when there was none). Two queries for any number of sites."""
    intervals, last = _due_inputs(sites)
    return {site.id: _due_rows(site, intervals, last) for site in sites}


def _due_inputs(sites):
    """({site id: {kind: (interval days, the site's own schedule?)}}, {(site id, kind): last held_on}) for the
    sites, the last held_on counting only meetings held (see held) by each site's today: a draft, or a meeting
    dated ahead, moves no due date. Two queries."""
    ids = [s.id for s in sites]
    defaults = {kind: (days, False) for kind, (_n, level, days) in kind_catalogue.BUILTIN.items()
                if level == "site" and days}
    intervals = {site_id: dict(defaults) for site_id in ids}
    for site_id, kind, days in (MeetingSchedule.select(MeetingSchedule.site, MeetingSchedule.kind,
                                                       MeetingSchedule.interval_days)
                                .where(MeetingSchedule.site.in_(ids)).tuples()):
        intervals[site_id][kind] = (days, True)
    by_day = {}
    for site in sites:  # a few distinct days at most (the sites' time zones), so a short OR
        try:
            day = clock.today(site)
        except (ZoneInfoNotFoundError, ValueError):  # a site's broken zone: _due_rows fails for that site alone, so
            continue  # remind_due goes on with the others (fieldapp/isolate.py)
        by_day.setdefault(day, []).append(site.id)
    if not by_day:
        return intervals, {}
    counted = functools.reduce(operator.or_, (Meeting.site.in_(day_ids) & held(day)
                                              for day, day_ids in by_day.items()))
    last = {(site_id, kind): held_on for site_id, kind, held_on in
            Meeting.select(Meeting.site, Meeting.kind, fn.MAX(Meeting.held_on))
            .where(counted).group_by(Meeting.site, Meeting.kind).tuples()}
    return intervals, last


def _due_rows(site, intervals, last):
    """[(kind code, due date, overdue)] of one site from _due_inputs' answer, on the site's clock. A kind with
    neither a schedule of the site's own nor a meeting held has no due date (unscheduled), so it has no row:
    a date counted from nothing would be invented (and reminded anew every day)."""
    today = clock.today(site)
    rows = []
    for kind, (days, own) in intervals[site.id].items():
        held = last.get((site.id, kind))
        if isinstance(held, str):  # SQLite gives MAX() of a date column back as text
            held = date.fromisoformat(held)
        if held is None and not own:
            continue
        try:
            day = held + timedelta(days=days) if held else today
        except OverflowError:  # a date near 9999-12-31 saved before plausible_date: due far away, never overdue
            day = date.max
        rows.append((kind, day, day < today))
    return rows


def due_meetings(site, today=None):
    """[(kind code, due date, overdue)] for the site: its schedules, else the built-in defaults (HMS meeting
    every 4 weeks) counted from the last meeting of the kind; a kind with neither has no row (see unscheduled).
    Overdue is counted from `today` when given, else from the site's today (clock.today)."""
    rows = _due_by_site([site])[site.id]
    if today is None:
        return rows
    return [(kind, day, day < today) for kind, day, _overdue in rows]


def unscheduled(site):
    """[(kind code, built-in interval in days)] of the site's regular kinds (those with a built-in rhythm) that have
    no schedule of the site's own and have never been held there: no date is due, and the page says so, and that
    the built-in rhythm counts from the first meeting held (then "next by" a date, with no schedule set). Two
    queries."""
    intervals, last = _due_inputs([site])
    return [(kind, days) for kind, (days, own) in intervals[site.id].items()
            if not own and (site.id, kind) not in last]


# --- the organization's settings: kinds, schedules, AMU members (a manager's page) ---------------------------

MAX_KIND_NAME = 120
MAX_INTERVAL_DAYS = 366


def kind_settings(organization_id, languages):
    """[(code, {language: name} given by the organization, level, built-in?, [languages without a name])] for
    the manager's page: the built-in kinds (their translated name stands where the organization gave none),
    then the organization's own."""
    own = {row.code: row for row in MeetingKind.select().where(MeetingKind.organization == organization_id)
           .order_by(MeetingKind.id)}
    out = []
    for code, (_name, level, _days) in kind_catalogue.BUILTIN.items():
        names = own[code].names if code in own else {}
        out.append((code, names, level, True, i18n.missing_languages(names, languages) if names else []))
    for code, row in own.items():
        if code not in kind_catalogue.BUILTIN:
            out.append((code, row.names, row.level, False, i18n.missing_languages(row.names, languages)))
    return out


def save_kind(actor, organization_id, code, names):
    """Rename a built-in kind or one of the organization's own (code given), or add a new site-level kind (code
    ""). names: {language code: text}; empty texts are dropped; for a built-in kind no text at all gives the
    built-in name back. MeetingError: kind_name (no name for a new kind, or one over MAX_KIND_NAME), bad_kind
    (a code that is neither built-in nor the organization's). Audited. Returns the code."""
    names = {lang: free_text(text) for lang, text in names.items() if free_text(text)}  # invisible-only: blank
    if any(len(text) > MAX_KIND_NAME for text in names.values()):
        raise MeetingError("kind_name", field="name_nb", n=MAX_KIND_NAME)
    row = MeetingKind.get_or_none((MeetingKind.organization == organization_id) & (MeetingKind.code == code)) \
        if code else None
    if code and row is None and code not in kind_catalogue.BUILTIN:
        raise MeetingError("bad_kind", field="kind")
    if not names and (not code or code not in kind_catalogue.BUILTIN):
        raise MeetingError("kind_name", field="name_nb", n=MAX_KIND_NAME)
    with database.atomic():
        if row is None and not names:
            return code  # a built-in kind with no name of its own: nothing to store
        before = {"names": row.names} if row is not None else None
        if row is None:
            code = code or "org-" + secrets.token_hex(4)
            level = kind_catalogue.BUILTIN[code][1] if code in kind_catalogue.BUILTIN else "site"
            row = MeetingKind.create(organization=organization_id, code=code, names=names, level=level)
        elif names:
            row.names = names
            row.save(only=[MeetingKind.names])
        else:
            row.delete_instance()
        audit.record(actor, "meeting.kind", "organization", organization_id, before,
                     {"code": code, "names": names})
    return code


def schedules(site, language):
    """[(kind code, kind name, interval days or None for the default, default interval or None)] of the site's
    site-level kinds except the morning meeting (held every day work goes on)."""
    own = dict(MeetingSchedule.select(MeetingSchedule.kind, MeetingSchedule.interval_days)
               .where(MeetingSchedule.site == site).tuples())
    return [(code, name, own.get(code), kind_catalogue.default_interval(code))
            for code, (name, level) in kinds_for(site.organization_id, language).items()
            if level == "site" and code != "morning"]


def set_schedule(actor, site, kind, days_text, language="nb"):
    """How often `kind` is due on the site: whole days 1..MAX_INTERVAL_DAYS, or "" for the default again.
    MeetingError: bad_kind, bad_interval. Audited."""
    names = kinds_for(site.organization_id, language)
    if kind not in names or names[kind][1] != "site" or kind == "morning":
        raise MeetingError("bad_kind", field="kind")
    text = (days_text or "").strip()
    days = whole_number(text) if text else None
    if text and days is None:
        raise MeetingError("bad_interval", field="interval_days", n=MAX_INTERVAL_DAYS)
    if days is not None and not 1 <= days <= MAX_INTERVAL_DAYS:
        raise MeetingError("bad_interval", field="interval_days", n=MAX_INTERVAL_DAYS)
    with database.atomic():
        query = MeetingSchedule.select().where((MeetingSchedule.site == site) & (MeetingSchedule.kind == kind))
        before = [row.interval_days for row in query]
        MeetingSchedule.delete().where((MeetingSchedule.site == site) & (MeetingSchedule.kind == kind)).execute()
        if days is not None:
            MeetingSchedule.create(organization=site.organization_id, site=site, kind=kind, interval_days=days)
        audit.record(actor, "meeting.schedule", "site", site.id, {"kind": kind, "interval_days": before[:1]},
                     {"kind": kind, "interval_days": days})
    return days


def amu_members(organization_id):
    """[AmuMember with .user] of the organization's AMU, by side, then name."""
    return list(AmuMember.select(AmuMember, User).join(User).where(AmuMember.organization == organization_id)
                .order_by(AmuMember.side, User.name))


def amu_candidates(organization_id):
    """[User]: the active people on the organization's sites or employed by it, by name (who may sit in its AMU)."""
    on_sites = (Membership.select(Membership.user).join(Site).where(Site.organization == organization_id))
    return list(User.select().where((User.active == True)  # noqa: E712
                                    & (User.id.in_(on_sites) | (User.employer == organization_id)))
                .order_by(User.name))


def set_amu_member(actor, organization_id, user_id, side):
    """Put a person in the organization's AMU on a side (AMU_SIDES: employer, workers), or move them to the
    other side (AML § 7-1: the AMU has the employer's and the employees' representatives). MeetingError:
    bad_side, amu_person (not one of amu_candidates, or in another organization's AMU). Audited."""
    if side not in AMU_SIDES:
        raise MeetingError("bad_side", field="side")
    user_id = whole_number(user_id)  # int() also took "٣" and "+3" as person 3
    if user_id is None or user_id not in {u.id for u in amu_candidates(organization_id)}:
        raise MeetingError("amu_person", field="user")
    with database.atomic():
        # Under the write lock (SQLite's writer lock; PostgreSQL's on the row, or a unique violation below): the
        # same person added from two phones at once is added once, not a 500 for the second.
        existing = AmuMember.get_or_none(AmuMember.user == user_id)
        if existing is not None and existing.organization_id != organization_id:
            raise MeetingError("amu_person", field="user")
        if existing is None:
            existing = AmuMember.create(organization=organization_id, user=user_id, side=side)
            before = None
        else:
            before = {"side": existing.side}
            existing.side = side
            existing.save(only=[AmuMember.side])
        audit.record(actor, "meeting.amu_member", "amu_member", existing.id, before, {"user": user_id, "side": side})
    return existing


def add_amu_member(actor, organization_id, user_id, side):
    """set_amu_member, where two requests adding the same person at once (PostgreSQL: both read none, one insert
    fails on the unique user) end with the person a member once: the second moves them to its side."""
    try:
        return set_amu_member(actor, organization_id, user_id, side)
    except IntegrityError:
        return set_amu_member(actor, organization_id, user_id, side)


def remove_amu_member(actor, organization_id, member_id):
    """Take a member out of the organization's AMU. False when there is no such member (the view: 404)."""
    row = AmuMember.get_or_none((AmuMember.id == member_id) & (AmuMember.organization == organization_id))
    if row is None:
        return False
    with database.atomic():
        audit.record(actor, "meeting.amu_member.remove", "amu_member", row.id, {"user": row.user_id,
                                                                                 "side": row.side}, None)
        row.delete_instance()
    return True


def due_meetings_of(sites, today=None):
    """{site id: [(kind code, due date, overdue)]} for many sites, as due_meetings gives for one (overdue from
    `today` when given, else from each site's today). Two queries whatever the number of sites."""
    due = _due_by_site(sites)
    if today is None:
        return due
    return {site_id: [(kind, day, day < today) for kind, day, _overdue in rows] for site_id, rows in due.items()}
