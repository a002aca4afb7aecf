"""Hazard and incident reports (RUH): saved once per UUID with all their photos or not at all; follow-up.

The reporter's content (kind, category, severity, text, place, photos) is never changed after it is
saved. Follow-up changes the report's current state (assignee, deadline, status, latest corrective
action) and appends a ReportEvent for each change, with an audit event in the same transaction.
"""
import hashlib
import json
import logging
from collections import namedtuple
from dataclasses import dataclass
from datetime import date, timedelta

from peewee import JOIN, IntegrityError, fn

from .. import audit, clock, photos
from ..alerts import service as alerts
from ..alerts import tasks as alert_tasks
from ..authz import can, roles_with
from ..db import ReusedSelect, database, replayed_since
from ..inputs import (InputError, file_name, free_text, has_visible_text, iso_date, iso_local_time, plausible_date,
                      whole_number)
from ..models import (REPORT_CATEGORIES, REPORT_KINDS, SEVERITIES, InjuryDetails, Membership, Photo, Report,
                      ReportEvent, User, utcnow)
from ..storage import StorageUnavailable

log = logging.getLogger(__name__)
MAX_PHOTOS = 6
MAX_DESCRIPTION = 1000
MAX_PLACE = 200
MAX_TEXT = 2000
MAX_ABSENCE_DAYS = 366
DEADLINE_YEARS_AHEAD = 2  # a follow-up's deadline: from today to this many years ahead
# Categories where a hazard or near miss is usually a risk of death or serious injury.
GRAVE_CATEGORIES = {"falls", "falling_objects", "electrical", "lifting", "vehicles_traffic", "fire"}


class ReportError(InputError):
    """Bad input or a rule that says no: `reason` picks the message (fieldapp.inputs); nothing was saved."""

    scope = "report"

    def __init__(self, reason, detail=None, field=None, **params):
        super().__init__(reason, field=field, **params)
        self.detail = detail


def default_severity(kind, category):
    if kind == "injury":
        return "high"
    if kind in ("hazard", "near_miss") and category in GRAVE_CATEGORIES:
        return "high"
    return "medium"


def _bool(value):
    return str(value or "").lower() in ("y", "yes", "on", "1", "true")


def clean_fields(form):
    """The reporter's fields, checked: (fields, injury or None). ReportError names the first problem."""
    kind = (form.get("kind") or "hazard").strip()
    category = (form.get("category") or "").strip()
    if kind not in REPORT_KINDS:
        raise ReportError("bad_kind", field="kind")
    if category not in REPORT_CATEGORIES:
        raise ReportError("no_category", field="category")
    severity = (form.get("severity") or "").strip() or default_severity(kind, category)
    if severity not in SEVERITIES:
        raise ReportError("bad_severity", field="severity")
    description = free_text(form.get("description"))
    place = free_text(form.get("place"))
    if len(description) > MAX_DESCRIPTION:
        raise ReportError("too_long", field="description", n=MAX_DESCRIPTION)
    if len(place) > MAX_PLACE:
        raise ReportError("place_too_long", field="place", n=MAX_PLACE)
    fields = dict(kind=kind, category=category, severity=severity, description=description, place=place)
    injury = None
    if kind == "injury":
        raw_days = (form.get("absence_days") or "").strip()
        days = whole_number(raw_days) if raw_days else None
        if raw_days and days is None:
            raise ReportError("bad_absence_days", field="absence_days", n=MAX_ABSENCE_DAYS)
        if days is not None and not 0 <= days <= MAX_ABSENCE_DAYS:
            raise ReportError("bad_absence_days", field="absence_days", n=MAX_ABSENCE_DAYS)
        notes = free_text(form.get("injury_notes"))
        if len(notes) > MAX_DESCRIPTION:
            raise ReportError("too_long", field="injury_notes", n=MAX_DESCRIPTION)
        injury = dict(absence_beyond_day=_bool(form.get("absence_beyond_day")) or bool(days),
                      absence_days=days, medical_treatment=_bool(form.get("medical_treatment")),
                      serious=_bool(form.get("serious")), notes=notes)
    return fields, injury


@dataclass(frozen=True)
class Upload:
    """One chosen photo: its file name on the phone, its bytes, and why it was refused while reading, if so."""

    name: str
    data: bytes
    problem: str | None = None  # a photos.PhotoError reason (too_big, empty_file)


def read_uploads(files):
    """[Upload] for the uploaded photos (empty file inputs skipped); ReportError("too_many_photos").

    A photo over the size cap is not read further and carries its problem instead: one bad photo
    never sinks a report (issue 13).
    """
    uploads = [f for f in files if f and (f.filename or f.content_length)]
    if len(uploads) > MAX_PHOTOS:
        raise ReportError("too_many_photos", n=MAX_PHOTOS)
    read = []
    for position, upload in enumerate(uploads, 1):
        name = file_name(upload.filename, 80) or f"{position}.jpg"
        try:
            read.append(Upload(name, photos.read_limited(upload.stream)))
        except photos.PhotoError as exc:
            read.append(Upload(name, b"", exc.reason))
    return read


def _as_uploads(blobs):
    """Bytes (the demo data, older callers) or Upload -> [Upload]."""
    return [b if isinstance(b, Upload) else Upload(f"{i}.jpg", b) for i, b in enumerate(blobs, 1)]


def payload_hash(site, user, fields, injury, blobs):
    """What makes two sends of one UUID "the same report": the content, not when it arrived."""
    blobs = [b if isinstance(b, bytes) else (b.data or f"{b.problem}:{b.name}".encode()) for b in blobs]
    body = json.dumps([site.id, user.id, fields, injury, [hashlib.sha256(b).hexdigest() for b in blobs]],
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _existing(report_uuid, digest):
    existing = Report.get_or_none(Report.uuid == report_uuid)
    if existing is None:
        return None
    if existing.payload_hash != digest:
        raise ReportError("uuid_conflict")
    return existing


def create_report(store, site, user, report_uuid, when, fields, injury, blobs):
    """(report, created). `blobs`: [Upload] or [bytes]. Photos are processed before the transaction;
    rows are written in one.

    when: a phone_time.PhoneTime: happened_at is its recorded time; the phone's claim and the receipt are kept.
    A photo that cannot be used (not an image, damaged, too large, too many pixels, or over what the request
    may still spend decoding: "budget", checked in order before each photo is decoded) is left out and the
    report saved with the rest; each one left out is a "photo_dropped" timeline entry with the photo's
    number, name and the PhotoError reason (issue 13: one bad photo never sinks a report).
    """
    uploads = _as_uploads(blobs)
    if not uploads and not has_visible_text(fields["description"]):
        raise ReportError("empty")
    digest = payload_hash(site, user, fields, injury, uploads)
    existing = _existing(report_uuid, digest)
    if existing is not None:
        return existing, False
    processed, dropped = [], []
    budget = photos.Budget()  # issue 14: the request's photos together, not only each one, stay within 2 s
    for number, upload in enumerate(uploads, 1):
        try:
            if upload.problem:
                raise photos.PhotoError(upload.problem)
            processed.append(photos.process(upload.data, budget=budget))
        except photos.PhotoError as exc:
            dropped.append({"n": number, "name": upload.name, "reason": exc.reason})
    written = [p.digest for p in processed if not store.exists(p.digest)]
    try:
        for item in processed:
            photos.save(store, item)
        with database.atomic():
            report = Report.create(uuid=report_uuid, payload_hash=digest, site=site, reporter=user,
                                   happened_at=when.recorded, phone_at=when.claimed, received_at=when.received,
                                   **fields)
            seen = set()
            for position, item in enumerate(processed):
                if item.digest in seen:  # the same photo chosen twice
                    continue
                seen.add(item.digest)
                Photo.create(report=report, digest=item.digest, width=item.width, height=item.height,
                             position=position, added_by=user)
            if injury is not None:
                InjuryDetails.create(report=report, **injury)
            ReportEvent.create(report=report, actor=user, kind="created", at=report.received_at)
            for problem in dropped:
                ReportEvent.create(report=report, actor=user, kind="photo_dropped", at=report.received_at,
                                   data=problem)
            audit.record(user, "report.create", "report", report.id,
                         after={**fields, "photos": sorted(seen), "site": site.id,
                                "injury": bool(injury), "dropped_photos": dropped})
            # In the report's transaction (issue 13): no crash can keep the report and lose its alert.
            alert = alerts.report_created(report, serious=bool(injury and injury.get("serious")))
        if alert is not None:
            alert_tasks.deliver_soon(alert.id)  # after commit; if this is lost, the minutely sweep sends it
        return report, True
    except IntegrityError:
        # Another request with the same UUID won the race: answer as for a resend.
        _forget_unused(store, written)
        existing = _existing(report_uuid, digest)
        if existing is None:
            raise
        return existing, False
    except BaseException:
        _forget_unused(store, written)
        raise


def dropped_photos(report):
    """[{"n": 1-based number in the upload, "name": file name, "reason": PhotoError reason}] of a report."""
    events = (ReportEvent.select(ReportEvent.data)
              .where((ReportEvent.report == report) & (ReportEvent.kind == "photo_dropped"))
              .order_by(ReportEvent.id))
    return [e.data for e in events]


def _forget_unused(store, digests):
    """Remove photos (and thumbnails) this request wrote to `store` when no saved row refers to them."""
    for digest in digests:
        if not Photo.select().where(Photo.digest == digest).exists():
            try:
                store.delete(digest)
            except StorageUnavailable as exc:  # an unused file left behind harms nobody; the error goes on
                log.warning("could not remove the unused photo %s: %s", digest, exc)


# --- reading ---------------------------------------------------------------------------------------

def can_see(membership, report):
    """With reports.read_all (staff) every report on their site; else their own and those assigned to them."""
    if report.site_id != membership.site_id:
        return False
    return can("reports.read_all", membership) or membership.user_id in (report.reporter_id, report.assignee_id)


def get_visible(membership, report_id):
    report = (Report.select(Report, User).join(User, on=(Report.reporter == User.id))
              .where((Report.id == report_id) & (Report.site == membership.site_id)).first())
    if report is None or not can_see(membership, report):
        return None
    return report


STATUS_FILTERS = ("active", "open", "in_progress", "closed", "overdue", "all")


def list_reports(membership, status="active", kind=None, category=None, severity=None, limit=200, today=None):
    today = today or clock.today()  # the request's site, else the default zone (fieldapp/clock.py)
    Assignee = User.alias()
    query = (Report.select(Report, User, Assignee)
             .join(User, on=(Report.reporter == User.id))
             .switch(Report).join(Assignee, JOIN.LEFT_OUTER, on=(Report.assignee == Assignee.id))
             .where(Report.site == membership.site_id))
    if not can("reports.read_all", membership):
        query = query.where((Report.reporter == membership.user_id) | (Report.assignee == membership.user_id))
    if status == "active":
        query = query.where(Report.status != "closed")
    elif status == "overdue":
        query = query.where((Report.status != "closed") & (Report.deadline < today))
    elif status in ("open", "in_progress", "closed"):
        query = query.where(Report.status == status)
    if kind in REPORT_KINDS:
        query = query.where(Report.kind == kind)
    if category in REPORT_CATEGORIES:
        query = query.where(Report.category == category)
    if severity in SEVERITIES:
        query = query.where(Report.severity == severity)
    rows = list(query.order_by(Report.happened_at.desc()).limit(limit))
    for row in rows:
        row.assignee_user = getattr(row, "assignee", None) if row.assignee_id else None
    _attach_first_photos(rows)
    return rows


def _attach_first_photos(rows):
    """Each row's first photo (for the list's thumbnail) in one query."""
    ids = [row.id for row in rows]
    first = {}
    if ids:
        for photo in (Photo.select().where(Photo.report.in_(ids) & (Photo.after == False))  # noqa: E712
                      .order_by(Photo.report, Photo.position)):
            first.setdefault(photo.report_id, photo)
    for row in rows:
        row.first_photo = first.get(row.id)


def _active_counts_query(user_id, today):
    return (Report.select(Report.site, fn.COUNT(Report.id), fn.SUM((Report.deadline < today).cast("integer")))
            .join(Membership, on=(Membership.site == Report.site))
            .where((Membership.user == user_id) & Membership.role.in_(roles_with("reports.read_all"))
                   & (Report.status != "closed"))
            .group_by(Report.site))


def _assigned_counts_query(user_id):
    return (Report.select(Report.site, fn.COUNT(Report.id))
            .where((Report.assignee == user_id) & (Report.status != "closed"))
            .group_by(Report.site))


def _closed_untold_query(user_id):
    return (Report.select(Report.id, Report.site, Report.happened_at)
            .where((Report.reporter == user_id) & (Report.status == "closed") & Report.reporter_told_at.is_null())
            .order_by(Report.closed_at.desc(), Report.id.desc()))


# Every home screen runs these three: their SQL is built once per process (db.ReusedSelect).
_ACTIVE_COUNTS = ReusedSelect(_active_counts_query, [(Membership.user, -7_000_000_004),
                                                     (Report.deadline, date(1901, 2, 3))])
_ASSIGNED_COUNTS = ReusedSelect(_assigned_counts_query, [(Report.assignee, -7_000_000_005)])
_CLOSED_UNTOLD = ReusedSelect(_closed_untold_query, [(Report.reporter, -7_000_000_006)])

ClosedReport = namedtuple("ClosedReport", "id site_id happened_at")


def counts_for_home(user_id, today=None):
    """{site id: {"active": n, "overdue": n, "assigned": n}} for the home screen, in two queries.

    "active" and "overdue" count on the sites where the person is staff; "assigned" on every site.
    today: a date, by default today in the default time zone (all sites' days, one query).
    """
    today = today or clock.today()
    out = {}
    for site_id, active, late in _ACTIVE_COUNTS.rows(user_id, today):
        out.setdefault(site_id, {"active": 0, "overdue": 0, "assigned": 0}).update(active=active, overdue=late or 0)
    for site_id, assigned in _ASSIGNED_COUNTS.rows(user_id):
        out.setdefault(site_id, {"active": 0, "overdue": 0, "assigned": 0})["assigned"] = assigned
    return out


def closed_untold(user):
    """The person's reports closed since they last looked, as ClosedReport(id, site_id, happened_at), the
    latest closed first: the home screen tells them."""
    return [ClosedReport._make(row) for row in _CLOSED_UNTOLD.rows(user.id)]


def mark_told(report, user):
    if report.reporter_id == user.id and report.status == "closed" and report.reporter_told_at is None:
        Report.update(reporter_told_at=utcnow()).where(Report.id == report.id).execute()


def timeline(report):
    Actor = User.alias()
    return list(ReportEvent.select(ReportEvent, Actor).join(Actor, JOIN.LEFT_OUTER,
                                                            on=(ReportEvent.actor == Actor.id))
                .where(ReportEvent.report == report).order_by(ReportEvent.at, ReportEvent.id))


def injury_details(report):
    """The injury report's details (InjuryDetails), or None for another kind or none recorded."""
    return InjuryDetails.get_or_none(InjuryDetails.report == report)


def report_photos(report):
    return list(Photo.select().where(Photo.report == report).order_by(Photo.after, Photo.position, Photo.id))


def photo_for(membership, report_id, digest):
    """The photo row if the person may see the report it belongs to."""
    report = get_visible(membership, report_id)
    if report is None:
        return None
    return Photo.get_or_none((Photo.report == report) & (Photo.digest == digest))


def assignable_people(site):
    return list(User.select(User, Membership.role).join(Membership)
                .where((Membership.site == site) & (User.active == True))  # noqa: E712
                .order_by(User.name).objects())


# --- follow-up ---------------------------------------------------------------------------------------

def _event(report, actor, kind, text="", **data):
    ReportEvent.create(report=report, actor=actor, kind=kind, text=text, data=data)


def _clean_text(text, required=True):
    text = free_text(text)
    if required and not text:
        raise ReportError("text_required", field="text")
    if len(text) > MAX_TEXT:
        raise ReportError("too_long", field="text", n=MAX_TEXT)
    return text


def assign(actor, report, assignee_id, deadline_text, today=None):
    """Give the report to a person on its site (assignee_id, a form's text) by a deadline (an ISO date from
    today on, or empty for none); the report is then in progress. True when changed, False when it was assigned
    so already. ReportError: bad_assignee, bad_date, bad_deadline (fields "assignee", "deadline"), closed (409;
    also when a close is made at the same moment)."""
    today = today or clock.today(report.site)
    assignee_id = whole_number(assignee_id)
    if assignee_id is None:
        raise ReportError("bad_assignee", field="assignee")
    if not Membership.select().where((Membership.site == report.site_id) & (Membership.user == assignee_id)).exists():
        raise ReportError("bad_assignee", field="assignee")
    deadline = None
    if deadline_text:
        try:
            deadline = iso_date(deadline_text)
        except ValueError:  # not a date at all (2026-02-30): "from today on" would not say what is wrong
            raise ReportError("bad_date", field="deadline") from None
        if deadline < today:
            raise ReportError("bad_deadline", field="deadline")
        plausible_date(deadline, today, "deadline", 0, DEADLINE_YEARS_AHEAD, ReportError)  # not 9999-12-31
    if report.status == "closed":
        raise ReportError("closed")
    with database.atomic():
        # Under the row's lock, read again: a close sent at the same moment is either done (and this is refused)
        # or waits for this; assigning wrote "in_progress" over a close that had just been made.
        if not _lock_status(report, "open"):
            raise ReportError("closed")
        if (report.assignee_id, report.deadline, report.status) == (assignee_id, deadline, "in_progress"):
            return False  # the same assignment sent again (a double tap, a form sent twice): nothing changes
        before = audit.snapshot(report, ("assignee", "deadline", "status"))
        report.assignee = assignee_id
        report.deadline = deadline
        report.status = "in_progress"
        report.save(only=[Report.assignee, Report.deadline, Report.status])
        _event(report, actor, "assigned", assignee=assignee_id, deadline=deadline)
        audit.record(actor, "report.assign", "report", report.id, before,
                     audit.snapshot(report, ("assignee", "deadline", "status")))
    return True


def comment(actor, report, text, form_uuid=None):
    """Add a comment to the report's timeline: True when added now, False when this comment was saved already.

    form_uuid: the comment form's UUID (uuid.UUID, made with the page; None from a client without one). A form sent
    again, however late (the answer lost on the way, the person went back and sent it again), is the comment
    saved under that UUID on this report; the same UUID with other words or from another person is
    ReportError "comment_conflict" (409): the page then gives a fresh form; two forms (two UUIDs) with the same
    words are two comments. Without a UUID, the same text by the same person on this report within
    db.REPLAY_SECONDS is the comment saved (a double tap).
    ReportError "text_required" / "too_long" (field "text").
    """
    text = _clean_text(text)
    key = None if form_uuid is None else str(form_uuid)
    with database.atomic():
        _lock_status(report, "any")  # the row's write lock: two copies sent at once see each other
        if key is not None:
            for actor_id, saved_text, data in (ReportEvent.select(ReportEvent.actor, ReportEvent.text, ReportEvent.data)
                                               .where((ReportEvent.report == report) & (ReportEvent.kind == "comment"))
                                               .tuples()):
                if data.get("uuid") == key:
                    if actor_id == actor.id and saved_text == text:
                        return False
                    raise ReportError("comment_conflict", field="text")
        else:  # no UUID: a second comment with the same words by the same person within the window is a resend
            since = replayed_since()
            twin = (ReportEvent.select(ReportEvent.id)
                    .where((ReportEvent.report == report) & (ReportEvent.actor == actor)
                           & (ReportEvent.kind == "comment") & (ReportEvent.text == text) & (ReportEvent.at >= since))
                    .exists())
            if twin:
                return False
        _event(report, actor, "comment", text, **({} if key is None else {"uuid": key}))
        audit.record(actor, "report.comment", "report", report.id, after={"text": text})
    return True


def set_action(actor, report, text):
    """The report's corrective action (free text, required): True when changed, False when it was this already.
    ReportError: text_required, too_long (field "text"), closed (409)."""
    text = _clean_text(text)
    if report.status == "closed":
        raise ReportError("closed")
    with database.atomic():
        if not _lock_status(report, "open"):  # closed meanwhile: a closed report's action stays as it was closed
            raise ReportError("closed")
        if report.corrective_action == text:
            return False  # the same action sent again: nothing changes, nothing is added to the timeline
        before = {"corrective_action": report.corrective_action}
        report.corrective_action = text
        report.save(only=[Report.corrective_action])
        _event(report, actor, "action", text)
        audit.record(actor, "report.action", "report", report.id, before, {"corrective_action": text})
    return True


def add_after_photo(store, actor, report, upload):
    if upload is None or not (upload.filename or upload.content_length):
        raise ReportError("no_photo")
    processed = photos.process(photos.read_limited(upload.stream))
    new_file = not store.exists(processed.digest)
    photos.save(store, processed)
    try:
        with database.atomic():
            position = Photo.select().where(Photo.report == report).count()
            photo, created = Photo.get_or_create(report=report, digest=processed.digest, after=True,
                                                 defaults=dict(width=processed.width, height=processed.height,
                                                               position=position, added_by=actor))
            if created:
                _event(report, actor, "after_photo", digest=processed.digest)
                audit.record(actor, "report.after_photo", "report", report.id, after={"photo": processed.digest})
    except BaseException:
        if new_file:
            _forget_unused(store, [processed.digest])
        raise
    return photo


def _lock_status(report, wanted):
    """Inside a transaction, as its first statement: take the report row's write lock (SQLite's writer lock,
    PostgreSQL's row lock) if its status is `wanted` ("open": any status but "closed"; "any"), and read the
    row again under it. False when the status is no longer that: a second close or reopen sent at the same
    moment (another person, another phone) then finds the first one done, and records nothing twice."""
    where = Report.id == report.id
    if wanted != "any":
        where &= (Report.status == "closed") if wanted == "closed" else (Report.status != "closed")
    if not Report.update(status=Report.status).where(where).execute():
        return False
    fresh = Report.get_by_id(report.id)
    for name in ("status", "corrective_action", "assignee_id", "deadline", "closed_at", "reporter_told_at"):
        setattr(report, name, getattr(fresh, name))
    return True


def _closed_already(report, action_text):
    """False for a close of a report that is closed already with this corrective action (or none given: a resend
    of the same close); ReportError "closed" (409) for another action, which would otherwise be lost unsaid."""
    if action_text and action_text != report.corrective_action:
        raise ReportError("closed")
    return False


def close(actor, report, action_text):
    """Close the report with its corrective action (the text given, or the one saved). True when closed now,
    False when it was closed already (by this request sent twice, or by someone else meanwhile: nothing is
    recorded again). ReportError "action_required" (field "text") when there is no corrective action; "closed"
    (409) when it was closed already with another corrective action than the one sent (that one is not saved:
    the person is told, and reopens the report to change it)."""
    action_text = _clean_text(action_text, required=False)
    if report.status == "closed":
        return _closed_already(report, action_text)
    if not action_text and not report.corrective_action:
        raise ReportError("action_required", field="text")
    with database.atomic():
        if not _lock_status(report, "open"):
            return _closed_already(Report.get_by_id(report.id), action_text)
        if not action_text and not report.corrective_action:
            raise ReportError("action_required", field="text")
        before = audit.snapshot(report, ("status", "corrective_action"))
        if action_text and action_text != report.corrective_action:
            report.corrective_action = action_text
            _event(report, actor, "action", action_text)
        report.status = "closed"
        report.closed_at = utcnow()
        report.reporter_told_at = utcnow() if actor.id == report.reporter_id else None
        report.save(only=[Report.status, Report.closed_at, Report.corrective_action, Report.reporter_told_at])
        _event(report, actor, "closed")
        audit.record(actor, "report.close", "report", report.id, before,
                     audit.snapshot(report, ("status", "corrective_action")))
        # In the closing transaction (issue 13): the reporter's alert is saved with the closing or not at all.
        alert = alerts.report_closed(report) if actor.id != report.reporter_id else None
    if alert is not None:
        alert_tasks.deliver_soon(alert.id)  # after commit; if this is lost, the minutely sweep sends it
    return True


def reopen(actor, report, text):
    """Reopen a closed report, saying why. ReportError "not_closed" (409) when it is not closed (any more: a
    reopen sent at the same moment as another is recorded once)."""
    text = _clean_text(text)
    if report.status != "closed":
        raise ReportError("not_closed")
    with database.atomic():
        if not _lock_status(report, "closed"):
            raise ReportError("not_closed")
        report.status = "in_progress" if report.assignee_id else "open"
        report.closed_at = None
        report.reporter_told_at = None
        report.save(only=[Report.status, Report.closed_at, Report.reporter_told_at])
        _event(report, actor, "reopened", text)
        audit.record(actor, "report.reopen", "report", report.id, {"status": "closed"},
                     {"status": report.status, "why": text})


# How far ahead of the server a time typed by a manager may be (a notification time, not a phone's record:
# phones' times are never refused, see fieldapp/phone_time.py).
CLOCK_SKEW = timedelta(minutes=5)


def record_notification(actor, report, authority, at_text):
    """AML § 5-2: when the employer notified Arbeidstilsynet or the police of a serious injury.

    at_text: what <input type="datetime-local"> sent, on the site's wall clock. ReportError, checked first and named
    after the authority's field ("at-police"): bad_notified_at (no time), notified_out_of_range (before the day of
    the injury, or more than CLOCK_SKEW ahead: 0001-01-01 overflowed in the conversion to UTC, a 500). Then
    bad_authority, not_injury. True when recorded now, False when this time was recorded already."""
    field = f"at-{authority}" if authority in ("arbeidstilsynet", "police") else None  # else told above the page
    try:
        typed = iso_local_time(at_text)
    except ValueError:
        raise ReportError("bad_notified_at", field=field) from None
    site = report.site
    if not clock.local(report.happened_at, site).date() <= typed.date() <= clock.today(site) + timedelta(days=1):
        raise ReportError("notified_out_of_range", field=field)
    when = clock.to_utc(typed, site)
    if when > clock.utcnow() + CLOCK_SKEW:
        raise ReportError("notified_out_of_range", field=field)
    if authority not in ("arbeidstilsynet", "police"):
        raise ReportError("bad_authority")
    if InjuryDetails.get_or_none(InjuryDetails.report == report) is None:
        raise ReportError("not_injury")
    field = f"{authority}_notified_at"
    with database.atomic():
        _lock_status(report, "any")  # the row's lock: the same notification sent twice at once is recorded once
        details = InjuryDetails.get(InjuryDetails.report == report)
        if getattr(details, field) == when:
            return False  # recorded so already (a form sent again): no second timeline entry
        before = {field: getattr(details, field).isoformat() if getattr(details, field) else None}
        setattr(details, field, when)
        details.save(only=[getattr(InjuryDetails, field)])
        _event(report, actor, "notified", authority=authority, at=when.isoformat())
        audit.record(actor, "report.notified", "report", report.id, before, {field: when.isoformat()})
    return True
