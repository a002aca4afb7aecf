"""Competence records and what they mean on a site: adding, approving, requirements, the gate and the matrix.

A record's expiry (`expires_on`) is the last day it is valid; "today" is the site's day (fieldapp/clock.py), so
a certificate valid through 5 March is still valid at 23:59 on 5 March in Oslo, whatever the server's zone.
"""
import calendar
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import get_locale
from peewee import IntegrityError, fn

from .. import audit, clock, photos
from ..db import ReusedSelect, database, locked
from ..i18n import localized
from ..inputs import InputError, free_text, iso_date, plausible_date, whole_number
from ..models import (CertificatePhoto, CourseType, Membership, Organization, PersonTask, Site, SiteRequirement,
                      TrainingRecord, User, utcnow)
from .courses import BUILTIN, BY_KEY, TASKS, builtin_validity

MAX_ISSUER = 200
MAX_NUMBER = 80
MAX_YEARS_TAKEN = 60  # a course taken longer ago than a working life is a typing error
MAX_YEARS_VALID = 50  # an expiry further ahead than this is too
MAX_REASON = 1000
MAX_VALIDITY_MONTHS = 600
MAX_NAME = 120
SIDES = ("front", "back")
# The statuses of a person against a requirement, from best to worst (the matrix's filter and colours).
STATUSES = ("valid", "expires_90", "expires_60", "expires_30", "waiting", "expired", "missing")
EXPIRING = ((30, "expires_30"), (60, "expires_60"), (90, "expires_90"))


class CompetenceError(InputError):
    """Bad input or a rule that says no: `reason` picks the message (fieldapp/inputs.py); nothing was saved."""

    scope = "competence"


def org_of(user):
    """The organization responsible for a person's competence: their employer, else the account's owner."""
    return user.employer_id or user.organization_id


# --- course types -----------------------------------------------------------------------------------------

@dataclass
class CourseView:
    key: str
    name: str
    validity_months: int | None
    builtin: bool
    rule: str = ""


def catalogue(organization_id, language=None):
    """Every course type an organization can use: the built-in ones, then its own. [CourseView]."""
    language = language or str(get_locale() or "nb")
    out = [CourseView(c.key, str(c.name), builtin_validity(c), True, str(c.rule)) for c in BUILTIN]
    own = CourseType.select().where(CourseType.organization == organization_id).order_by(CourseType.id)
    out += [CourseView(t.key, localized(t.names, language), t.validity_months, False) for t in own]
    return out


def course_names(organization_id, language=None):
    """{course key: name in the current language (or `language`)} for an organization's catalogue."""
    return {c.key: c.name for c in catalogue(organization_id, language)}


def add_course_type(actor, organization_id, names, validity):
    """An organization's own course type. names: {code: text} (at least one); validity: text of whole months
    or "" for no expiry. The same names and validity as one the organization has is that one (a form sent
    twice makes one course type). CompetenceError("course_name_required" | "bad_validity")."""
    names = {code: text for code, text in ((code, free_text(raw)) for code, raw in names.items()) if text}
    if not names or any(len(text) > MAX_NAME for text in names.values()):
        raise CompetenceError("course_name_required", field="name_nb")
    months = _months(validity)
    with database.atomic():
        locked(Organization, organization_id)  # the same form sent twice at once: the second finds the first
        for same in CourseType.select().where(CourseType.organization == organization_id):
            if same.names == names and same.validity_months == months:
                return same  # this course type exists already (a form sent again): not a second one
        course = CourseType.create(organization=organization_id, key="org-" + secrets.token_hex(6), names=names,
                                   validity_months=months)
        audit.record(actor, "competence.course_type.create", "course_type", course.id,
                     after={"names": names, "validity_months": months})
    return course


def _months(text):
    text = (text or "").strip()
    if not text:
        return None
    months = whole_number(text)
    if months is None or not 1 <= months <= MAX_VALIDITY_MONTHS:
        raise CompetenceError("bad_validity", field="validity_months", n=MAX_VALIDITY_MONTHS)
    return months


def add_months(day, months):
    """The same day `months` later (31 Jan + 1 month = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def computed_expiry(course, taken_on):
    """The last valid day of a course taken on `taken_on`: taken_on + validity months, or None (no expiry)."""
    if course.validity_months is None:
        return None
    return add_months(taken_on, course.validity_months)


# --- reading the form -------------------------------------------------------------------------------------

def parse_date(text, field_name):
    """A date from an ISO text (the date input) or DD.MM.YYYY (Norwegian); CompetenceError("bad_date")."""
    text = (text or "").strip()
    for parse in (iso_date, _norwegian_date):
        try:
            return parse(text)
        except ValueError:
            continue
    raise CompetenceError("bad_date", field=field_name)


NORWEGIAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def _norwegian_date(text):
    """DD.MM.YYYY in ASCII digits (int() alone also read "０１", "1_0" and "+1"); ValueError otherwise."""
    found = NORWEGIAN_DATE.fullmatch(text)
    if not found:
        raise ValueError(text)
    day, month, year = (int(part) for part in found.groups())
    return date(year, month, day)


def record_fields(organization_id, form, today):
    """A record's fields from a form (or a CSV row as a dict) -> dict, or CompetenceError.

    Rules: the course type must be in the organization's catalogue; the date taken is required and not after
    `today` (the site's day); an expiry given overrides the computed one and may not be before the date taken.
    """
    courses = {c.key: c for c in catalogue(organization_id)}
    course = courses.get((form.get("course") or "").strip())
    if course is None:
        raise CompetenceError("unknown_course", field="course")
    if not (form.get("taken_on") or "").strip():
        raise CompetenceError("date_required", field="taken_on")
    taken_on = parse_date(form.get("taken_on"), "taken_on")
    if taken_on > today:
        raise CompetenceError("taken_in_future", field="taken_on")
    plausible_date(taken_on, today, "taken_on", MAX_YEARS_TAKEN, 0, CompetenceError)
    given = (form.get("expires_on") or "").strip()
    expires_on = parse_date(given, "expires_on") if given else computed_expiry(course, taken_on)
    if given:
        plausible_date(expires_on, today, "expires_on", MAX_YEARS_TAKEN, MAX_YEARS_VALID, CompetenceError)
    if expires_on is not None and expires_on < taken_on:
        raise CompetenceError("expiry_before_taken", field="expires_on")
    issuer = free_text(form.get("issuer"))
    number = (form.get("certificate_number") or "").strip()
    if len(issuer) > MAX_ISSUER:
        raise CompetenceError("too_long", field="issuer", n=MAX_ISSUER)
    if len(number) > MAX_NUMBER:
        raise CompetenceError("too_long", field="certificate_number", n=MAX_NUMBER)
    return dict(course=course.key, taken_on=taken_on, expires_on=expires_on, expiry_overridden=bool(given),
                issuer=issuer, certificate_number=number,
                verneombud_may_see=(form.get("verneombud_may_see") or "") == "y")


def _payload_hash(user, fields, blobs):
    body = json.dumps([user.id, {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in fields.items()},
                       {side: hashlib.sha256(data).hexdigest() for side, data in sorted(blobs.items())}],
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def read_photos(files):
    """{side: bytes} of the uploaded front and back photos (empty inputs skipped); PhotoError for a bad one."""
    out = {}
    for side in SIDES:
        upload = files.get("photo_" + side)
        if upload and (upload.filename or upload.content_length):
            out[side] = photos.read_limited(upload.stream)
    return out


# --- a worker's own records ----------------------------------------------------------------------------------

def add_own_record(user, record_uuid, fields, blobs, store, phone_at=None):
    """A person adds their own certificate from the phone: "pending" until approved. Returns (record, created).

    record_uuid: made on the phone (a resend returns the first record, created False; the same UUID with other
    content, or another person's, is CompetenceError("uuid_conflict"), 409). blobs: {side: bytes}; each is
    re-encoded by the photo pipeline before anything is written (PhotoError: nothing saved).
    """
    digest = _payload_hash(user, fields, blobs)
    existing = TrainingRecord.get_or_none(TrainingRecord.uuid == record_uuid)
    if existing is not None:
        if existing.user_id != user.id or existing.payload_hash != digest:
            raise CompetenceError("uuid_conflict")
        return existing, False
    budget = photos.Budget()
    processed = {side: photos.process(data, budget=budget) for side, data in blobs.items()}
    for item in processed.values():
        photos.save(store, item)
    try:
        with database.atomic():
            record = TrainingRecord.create(uuid=record_uuid, payload_hash=digest, user=user, status="pending",
                                           created_by=user, phone_at=phone_at, **fields)
            for side, item in processed.items():
                CertificatePhoto.create(record=record, side=side, digest=item.digest, width=item.width,
                                        height=item.height)
            audit.record(user, "competence.record.create", "training_record", record.id,
                         after=audit.snapshot(record, ("course", "taken_on", "expires_on", "status"))
                         | {"photos": sorted(processed)})
    except IntegrityError:
        existing = TrainingRecord.get_or_none(TrainingRecord.uuid == record_uuid)
        if existing is None:
            raise
        if existing.user_id != user.id or existing.payload_hash != digest:
            raise CompetenceError("uuid_conflict") from None
        return existing, False
    return record, True


def own_records(user):
    """The person's records, newest first, with their photos' sides (record.sides)."""
    records = list(TrainingRecord.select().where(TrainingRecord.user == user)
                   .order_by(TrainingRecord.taken_on.desc(), TrainingRecord.id.desc()))
    sides = {}
    for record_id, side in (CertificatePhoto.select(CertificatePhoto.record, CertificatePhoto.side)
                            .where(CertificatePhoto.record.in_([r.id for r in records])).tuples()):
        sides.setdefault(record_id, []).append(side)
    for r in records:
        r.sides = sorted(sides.get(r.id, []))
    return records


def set_photo_consent(user, record_id, allowed):
    """The person changes whether the verneombud of their sites may see the photos of their own certificate
    (issue 19: their consent, default no, changed whenever they like). Returns the record, or None when it is
    not theirs (the view answers 404). Audited when it changes."""
    record = TrainingRecord.get_or_none((TrainingRecord.id == record_id) & (TrainingRecord.user == user))
    if record is None:
        return None
    allowed = bool(allowed)
    if record.verneombud_may_see != allowed:
        with database.atomic():
            TrainingRecord.update(verneombud_may_see=allowed).where(TrainingRecord.id == record.id).execute()
            audit.record(user, "competence.record.consent", "training_record", record.id,
                         {"verneombud_may_see": record.verneombud_may_see}, {"verneombud_may_see": allowed})
        record.verneombud_may_see = allowed
    return record


# --- a foreman or manager enters a record for a person -----------------------------------------------------------

def add_record_for(actor, site, user_id, record_uuid, fields):
    """A foreman or manager enters a certificate they have checked for a person on the site of their own
    organization: approved at once (AML § 2-1: the employer checks the competence), audited; their own
    certificate waits for another lead of their employer, as a worker's own does, unless there is none
    (may_decide). Returns
    (record, created); a resend of the same UUID and content is (the first record, False).
    fields: record_fields(); the verneombud's view of photos stays the person's choice (no photos here).
    CompetenceError: not_your_org (403) for a person of another organization or not on the site,
    uuid_conflict (409)."""
    person = (User.select().join(Membership, on=(Membership.user == User.id))
              .where((Membership.site == site) & (User.id == user_id)).first())
    if person is None or org_of(person) != org_of(actor):
        raise CompetenceError("not_your_org")
    fields = {**fields, "verneombud_may_see": False}
    digest = _payload_hash(person, fields, {})
    existing = TrainingRecord.get_or_none(TrainingRecord.uuid == record_uuid)
    if existing is not None:
        if existing.user_id != person.id or existing.payload_hash != digest:
            raise CompetenceError("uuid_conflict")
        return existing, False
    try:
        with database.atomic():
            now = utcnow()
            decided = (dict(status="approved", decided_by=actor, decided_at=now) if may_decide(actor, person)
                       else dict(status="pending"))
            record = TrainingRecord.create(uuid=record_uuid, payload_hash=digest, user=person, created_by=actor,
                                           **decided, **fields)
            audit.record(actor, "competence.record.enter", "training_record", record.id,
                         after=audit.snapshot(record, ("course", "taken_on", "expires_on", "status"))
                         | {"user": person.id, "site": site.id})
    except IntegrityError:
        existing = TrainingRecord.get_or_none(TrainingRecord.uuid == record_uuid)
        if existing is None or existing.user_id != person.id or existing.payload_hash != digest:
            raise CompetenceError("uuid_conflict") from None
        return existing, False
    return record, True


# --- approval ------------------------------------------------------------------------------------------------

def _site_record(site, record_id):
    """The record of a person on `site`, or None (another site's person: the view answers 404)."""
    return (TrainingRecord.select(TrainingRecord, User).join(User)
            .where((TrainingRecord.id == record_id)
                   & TrainingRecord.user.in_(Membership.select(Membership.user).where(Membership.site == site)))
            .first())


def may_decide(actor, person):
    """Whether `actor` may approve or reject `person`'s records, given a foreman or manager role on a site where
    the person is (the view checks it): only their own employer's (AML § 2-1: the employer checks the
    competence of its own workers). Their own records: another lead of their employer decides them; only where
    the employer has no other lead (a one-person company: the person is the employer) does the person."""
    org = org_of(actor)
    if org is None or org != org_of(person):
        return False
    return actor.id != person.id or not _another_lead(actor, org)


def _another_lead(person, org):
    """Whether someone else of organization `org` (by employer, else account) is a foreman or manager on a site."""
    return (User.select(User.id).join(Membership, on=(Membership.user == User.id))
            .where((User.id != person.id) & Membership.role.in_(("foreman", "manager"))
                   & ((User.employer == org) | (User.employer.is_null() & (User.organization == org))))
            .exists())


def _mark_approvers(actor, records):
    """Set on each record .may_decide (bool, see may_decide) and .approver (the name of the organization whose
    foreman or manager may decide it). One query for the organizations' names."""
    orgs = {org_of(r.user) for r in records} - {None}
    names = dict(Organization.select(Organization.id, Organization.name)
                 .where(Organization.id.in_(list(orgs))).tuples()) if orgs else {}
    for r in records:
        r.may_decide = may_decide(actor, r.user)
        r.approver = names.get(org_of(r.user), "")


def pending_for(actor, site):
    """Every record waiting for approval of the site's people, those the actor may decide first, then the
    oldest first. Each has .sides (photo sides the actor may see, front first), .may_decide and .approver
    (_mark_approvers): the others are listed so that everyone sees who must approve them."""
    records = list(TrainingRecord.select(TrainingRecord, User).join(User)
                   .where((TrainingRecord.status == "pending")
                          & TrainingRecord.user.in_(Membership.select(Membership.user)
                                                    .where(Membership.site == site)))
                   .order_by(TrainingRecord.created_at, TrainingRecord.id))
    _mark_approvers(actor, records)
    records.sort(key=lambda r: not r.may_decide)  # stable: the oldest first within each group
    sides = {}
    for record_id, side in (CertificatePhoto.select(CertificatePhoto.record, CertificatePhoto.side)
                            .where(CertificatePhoto.record.in_([r.id for r in records if r.may_decide])).tuples()):
        sides.setdefault(record_id, []).append(side)
    for r in records:
        r.sides = sorted(sides.get(r.id, []), reverse=True)  # front first
    return records


def decide(actor, site, record_id, approve, reason=""):
    """Approve or reject a pending record (AML § 2-1: the employer checks the competence).

    Only a foreman or manager of the person's own organization (the view checks the role on the site):
    CompetenceError("not_your_org") 403; nobody decides their own record while their employer has another lead:
    "own_record" 403 (may_decide). Rejection needs a reason ("reason_required"); a decided record is
    "not_pending" (409). Returns the record; None when it is not a record of someone on the site (404).
    """
    record = _site_record(site, record_id)
    if record is None:
        return None
    if not may_decide(actor, record.user):
        raise CompetenceError("own_record" if record.user_id == actor.id else "not_your_org")
    reason = free_text(reason)
    if not approve and not reason:
        raise CompetenceError("reason_required", field="reason")
    if len(reason) > MAX_REASON:
        raise CompetenceError("too_long", field="reason", n=MAX_REASON)
    status = "approved" if approve else "rejected"
    with database.atomic():
        updated = (TrainingRecord.update(status=status, reject_reason=reason, decided_by=actor, decided_at=utcnow())
                   .where((TrainingRecord.id == record.id) & (TrainingRecord.status == "pending")).execute())
        if not updated:
            raise CompetenceError("not_pending")
        audit.record(actor, "competence.record." + ("approve" if approve else "reject"), "training_record",
                     record.id, before={"status": "pending"}, after={"status": status, "reason": reason})
    return TrainingRecord.get_by_id(record.id)


# --- photos: who may see them --------------------------------------------------------------------------------

def photo_for(viewer, membership, record_id, side):
    """The CertificatePhoto a viewer may see, or None (404).

    Seen by the person themselves, by foremen and managers of the person's organization, and by the
    verneombud of the site when the person agreed (record.verneombud_may_see, default no).
    membership: the viewer's on the URL's site (None for the person's own page).
    """
    photo = (CertificatePhoto.select(CertificatePhoto, TrainingRecord, User)
             .join(TrainingRecord).join(User)
             .where((CertificatePhoto.record == record_id) & (CertificatePhoto.side == side)).first())
    if photo is None:
        return None
    record = photo.record
    if record.user_id == viewer.id:
        return photo
    if membership is None or not Membership.select().where(
            (Membership.site == membership.site_id) & (Membership.user == record.user_id)).exists():
        return None
    return photo if may_see_photos(viewer, membership, record.user, record) else None


def may_see_photos(viewer, membership, person, record):
    """The rule for a certificate's photos, for a viewer whose membership is on a site where `person` is."""
    if person.id == viewer.id:
        return True
    if membership.role in ("foreman", "manager") and org_of(viewer) == org_of(person):
        return True
    return membership.role == "verneombud" and record.verneombud_may_see


def person_competence(viewer, membership, user_id):
    """A member's page on the site: (person, records with .sides (only the photos the viewer may see),
    .may_decide and .approver (_mark_approvers), {tasks}), or (None, [], set()) when the person is not on
    the site."""
    person, tasks = tasks_of(membership.site_id, user_id)
    if person is None:
        return None, [], set()
    records = own_records(person)
    for record in records:
        record.user = person
        if not may_see_photos(viewer, membership, person, record):
            record.sides = []
    _mark_approvers(viewer, records)  # .may_decide: the template also asks can("competence.approve")
    return person, records, tasks


# --- requirements and tasks ------------------------------------------------------------------------------------

def requirements(site):
    return list(SiteRequirement.select().where(SiteRequirement.site == site)
                .order_by(SiteRequirement.task, SiteRequirement.id))


def add_requirement(actor, site, course_key, task, blocks):
    """The site requires `course_key` of everyone (task "") or of those given `task`. blocks: None for the
    course's default (an expired HMS card warns). CompetenceError unknown_course, bad_task, requirement_exists."""
    if course_key not in course_names(site.organization_id):
        raise CompetenceError("unknown_course", field="course")
    task = (task or "").strip()
    if task and task not in TASKS:
        raise CompetenceError("bad_task", field="task")
    if blocks is None:
        blocks = BY_KEY[course_key].blocks if course_key in BY_KEY else True
    try:
        with database.atomic():
            requirement = SiteRequirement.create(site=site, course=course_key, task=task, blocks=blocks)
            audit.record(actor, "competence.requirement.create", "site_requirement", requirement.id,
                         after={"site": site.id, "course": course_key, "task": task, "blocks": blocks})
    except IntegrityError:
        raise CompetenceError("requirement_exists") from None
    return requirement


def remove_requirement(actor, site, requirement_id):
    with database.atomic():
        requirement = SiteRequirement.get_or_none((SiteRequirement.id == requirement_id)
                                                  & (SiteRequirement.site == site))
        if requirement is None:
            return False
        requirement.delete_instance()
        audit.record(actor, "competence.requirement.remove", "site_requirement", requirement_id,
                     before={"course": requirement.course, "task": requirement.task})
    return True


def tasks_of(site, user_id):
    """(the member, {their tasks on the site}), or (None, set()) when the person is not on the site."""
    person = (User.select().join(Membership, on=(Membership.user == User.id))
              .where((Membership.site == site) & (User.id == user_id)).first())
    if person is None:
        return None, set()
    return person, {t for (t,) in PersonTask.select(PersonTask.task)
                    .where((PersonTask.site == site) & (PersonTask.user == user_id)).tuples()}


def set_tasks(actor, site, user_id, tasks):
    """The tasks a member of the site is given there (replacing the earlier ones). False: not a member."""
    if any(task not in TASKS for task in tasks):
        raise CompetenceError("bad_task", field="task")
    if not Membership.select().where((Membership.site == site) & (Membership.user == user_id)).exists():
        return False
    with database.atomic():
        before = sorted(t for (t,) in PersonTask.select(PersonTask.task)
                        .where((PersonTask.site == site) & (PersonTask.user == user_id)).tuples())
        PersonTask.delete().where((PersonTask.site == site) & (PersonTask.user == user_id)).execute()
        for task in sorted(set(tasks)):
            PersonTask.create(site=site, user=user_id, task=task)
        audit.record(actor, "competence.tasks.set", "user", user_id, before={"site": site.id, "tasks": before},
                     after={"site": site.id, "tasks": sorted(set(tasks))})
    return True


# --- status: a person against a requirement ---------------------------------------------------------------

def status_of(approved_expiry, has_approved, has_pending, today):
    """One person's status for one course type.

    approved_expiry: the latest expiry of their approved records (date.max for one without expiry).
    """
    if has_approved and approved_expiry >= today:
        days = (approved_expiry - today).days
        return next((status for limit, status in EXPIRING if days <= limit), "valid")
    if has_pending:
        return "waiting"
    return "expired" if has_approved else "missing"


@dataclass
class Standing:
    """What one query learned about people's records for some course types."""

    best: dict = field(default_factory=dict)  # (user id, course) -> latest approved expiry (date.max: none)
    pending: set = field(default_factory=set)  # {(user id, course)}


def standing(user_ids_query, courses, hms_cards=None, site=None):
    """Standing of the people (a subquery of user ids; or, with `site`, the site's members) for the course
    keys. One query.

    hms_cards: {user id: (card number, expiry)} from User: a card registered on the person counts as an
    approved HMS card record (the check-in has always read it there).
    """
    result = Standing()
    if not courses:
        return result
    query = TrainingRecord.select(TrainingRecord.user, TrainingRecord.course, TrainingRecord.status,
                                  fn.MAX(fn.COALESCE(TrainingRecord.expires_on, date.max)))
    if site is not None:
        # From the site's members to their records (the (user, course) index), never across every record.
        query = (query.join(Membership, on=(Membership.user == TrainingRecord.user))
                 .where(Membership.site == site))
    else:
        query = query.where(TrainingRecord.user.in_(user_ids_query))
    query = (query.where(TrainingRecord.course.in_(list(courses)) & (TrainingRecord.status != "rejected"))
             .group_by(TrainingRecord.user, TrainingRecord.course, TrainingRecord.status).tuples())
    for user_id, course, status, expiry in query:
        if status == "pending":
            result.pending.add((user_id, course))
        else:
            if isinstance(expiry, str):
                expiry = date.fromisoformat(expiry)
            result.best[(user_id, course)] = expiry
    for user_id, (number, expiry) in (hms_cards or {}).items():
        if number and "hms_card" in courses:
            card = expiry or date.max
            result.best[(user_id, "hms_card")] = max(card, result.best.get((user_id, "hms_card"), date.min))
    return result


def person_status(standing_, user_id, course, today):
    key = (user_id, course)
    return status_of(standing_.best.get(key, date.min), key in standing_.best, key in standing_.pending, today)


def applies(requirement, tasks):
    return not requirement.task or requirement.task in tasks


# --- the check at the gate ------------------------------------------------------------------------------------

@dataclass
class GateProblem:
    requirement: SiteRequirement
    course_name: str
    status: str  # "missing", "expired" or "waiting"
    blocks: bool
    task_name: str = ""


def gate(site, user):
    """What the person lacks for the site's requirements that apply to them: [GateProblem], blocking first.

    Missing, expired or waiting for approval all count as lacking; `blocks` is the requirement's choice.
    """
    reqs = requirements(site)
    if not reqs:
        return []
    tasks = {t for (t,) in PersonTask.select(PersonTask.task)
             .where((PersonTask.site == site) & (PersonTask.user == user.id)).tuples()}
    mine = [r for r in reqs if applies(r, tasks)]
    known = standing(User.select(User.id).where(User.id == user.id), {r.course for r in mine},
                     {user.id: (user.hms_card_number, user.hms_card_expiry)})
    today = clock.today(site)
    names = course_names(site.organization_id)
    problems = []
    for r in mine:
        status = person_status(known, user.id, r.course, today)
        if status in ("missing", "expired", "waiting"):
            problems.append(GateProblem(r, names.get(r.course, r.course), status, r.blocks,
                                        str(TASKS.get(r.task, "")) if r.task else ""))
    problems.sort(key=lambda p: (not p.blocks, p.course_name))
    return problems


def check_gate(site, user):
    """Raise CompetenceError("blocks_check_in") (409) when a blocking requirement is not met; else the problems."""
    problems = gate(site, user)
    blocking = [p.course_name for p in problems if p.blocks]
    if blocking:
        raise CompetenceError("blocks_check_in", what=", ".join(blocking))
    return problems


# Whether the site requires any course: asked by every poll of the on-site list, SQL built once (db.ReusedSelect).
_ANY_REQUIREMENT = ReusedSelect(
    lambda site_id: SiteRequirement.select(SiteRequirement.id).where(SiteRequirement.site == site_id).limit(1),
    [(SiteRequirement.site, -7_000_000_006)])


def flags_for(site, user_ids):
    """{user id: [course name]} of what each listed person lacks on the site (the foreman's on-site list)."""
    user_ids = [u for u in user_ids if u is not None]
    if not user_ids:
        return {}
    if not _ANY_REQUIREMENT.rows(site.id):  # nothing is required on the site, so nobody lacks anything
        return {}
    m = matrix(site, user_ids=user_ids)
    out = {}
    for row in m.rows:
        lacking = [m.names[r.course] for r, status in zip(m.requirements, row.cells)
                   if status in ("missing", "expired", "waiting")]
        if lacking:
            out[row.user.id] = lacking
    return out


# --- the matrix -------------------------------------------------------------------------------------------------

@dataclass
class MatrixRow:
    user: User
    role: str
    tasks: list
    cells: list  # status per requirement, or None where it does not apply


@dataclass
class Matrix:
    requirements: list
    names: dict
    rows: list
    today: date
    counts: dict
    page: int = 1
    pages: int = 1


PAGE_SIZE = 200  # people per page of the matrix (the files hold everyone)


def matrix(site, status=None, task=None, user_ids=None, page=None):
    """People of the site x its requirements: a status per cell (STATUSES), None where a requirement does not
    apply to the person. Filters: status (rows with at least one such cell), task (people given it).
    page: 1-based page of PAGE_SIZE people (None: everyone, for the files); a page past the end is the last.
    counts: cells per status of the people shown. A fixed number of queries whatever the number of
    people (requirements, course types, members, tasks, records)."""
    reqs = requirements(site)
    names = course_names(site.organization_id)
    members = (Membership.select(Membership.role, User.id, User.name, User.hms_card_number, User.hms_card_expiry,
                                 User.phone)
               .join(User).where(Membership.site == site).order_by(User.name))
    if user_ids is not None:
        members = members.where(User.id.in_(user_ids))
    members = list(members.objects())
    tasks = {}
    for user_id, name in (PersonTask.select(PersonTask.user, PersonTask.task)
                          .where(PersonTask.site == site).tuples()):
        tasks.setdefault(user_id, set()).add(name)
    if task:
        members = [m for m in members if task in tasks.get(m.id, ())]
    pages = max(1, -(-len(members) // PAGE_SIZE))
    if page is not None:
        page = min(max(1, page), pages)
        if not status:  # the page's people only: their records are all the page needs
            members = members[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    cards = {m.id: (m.hms_card_number, m.hms_card_expiry) for m in members}
    courses = {r.course for r in reqs}
    if len(members) <= PAGE_SIZE:
        known = standing(User.select(User.id).where(User.id.in_(list(cards))), courses, cards)
    else:
        known = standing(None, courses, cards, site=site)
    today = clock.today(site)
    rows = []
    counts = dict.fromkeys(STATUSES, 0)
    everyone = [r for r in reqs if not r.task]
    for m in members:
        mine = tasks.get(m.id, set())
        # Per person and course once (several requirements may name the same course for different tasks).
        status_by_course = {r.course: person_status(known, m.id, r.course, today)
                            for r in (reqs if mine else everyone)}
        cells = [status_by_course[r.course] if (not r.task or r.task in mine) else None for r in reqs]
        if status and status not in cells:
            continue
        for cell in cells:
            if cell:
                counts[cell] += 1
        user = User(id=m.id, name=m.name, phone=m.phone)
        rows.append(MatrixRow(user, m.role, sorted(mine), cells))
    if page is None:
        return Matrix(reqs, names, rows, today, counts)
    if status:  # the filter is known only once every person's cells are: page after it
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        page = min(page, pages)
        rows = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return Matrix(reqs, names, rows, today, counts, page, pages)


def expiring_for_manager(user, days=30):
    """Approved records expiring in the next `days` days (each site's own today) of people on the sites the
    user manages: [(site, person's name, course name, expires_on)], soonest first, at most 100.
    Three queries whatever the number of sites (the records, their sites, the organizations' course types)."""
    managed = Membership.select(Membership.site).where((Membership.user == user) & (Membership.role == "manager"))
    around = clock.today()  # the window is a day wider each way: each site's day is taken below
    rows = list(TrainingRecord.select(TrainingRecord.course, TrainingRecord.expires_on, User.name, Membership.site)
                .join(User).switch(TrainingRecord)
                .join(Membership, on=(Membership.user == TrainingRecord.user))
                .where(Membership.site.in_(managed) & (TrainingRecord.status == "approved")
                       & TrainingRecord.expires_on.between(around - timedelta(days=1),
                                                           around + timedelta(days=days + 1)))
                .order_by(TrainingRecord.expires_on).limit(100).tuples())
    if not rows:
        return []
    sites = {site.id: site for site in Site.select().where(Site.id.in_({row[3] for row in rows}))}
    language = str(get_locale() or "nb")
    names = {c.key: str(c.name) for c in BUILTIN}
    for course in CourseType.select().where(CourseType.organization.in_({s.organization_id for s in sites.values()})):
        names[course.key] = localized(course.names, language)
    out = []
    for course, expires_on, name, site_id in rows:
        if isinstance(expires_on, str):
            expires_on = date.fromisoformat(expires_on)
        today = clock.today(sites[site_id])
        if today <= expires_on <= today + timedelta(days=days):
            out.append((sites[site_id], name, names.get(course, course), expires_on))
    return out


def matrix_counts(sites):
    """{site id: {status: cells}} for many sites: the same counts as matrix(site).counts for each (everyone on
    the site, no filter), in four queries whatever the number of sites (requirements, members, tasks,
    records), for pages that sum the matrix over an organization (fieldapp/duties)."""
    ids = [s.id for s in sites]
    out = {site_id: dict.fromkeys(STATUSES, 0) for site_id in ids}
    reqs = {}
    for row in (SiteRequirement.select().where(SiteRequirement.site.in_(ids))
                .order_by(SiteRequirement.task, SiteRequirement.id)):
        reqs.setdefault(row.site_id, []).append(row)
    if not reqs:
        return out
    members = list(Membership.select(Membership.site, User.id, User.hms_card_number, User.hms_card_expiry)
                   .join(User).where(Membership.site.in_(list(reqs))).tuples())
    tasks = {}
    for site_id, user_id, name in (PersonTask.select(PersonTask.site, PersonTask.user, PersonTask.task)
                                   .where(PersonTask.site.in_(list(reqs))).tuples()):
        tasks.setdefault((site_id, user_id), set()).add(name)
    cards = {user_id: (number, expiry) for _s, user_id, number, expiry in members}
    courses = {r.course for rows in reqs.values() for r in rows}
    known = standing(User.select(User.id).where(User.id.in_(list(cards))), courses, cards)
    today = {site.id: clock.today(site) for site in sites}
    for site_id, user_id, _number, _expiry in members:
        mine = tasks.get((site_id, user_id), set())
        counts = out[site_id]
        seen = {}
        for r in reqs[site_id]:
            if r.task and r.task not in mine:
                continue
            if r.course not in seen:
                seen[r.course] = person_status(known, user_id, r.course, today[site_id])
            counts[seen[r.course]] += 1
    return out
