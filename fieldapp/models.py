"""Every peewee model: the records are one graph, so they live in one module."""

import functools
import json
from datetime import time

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    TimeField,
    UUIDField,
)

from .clock import utcnow  # noqa: F401  (the one clock; imported from here by many modules)
from .db import database

ROLES = ("worker", "foreman", "verneombud", "manager")


class JSONField(TextField):
    """A JSON value in a text column: lists and dicts in Python, json.dumps(value) in the database.

    The text is what the code wrote by hand before (json.dumps with the same arguments), so rows written
    either way read alike and no migration is needed. Empty text (a column's old default) reads as None.
    dumps: the serializer (e.g. json.dumps with default=str for dates).
    """

    def __init__(self, *args, dumps=json.dumps, **kwargs):
        self.dumps = dumps
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        return None if value is None else self.dumps(value)

    def python_value(self, value):
        return json.loads(value) if value else None


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Organization(BaseModel):
    """An employer (arbeidsgiver), main contractor or subcontractor."""

    name = CharField(max_length=200)
    org_number = CharField(max_length=9, unique=True)  # Brønnøysund, mod-11 checked
    created_at = DateTimeField(default=utcnow)


class User(BaseModel):
    name = CharField(max_length=200)
    phone = CharField(max_length=20, unique=True)  # normalised, +47 for 8-digit numbers
    email = CharField(max_length=254, null=True)
    language = CharField(max_length=5, default="nb")
    # When the person confirmed `language` (first sign-in or the profile); null: the next sign-in asks.
    language_confirmed_at = DateTimeField(null=True)
    employer = ForeignKeyField(Organization, backref="employees", null=True, on_delete="RESTRICT")
    # The organization whose account this is: the one that created it (the site's, when a person is added
    # to a site). Only its managers may issue the person a sign-in code or change their name and card
    # (authz.may_manage_person); other organizations invite. The employer may be a subcontractor.
    organization = ForeignKeyField(Organization, backref="people", null=True, on_delete="RESTRICT")
    hms_card_number = CharField(max_length=40, null=True)
    hms_card_expiry = DateField(null=True)
    # Byggherreforskriften § 15 (issue 24): shown only on the attendance list (page, CSV, PDF), never elsewhere.
    date_of_birth = DateField(null=True)
    # A hired-in worker's staffing agency (innleievirksomhet), beside the employer they work for.
    staffing_agency = ForeignKeyField(Organization, null=True, backref="+", on_delete="SET NULL")
    # Hired in through a staffing agency (ticked where the person is added): the § 15 list then needs the agency.
    hired_in = BooleanField(default=False)
    # Null until the person has chosen a PIN or password through an enrollment code.
    password_hash = CharField(max_length=255, null=True)
    # The employer's HMS lead: may create sites for their organization.
    is_org_admin = BooleanField(default=False)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    @property
    def enrolled(self):
        return self.password_hash is not None

    def save(self, *args, **kwargs):
        # An account made without an owning organization (the CLI's first admin, demo data) belongs to
        # its employer: never to nobody, or nobody could ever give the person a new code.
        if self.organization_id is None and self.employer_id is not None and self._pk is None:
            self.organization_id = self.employer_id
        return super().save(*args, **kwargs)


class Site(BaseModel):
    """A building site (byggeplass)."""

    organization = ForeignKeyField(Organization, backref="sites", on_delete="RESTRICT")
    name = CharField(max_length=200)
    address = CharField(max_length=300)
    project_number = CharField(max_length=50, null=True)
    client_name = CharField(max_length=200, null=True)  # byggherre
    qr_token = CharField(max_length=64, unique=True)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    # Open check-ins are closed at this local time (in time_zone) by a periodic task.
    day_ends_at = TimeField(default=time(18, 0))
    # IANA name of the site's wall clock (fieldapp/clock.py); null: the BABEL_DEFAULT_TIMEZONE setting.
    time_zone = CharField(max_length=64, null=True)
    guests_allowed = BooleanField(default=False)
    # When the building work ended: the attendance list is kept six months after (byggherreforskriften § 15).
    closed_on = DateField(null=True)


class Membership(BaseModel):
    """A person's one role on one site."""

    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    site = ForeignKeyField(Site, backref="memberships", on_delete="CASCADE")
    role = CharField(max_length=20, choices=[(r, r) for r in ROLES])
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "site"), True),)


class Invitation(BaseModel):
    """A person of another organization asked onto a site; the membership exists only once they accept."""

    user = ForeignKeyField(User, backref="invitations", on_delete="CASCADE")
    site = ForeignKeyField(Site, backref="invitations", on_delete="CASCADE")
    role = CharField(max_length=20, choices=[(r, r) for r in ROLES])
    invited_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "site"), True),)


class DeviceSession(BaseModel):
    """A signed-in device; the cookie carries only a random token whose hash is stored here."""

    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, backref="device_sessions", on_delete="CASCADE")
    user_agent = CharField(max_length=300, default="")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)


class EnrollmentCode(BaseModel):
    """A single-use, expiring code with which a person sets their PIN or password on their phone."""

    code_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, backref="enrollment_codes", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


class LoginThrottle(BaseModel):
    """Failed attempts per key (a phone number or a client address), shared by all processes."""

    key = CharField(max_length=120, unique=True)
    failures = IntegerField(default=0)
    window_started_at = DateTimeField(default=utcnow)


class AuditEvent(BaseModel):
    """Append-only log; each row carries the hash of the row before it."""

    at = DateTimeField(default=utcnow, index=True)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    action = CharField(max_length=80)
    record_type = CharField(max_length=40)
    record_id = CharField(max_length=64)
    before = TextField(null=True)
    after = TextField(null=True)
    # Unique: two writers that read the same head cannot both append, so the chain never forks.
    prev_hash = CharField(max_length=64, unique=True)
    hash = CharField(max_length=64, unique=True)


class Equipment(BaseModel):
    """Protective equipment: the built-in catalogue (names translated in code) and custom items."""

    key = CharField(max_length=40, unique=True)
    builtin = BooleanField(default=False)
    organization = ForeignKeyField(Organization, null=True, backref="equipment", on_delete="CASCADE")
    # Custom items only: {language code: name}, read with fieldapp/i18n.py localized() (built-in items are
    # named in the catalogues). A new language needs no migration.
    names = JSONField(default=dict, dumps=functools.partial(json.dumps, ensure_ascii=False))
    sort_order = IntegerField(default=100)


class SiteEquipment(BaseModel):
    """What a site requires everyone to wear."""

    site = ForeignKeyField(Site, backref="required_equipment", on_delete="CASCADE")
    equipment = ForeignKeyField(Equipment, backref="+", on_delete="CASCADE")

    class Meta:
        indexes = ((("site", "equipment"), True),)


class CheckIn(BaseModel):
    """Someone on a site from checked_in_at to checked_out_at: the attendance list is derived from it."""

    uuid = UUIDField(unique=True)  # made on the phone: a resend is a no-op
    site = ForeignKeyField(Site, backref="checkins", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="checkins", null=True, on_delete="CASCADE")  # null: a visitor
    checked_in_at = DateTimeField(index=True)  # the recorded time (fieldapp/phone_time.py): may be sent later
    received_at = DateTimeField(default=utcnow)
    checked_out_at = DateTimeField(null=True)  # recorded, as checked_in_at
    checkout_uuid = UUIDField(null=True, unique=True)
    auto_closed = BooleanField(default=False)
    confirmed = JSONField(default=list)  # equipment keys worn
    missing = JSONField(default=list)  # required keys the person did not have
    # As they were at check-in (the list must show what was true that day).
    name = CharField(max_length=200)
    employer_name = CharField(max_length=200, null=True)
    employer_org_number = CharField(max_length=9, null=True)
    hms_card_number = CharField(max_length=40, null=True)
    hms_card_expiry = DateField(null=True)
    is_guest = BooleanField(default=False)
    # What the phone's clock said (a claim, kept beside the receipt; None when the phone sent none).
    phone_in_at = DateTimeField(null=True)
    phone_out_at = DateTimeField(null=True)
    out_received_at = DateTimeField(null=True)  # when the server got the check-out


# One open check-in per person, enforced by the database (migrations/002_checkin.py made it; SQLite and
# PostgreSQL both have partial indexes). Declared here so that the models say what the schema holds.
CheckIn.add_index(CheckIn.index(CheckIn.user, unique=True, where=CheckIn.checked_out_at.is_null(),
                                name="check_in_one_open_per_person"))


class FollowUp(BaseModel):
    """Something the employer must act on, e.g. equipment a worker did not have at check-in."""

    site = ForeignKeyField(Site, backref="follow_ups", on_delete="CASCADE")
    kind = CharField(max_length=40)
    check_in = ForeignKeyField(CheckIn, null=True, backref="follow_ups", on_delete="CASCADE")
    detail = JSONField(default="")  # missing_equipment: the keys; "" (None when read) for none
    created_at = DateTimeField(default=utcnow)
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


# --- hazard and incident reports (RUH) ---------------------------------------------------------------

REPORT_KINDS = ("hazard", "near_miss", "injury", "property_damage", "environment")
REPORT_CATEGORIES = ("falls", "falling_objects", "electrical", "machines_tools", "vehicles_traffic", "lifting",
                     "chemicals_dust", "fire", "order_tidiness", "protective_equipment", "other")
SEVERITIES = ("low", "medium", "high")
REPORT_STATUSES = ("open", "in_progress", "closed")


class Report(BaseModel):
    """A report of a hazard, near miss, injury, damage or spill. What the reporter sent never changes;
    follow-up (assignment, deadline, status) is current state here and history in ReportEvent."""

    uuid = UUIDField(unique=True)  # made on the phone: a resend is a no-op
    payload_hash = CharField(max_length=64)  # the same UUID with other content is a conflict (409)
    site = ForeignKeyField(Site, backref="reports", on_delete="CASCADE")
    reporter = ForeignKeyField(User, backref="reports", on_delete="RESTRICT")
    kind = CharField(max_length=20)
    category = CharField(max_length=30)
    severity = CharField(max_length=10)
    description = TextField(default="")
    place = CharField(max_length=200, default="")
    happened_at = DateTimeField(index=True)  # when it was reported: the recorded time (fieldapp/phone_time.py)
    received_at = DateTimeField(default=utcnow)
    status = CharField(max_length=20, default="open", index=True)
    assignee = ForeignKeyField(User, null=True, backref="assigned_reports", on_delete="SET NULL")
    deadline = DateField(null=True)
    corrective_action = TextField(default="")  # the latest; every version is in the timeline
    closed_at = DateTimeField(null=True)
    # The reporter has seen that it was closed (the home screen tells them until then).
    reporter_told_at = DateTimeField(null=True)
    phone_at = DateTimeField(null=True)  # what the phone's clock said when it was made (a claim)


class InjuryDetails(BaseModel):
    """Medical details of an injury: shown to managers only (AML § 5-1)."""

    report = ForeignKeyField(Report, unique=True, backref="injury", on_delete="CASCADE")
    absence_beyond_day = BooleanField(default=False)  # absence beyond the day of injury (H1)
    absence_days = IntegerField(null=True)
    medical_treatment = BooleanField(default=False)
    serious = BooleanField(default=False)  # AML § 5-2: notify Arbeidstilsynet and the police at once
    notes = TextField(default="")
    arbeidstilsynet_notified_at = DateTimeField(null=True)
    police_notified_at = DateTimeField(null=True)
    # Issue 20 (HMS statistics, migrations/015_stats.py): what the injury cost, recorded by a manager.
    alternative_work = BooleanField(default=False)  # moved to other work instead of absence (counts in H2)
    fatal = BooleanField(default=False)  # counts as a lost-time injury
    returned_on = DateField(null=True)  # the date the person was back at work
    absence_hours = FloatField(null=True)  # absence in hours, for a lost-time threshold other than a day


class Photo(BaseModel):
    """A stored photo (named by the hash of its re-encoded bytes) attached to a report."""

    report = ForeignKeyField(Report, backref="photos", on_delete="CASCADE")
    digest = CharField(max_length=64, index=True)
    width = IntegerField()
    height = IntegerField()
    after = BooleanField(default=False)  # taken when the hazard was put right
    position = IntegerField(default=0)
    added_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("report", "digest", "after"), True),)


class ReportEvent(BaseModel):
    """The report's timeline: created, assigned, comment, action, status, after photo, closed, reopened."""

    report = ForeignKeyField(Report, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    kind = CharField(max_length=20)
    text = TextField(default="")
    data = JSONField(default=dict, dumps=functools.partial(json.dumps, default=str))  # what changed


# --- alerts and web push ----------------------------------------------------------------------------------

ALERT_LEVELS = ("info", "warning", "stop_work")
AUDIENCES = ("all", "checked_in", "foremen")


class PushSubscription(BaseModel):
    """One device's Web Push subscription (PushManager.subscribe) for one person."""

    user = ForeignKeyField(User, backref="push_subscriptions", on_delete="CASCADE")
    endpoint = CharField(max_length=1000, unique=True)
    p256dh = CharField(max_length=100)
    auth = CharField(max_length=40)
    user_agent = CharField(max_length=300, default="")
    created_at = DateTimeField(default=utcnow)
    last_success_at = DateTimeField(null=True)
    # The device session that posted it: another person may take the endpoint over only once this one has
    # ended (issue 14). Null for rows made before migration 006, or when the session row was purged.
    device_session = ForeignKeyField(DeviceSession, null=True, backref="+", on_delete="SET NULL")
    # The server's VAPID public key when it was made: a lost instance folder makes a new key, and every
    # subscription made with the old one then fails with 403 at the push service.
    vapid_key = CharField(max_length=100, null=True)
    # The push service refused it (400/403, e.g. a VAPID key mismatch): nothing more is sent to it, the sender
    # sees "notifications need to be turned on again", and the phone subscribes anew on its next visit.
    broken_at = DateTimeField(null=True)
    broken_status = IntegerField(null=True)


class Alert(BaseModel):
    """A message to the people on a site; a stop-work order under AML § 6-3 is the highest level."""

    uuid = UUIDField(unique=True)  # the compose form's: sending twice makes one alert
    site = ForeignKeyField(Site, backref="alerts", on_delete="CASCADE")
    sender = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")  # null: made by the app
    level = CharField(max_length=20)
    template = CharField(max_length=30, null=True)  # a ready-made alert, read in each recipient's language
    area = CharField(max_length=200, default="")  # where (templates name it); report alerts: the report's codes
    title = CharField(max_length=120, default="")
    body = TextField(default="")
    # A free-text alert: the language title and body are written in, and the sender's own texts in other
    # languages, {code: {"title": ..., "body": ...}} (alerts.wording picks each reader's).
    language = CharField(max_length=5, null=True)
    texts = JSONField(null=True, dumps=functools.partial(json.dumps, ensure_ascii=False))
    audience = CharField(max_length=20, default="all")
    ack_required = BooleanField(default=True)
    ack_deadline = DateTimeField(null=True)
    report = ForeignKeyField(Report, null=True, backref="alerts", on_delete="SET NULL")  # automatic alerts
    created_at = DateTimeField(default=utcnow, index=True)
    escalated_at = DateTimeField(null=True)
    # A stop-work order lifted ("arbeidet kan gjenopptas", AML § 6-3): who said work may start again, and when.
    lifted_at = DateTimeField(null=True)
    lifted_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


class AlertRecipient(BaseModel):
    """One person's copy of an alert: when it reached their phone, when they saw and acknowledged it."""

    alert = ForeignKeyField(Alert, backref="recipients", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="alert_copies", on_delete="CASCADE")
    role = CharField(max_length=20)  # the role on the site when the alert was sent
    delivered_at = DateTimeField(null=True)  # a push service accepted a message for one of their devices
    received_at = DateTimeField(null=True)  # their phone's service worker showed it
    seen_at = DateTimeField(null=True)
    acked_at = DateTimeField(null=True)  # "read and understood": the recorded time (fieldapp/phone_time.py)
    ack_uuid = UUIDField(null=True, unique=True)
    escalated_at = DateTimeField(null=True)  # sent again because they had not acknowledged in time
    added_by_escalation = BooleanField(default=False)  # a manager told that a foreman had not acknowledged
    ack_phone_at = DateTimeField(null=True)  # what the phone's clock said at the acknowledgement (a claim)
    ack_received_at = DateTimeField(null=True)  # when the server got the acknowledgement

    class Meta:
        indexes = ((("alert", "user"), True), (("user", "acked_at"), False))


class PushDelivery(BaseModel):
    """One push message for one recipient's device: the unit of at-least-once delivery (issue 13).

    Rows are written in the transaction that makes the alert (or its escalation); a consumer claims a few
    with claimed_by/claimed_until (a lease), sends them and records each result as it comes. A consumer that
    dies leaves its claimed rows to whoever comes after the lease ends.
    """

    alert = ForeignKeyField(Alert, backref="deliveries", on_delete="CASCADE")
    recipient = ForeignKeyField(AlertRecipient, backref="deliveries", on_delete="CASCADE")
    subscription = ForeignKeyField(PushSubscription, backref="deliveries", on_delete="CASCADE")
    round = IntegerField(default=0)  # 0: the alert itself, 1: its escalation
    prefix = CharField(max_length=300, default="")  # before the title (escalation: who has not acknowledged)
    created_at = DateTimeField(default=utcnow)
    next_attempt_at = DateTimeField(default=utcnow)
    attempts = IntegerField(default=0)
    claimed_by = CharField(max_length=32, null=True)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)  # the push service accepted it (2xx)
    gave_up_at = DateTimeField(null=True)  # refused for good (gone, broken, or too many attempts)
    last_status = IntegerField(null=True)  # the push service's last answer; null: no answer (network)

    class Meta:
        indexes = ((("recipient", "subscription", "round"), True),)


# Indexes that migrations made with SQL (partial or on several columns), declared so that the models say what
# the schema holds (tests/test_schema.py compares them on SQLite and PostgreSQL).
Report.add_index(Report.index(Report.site, Report.status, Report.happened_at, name="report_site_status"))
# migrations/004_alerts.py: the escalation sweep looks only at alerts not yet escalated.
Alert.add_index(Alert.index(Alert.ack_deadline, where=Alert.escalated_at.is_null(), name="alert_pending_escalation"))
# migrations/023_claim_token.py: a delivery claim reads back its rows by its token.
PushDelivery.add_index(PushDelivery.index(PushDelivery.claimed_by, where=PushDelivery.claimed_by.is_null(False),
                                          name="push_delivery_claim"))
# migrations/006_push_delivery.py: what the sender looks for, rows still to send by when they are due.
PushDelivery.add_index(PushDelivery.index(
    PushDelivery.next_attempt_at, where=PushDelivery.sent_at.is_null() & PushDelivery.gave_up_at.is_null(),
    name="push_delivery_due"))
PushDelivery.add_index(PushDelivery.index(PushDelivery.alert, name="push_delivery_alert"))
PushDelivery.add_index(PushDelivery.index(PushDelivery.subscription, name="push_delivery_subscription"))


# --- HMS statistics (issue 20) ------------------------------------------------------------------------------

class EnteredHours(BaseModel):
    """Hours worked on a site by one employer's people in one month, entered where they do not check in.

    Where a row exists, it replaces the check-in hours of that site, employer and month (stats.hours).
    month: the first day of the month. hours: 0..744 per person-month times the people (checked on entry).
    """

    site = ForeignKeyField(Site, backref="entered_hours", on_delete="CASCADE")
    employer_org_number = CharField(max_length=9)
    month = DateField()
    hours = FloatField()
    entered_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    entered_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("site", "employer_org_number", "month"), True),)


class HoursDay(BaseModel):
    """Check-in hours of one site, employer and local day, kept by fieldapp/stats/hours.py (derived data).

    hours: the check-ins that began that day, in to out; spill: the part of them after that day's end (local
    midnight), which belongs to the next day; checkins / complete: how many began that day / with nothing missing.
    """

    site = ForeignKeyField(Site, backref="+", on_delete="CASCADE")
    employer_org_number = CharField(max_length=9, null=True)
    day = DateField()
    hours = FloatField()
    spill = FloatField()
    checkins = IntegerField()
    complete = IntegerField()

    class Meta:
        indexes = ((("site", "day"), False),)


class HoursDirty(BaseModel):
    """A check-in's day (its UTC date) that changed since HoursDay was summed: written by database triggers
    (migrations/015_stats.py) on every insert, change and delete of a check-in."""

    site_id = IntegerField(index=True)
    utc_day = DateField()


# migrations/015_stats.py: a site's check-ins of some days, read when their hours are summed again.
CheckIn.add_index(CheckIn.index(CheckIn.site, CheckIn.checked_in_at, name="check_in_site_time"))

ALL_MODELS = [
    Organization,
    User,
    Site,
    Membership,
    Invitation,
    DeviceSession,
    EnrollmentCode,
    LoginThrottle,
    AuditEvent,
    Equipment,
    SiteEquipment,
    CheckIn,
    FollowUp,
    Report,
    InjuryDetails,
    Photo,
    ReportEvent,
    PushSubscription,
    Alert,
    AlertRecipient,
    PushDelivery,
    EnteredHours,
    HoursDay,
    HoursDirty,
]


# --- safe job analysis (SJA) ------------------------------------------------------------------------------
# A crew about to do non-routine or dangerous work maps the job's steps and hazards together before starting
# (internkontrollforskriften § 5 nr. 6: map dangers, assess risk, plan measures). Issue 18.

SJA_DECISIONS = ("go", "no_go")


class Sja(BaseModel):
    """One SJA on a site, or an organization's template (site null, names per language in template_names).

    The content (title ... equipment, and its SjaStep/SjaHazard rows) may be changed until the responsible
    person decides "go"; each change raises `revision`, and a signature counts for the revision it was made on.
    """

    uuid = UUIDField(unique=True)  # made on the phone: a resend is a no-op
    payload_hash = CharField(max_length=64)  # the same UUID with other content is a conflict (409)
    organization = ForeignKeyField(Organization, backref="sjas", on_delete="CASCADE")
    site = ForeignKeyField(Site, null=True, backref="sjas", on_delete="CASCADE")  # null: a template
    template_names = JSONField(null=True)  # a template's name per language, {code: text} (i18n.localized)
    title = CharField(max_length=200)
    operation = TextField(default="")  # the work operation
    place = CharField(max_length=200, default="")
    starts_at = DateTimeField(null=True)  # when the job starts (naive UTC)
    responsible = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    links = TextField(default="")  # hot-work permit, procedure: URLs or text
    equipment = JSONField(default=list)  # Equipment keys needed
    revision = IntegerField(default=1)
    created_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    created_at = DateTimeField(default=utcnow)  # the recorded time (fieldapp/phone_time.py)
    received_at = DateTimeField(default=utcnow)
    phone_at = DateTimeField(null=True)
    copied_from = ForeignKeyField("self", null=True, backref="+", on_delete="SET NULL")
    decision = CharField(max_length=10, null=True)  # the latest of SjaDecision: go, no_go
    decided_at = DateTimeField(null=True)
    lessons = TextField(default="")  # after the job: what was learned
    finished_at = DateTimeField(null=True)
    finished_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


class SjaStep(BaseModel):
    sja = ForeignKeyField(Sja, backref="steps", on_delete="CASCADE")
    position = IntegerField()
    title = CharField(max_length=200)


class SjaHazard(BaseModel):
    """A hazard of a step: risk = probability x consequence (1-5 each); after: the same once the measure is in place."""

    step = ForeignKeyField(SjaStep, backref="hazards", on_delete="CASCADE")
    position = IntegerField()
    cause = TextField()
    consequence = TextField(default="")
    probability = IntegerField()
    severity = IntegerField()  # the consequence's size, 1-5
    measure = TextField(default="")
    measure_by = CharField(max_length=200, default="")  # who puts the measure in place
    probability_after = IntegerField(null=True)
    severity_after = IntegerField(null=True)


class SjaParticipant(BaseModel):
    """A person who takes part: they sign that they took part and understood."""

    sja = ForeignKeyField(Sja, backref="participants", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    added_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("sja", "user"), True),)


class SjaSignature(BaseModel):
    """A participant's signature on one revision: on their own phone, or on another's with their own PIN."""

    uuid = UUIDField(unique=True)  # made on the phone: a resend is a no-op
    sja = ForeignKeyField(Sja, backref="signatures", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    revision = IntegerField()
    method = CharField(max_length=10)  # "session": their own signed-in phone; "pin": their PIN on another's
    language = CharField(max_length=5)  # the UI language they read the SJA in
    device_user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")  # who was signed in on the phone
    signed_at = DateTimeField()  # the recorded time (fieldapp/phone_time.py)
    received_at = DateTimeField(default=utcnow)
    phone_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("sja", "user", "revision"), True),)


class SjaDecision(BaseModel):
    """The responsible person's go / no-go, every one kept: a no-go can be revised by a later decision."""

    sja = ForeignKeyField(Sja, backref="decisions", on_delete="CASCADE")
    decision = CharField(max_length=10)
    revision = IntegerField()
    note = TextField(default="")
    decided_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)


ALL_MODELS += [Sja, SjaStep, SjaHazard, SjaParticipant, SjaSignature, SjaDecision]


# --- safety walkarounds (vernerunder) -----------------------------------------------------------------------

ROUND_ANSWERS = ("ok", "deviation", "na")
ROUND_SIDES = ("verneombud", "employer")


class ChecklistTemplate(BaseModel):
    """A walkaround checklist: the built-in one (organization null, key "building_site") or an organization's
    own copy. Its wording lives in versions; `current` is the version new rounds use."""

    organization = ForeignKeyField(Organization, null=True, backref="checklists", on_delete="CASCADE")
    key = CharField(max_length=40, null=True, unique=True)  # built-in templates only
    names = JSONField(default=dict)  # {language code: name}; built-in: {"msgid": english}
    current = IntegerField(default=1)  # the number of the version new rounds use
    created_at = DateTimeField(default=utcnow)
    archived_at = DateTimeField(null=True)


class ChecklistVersion(BaseModel):
    """One frozen wording of a template: [{"key", "title", "category", "items": [{"key", "text"}]}], each
    title/text a {language code: text} dict or {"msgid": english} for the built-in wording (translated in code).
    Never changed once made: a round keeps the version it was done with."""

    template = ForeignKeyField(ChecklistTemplate, backref="versions", on_delete="CASCADE")
    number = IntegerField()
    sections = JSONField(default=list)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("template", "number"), True),)


class RoundSchedule(BaseModel):
    """How often a site's walkaround is due (days) and the last reminder sent, one row per site (none: weekly)."""

    site = ForeignKeyField(Site, unique=True, backref="+", on_delete="CASCADE")
    interval_days = IntegerField(default=7)
    reminded_for = DateField(null=True)  # the due date the last reminder was about


class SafetyRound(BaseModel):
    """A safety walkaround (vernerunde) on a site, made with a UUID on the phone: sent twice = saved once."""

    uuid = UUIDField(unique=True)
    site = ForeignKeyField(Site, backref="rounds", on_delete="CASCADE")
    version = ForeignKeyField(ChecklistVersion, backref="rounds", on_delete="RESTRICT")
    started_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    started_at = DateTimeField()  # the recorded time (fieldapp/phone_time.py)
    phone_at = DateTimeField(null=True)
    received_at = DateTimeField(default=utcnow)
    summary = TextField(default="")
    participants = JSONField(default=list)  # [{"user": id} or {"name": typed name}]
    finished_at = DateTimeField(null=True)  # answers closed; signing may start
    finished_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    signed_at = DateTimeField(null=True)  # both sides signed: frozen


class RoundAnswer(BaseModel):
    """One item's answer in a round: saved once per (round, item); the latest recorded time wins."""

    uuid = UUIDField(unique=True)  # the latest outbox item that set it
    round = ForeignKeyField(SafetyRound, backref="answers", on_delete="CASCADE")
    item_key = CharField(max_length=40)
    answer = CharField(max_length=12)
    note = TextField(default="")
    answered_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    answered_at = DateTimeField()  # the recorded time (fieldapp/phone_time.py)
    phone_at = DateTimeField(null=True)
    received_at = DateTimeField(default=utcnow)
    finding = ForeignKeyField(Report, null=True, backref="+", on_delete="SET NULL")  # the deviation's follow-up

    class Meta:
        indexes = ((("round", "item_key"), True),)


class RoundPhoto(BaseModel):
    """A photo of an answer (the photo pipeline's stored file, named by its digest)."""

    answer = ForeignKeyField(RoundAnswer, backref="photos", on_delete="CASCADE")
    digest = CharField(max_length=64, index=True)
    width = IntegerField()
    height = IntegerField()
    added_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("answer", "digest"), True),)


class RoundSignature(BaseModel):
    """A side's sign-off of a finished round: on the signer's own phone, or with their PIN on another's."""

    uuid = UUIDField(unique=True)
    round = ForeignKeyField(SafetyRound, backref="signatures", on_delete="CASCADE")
    side = CharField(max_length=12)
    signer = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    device_user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")  # who was signed in on the phone
    with_pin = BooleanField(default=False)
    signed_at = DateTimeField()  # the recorded time
    phone_at = DateTimeField(null=True)
    received_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("round", "side"), True), (("round", "signer"), True))


class RoundNote(BaseModel):
    """A correction or remark added to a round after it was signed (the signed content never changes)."""

    round = ForeignKeyField(SafetyRound, backref="notes", on_delete="CASCADE")
    author = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    text = TextField()
    created_at = DateTimeField(default=utcnow)


SafetyRound.add_index(SafetyRound.index(SafetyRound.site, SafetyRound.started_at, name="safety_round_site_started"))

ALL_MODELS.extend([ChecklistTemplate, ChecklistVersion, RoundSchedule, SafetyRound, RoundAnswer, RoundPhoto,
                   RoundSignature, RoundNote])


# --- competence: course types, training records, site requirements, reminders (issue 19) -----------------

RECORD_STATUSES = ("pending", "approved", "rejected")
CERTIFICATE_SIDES = ("front", "back")


class CourseType(BaseModel):
    """An organization's own course type; the built-in ones live in code (fieldapp/competence/courses.py)."""

    organization = ForeignKeyField(Organization, backref="course_types", on_delete="CASCADE")
    key = CharField(max_length=40, unique=True)  # what records and requirements store ("org-<hex>")
    names = JSONField()  # {language code: name}, shown with fieldapp.i18n.localized
    validity_months = IntegerField(null=True)  # None: no expiry
    created_at = DateTimeField(default=utcnow)


class TrainingRecord(BaseModel):
    """A person's course or certificate. A worker's own is "pending" until a foreman or manager of their
    organization approves it; an import by a manager is approved at once."""

    uuid = UUIDField(unique=True)  # made on the phone (or the import): a resend is a no-op
    payload_hash = CharField(max_length=64)  # the same UUID with other content is a conflict (409)
    user = ForeignKeyField(User, backref="training_records", on_delete="CASCADE")
    course = CharField(max_length=40, index=True)  # a built-in key or CourseType.key
    taken_on = DateField()
    expires_on = DateField(null=True)  # the last day it is valid; None: no expiry
    expiry_overridden = BooleanField(default=False)  # expires_on was given, not computed from the validity
    issuer = CharField(max_length=200, default="")
    certificate_number = CharField(max_length=80, default="")
    status = CharField(max_length=10, default="pending", index=True)
    reject_reason = TextField(default="")
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    phone_at = DateTimeField(null=True)  # what the phone's clock said (a claim)
    # The person agreed that the verneombud of their site may see the certificate's photos (default no).
    verneombud_may_see = BooleanField(default=False)

    class Meta:
        # Covers the matrix's and the gate's one query: a person's best record per course, by status.
        indexes = ((("user", "course", "status", "expires_on"), False),)


class CertificatePhoto(BaseModel):
    """A photo of a certificate's front or back (the photo pipeline, fieldapp/photos.py)."""

    record = ForeignKeyField(TrainingRecord, backref="photos", on_delete="CASCADE")
    side = CharField(max_length=5)
    digest = CharField(max_length=64)
    width = IntegerField()
    height = IntegerField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("record", "side"), True),)


class PersonTask(BaseModel):
    """A task a person is given on a site ("crane_operator", "hot_work"): its requirements apply to them."""

    user = ForeignKeyField(User, backref="site_tasks", on_delete="CASCADE")
    site = ForeignKeyField(Site, backref="person_tasks", on_delete="CASCADE")
    task = CharField(max_length=40)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("site", "user", "task"), True),)


class SiteRequirement(BaseModel):
    """A course type a site requires of everyone (task "") or of those given a task; warns or blocks check-in."""

    site = ForeignKeyField(Site, backref="competence_requirements", on_delete="CASCADE")
    course = CharField(max_length=40)
    task = CharField(max_length=40, default="")
    blocks = BooleanField(default=False)  # True: check-in is refused while it is missing or expired
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("site", "course", "task"), True),)


class CompetenceReminder(BaseModel):
    """A reminder step sent for a record's expiry: the unique key makes a step go out once."""

    record = ForeignKeyField(TrainingRecord, backref="reminders", on_delete="CASCADE")
    step = CharField(max_length=5)  # "90", "30", "0" (days before expires_on) or "after"
    expires_on = DateField()  # the expiry the step was for: a corrected expiry starts the steps again
    sent_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("record", "step", "expires_on"), True),)


ALL_MODELS.extend([CourseType, TrainingRecord, CertificatePhoto, PersonTask, SiteRequirement, CompetenceReminder])


# --- HMS meetings (issue 21) -------------------------------------------------------------------------------
# Built-in kinds are codes in fieldapp/meetings/kinds.py; an organization renames them or adds its own here.

MEETING_LEVELS = ("site", "organization")
MEETING_STATUSES = ("draft", "approved")
ATTENDANCE_SIDES = ("employer", "workers", "verneombud", "other")
AMU_SIDES = ("employer", "workers")


class MeetingKind(BaseModel):
    """An organization's own meeting kind, or its name for a built-in one (same code)."""

    organization = ForeignKeyField(Organization, backref="meeting_kinds", on_delete="CASCADE")
    code = CharField(max_length=40)
    names = JSONField()  # {language code: name}, read with fieldapp/i18n.py localized()
    level = CharField(max_length=20, default="site")

    class Meta:
        indexes = ((("organization", "code"), True),)


class AmuMember(BaseModel):
    """A member of the organization's working environment committee (AMU, AML § 7-1) and the side they sit on.
    The smallest thing that makes AMU a role on the organization: one row per member."""

    organization = ForeignKeyField(Organization, backref="amu_members", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    side = CharField(max_length=20)  # AMU_SIDES

    class Meta:
        indexes = ((("organization", "user"), True),)


class MeetingSchedule(BaseModel):
    """How often a kind of meeting is held on a site (or, site null, in the organization)."""

    organization = ForeignKeyField(Organization, backref="+", on_delete="CASCADE")
    site = ForeignKeyField(Site, null=True, backref="+", on_delete="CASCADE")
    kind = CharField(max_length=40)
    interval_days = IntegerField()


class Meeting(BaseModel):
    """One meeting and its minutes: a draft until approved, then frozen (amendments only)."""

    organization = ForeignKeyField(Organization, backref="+", on_delete="CASCADE")
    site = ForeignKeyField(Site, null=True, backref="meetings", on_delete="CASCADE")  # null: AMU
    kind = CharField(max_length=40)
    held_on = DateField(index=True)
    extra = BooleanField(default=False)  # called outside the schedule (e.g. by the verneombud)
    chair = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    note = TextField(default="")
    topics = JSONField(default=list)  # morning meeting: topic codes
    status = CharField(max_length=20, default="draft")
    approved_at = DateTimeField(null=True)
    approved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    employer_approved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")  # AMU
    workers_approved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")  # AMU
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class MeetingProposal(BaseModel):
    """An agenda item proposed by anyone on the site, from the phone (an outbox item: the UUID is the phone's)."""

    uuid = UUIDField(unique=True)
    payload_hash = CharField(max_length=64)
    site = ForeignKeyField(Site, backref="+", on_delete="CASCADE")
    proposer = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    text = TextField()
    language = CharField(max_length=5, default="nb")
    photo_digest = CharField(max_length=64, null=True)
    created_at = DateTimeField()  # the recorded time (fieldapp/phone_time.py)
    received_at = DateTimeField(default=utcnow)


class AgendaItem(BaseModel):
    """One item on a meeting's agenda, with the meeting's note on it."""

    meeting = ForeignKeyField(Meeting, backref="items", on_delete="CASCADE")
    position = IntegerField(default=0)
    source = CharField(max_length=30)  # carried, proposal, manual, report, injury, follow_up, alert, stop_work
    record_id = IntegerField(null=True)  # the record the source names (a report, an alert...)
    title = TextField()
    note = TextField(default="")
    proposal = ForeignKeyField(MeetingProposal, null=True, backref="items", on_delete="SET NULL")
    carried_from = ForeignKeyField("self", null=True, backref="+", on_delete="SET NULL")
    carry_over = BooleanField(default=False)  # to the next meeting of the kind
    vote_unanimous = BooleanField(null=True)  # AMU vote record: null when no vote was taken
    vote_majority = TextField(default="")
    vote_minority = TextField(default="")
    # What a walkaround, SJA, certificate or statistics item found, as codes and numbers (migrations/022), worded
    # in each reader's language when shown (meetings.service._worded_title); null for the other sources.
    params = JSONField(null=True, dumps=functools.partial(json.dumps, ensure_ascii=False))


class MeetingAttendance(BaseModel):
    """Who was there, by side: a person on the site, or a name typed."""

    meeting = ForeignKeyField(Meeting, backref="attendance", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    name = CharField(max_length=200)
    side = CharField(max_length=20)  # ATTENDANCE_SIDES


class MeetingDecision(BaseModel):
    """A decision with a person and a deadline; its follow-up is a Report of kind "decision" (linked from here)."""

    meeting = ForeignKeyField(Meeting, backref="decisions", on_delete="CASCADE")
    item = ForeignKeyField(AgendaItem, null=True, backref="decisions", on_delete="SET NULL")
    text = TextField()
    person = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    deadline = DateField()
    report = ForeignKeyField(Report, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class MeetingAmendment(BaseModel):
    """A note added to approved minutes: the minutes themselves never change after approval."""

    meeting = ForeignKeyField(Meeting, backref="amendments", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    text = TextField()
    created_at = DateTimeField(default=utcnow)


Meeting.add_index(Meeting.index(Meeting.site, Meeting.kind, Meeting.held_on, name="meeting_site_kind"))

ALL_MODELS += [MeetingKind, AmuMember, MeetingSchedule, Meeting, MeetingProposal, AgendaItem, MeetingAttendance,
               MeetingDecision, MeetingAmendment]


# --- Who is responsible for what (issue 24): the verneombud register ------------------------------------------

VERNEOMBUD_ROLES = ("verneombud", "deputy")
# AML § 6-1 and forskrift om organisering, ledelse og medvirkning § 3-2: elected by the workers; a union may
# appoint one under its agreement; the employer appoints one when the workers do not elect anyone.
ELECTION_KINDS = ("election", "union", "employer")


class VerneombudTerm(BaseModel):
    """One verneombud's (or deputy's) term for a verneområde: a site, or (site null) the organization's sites;
    `area` names part of a site or the sites covered. Exactly two years (elected_to = the day before the same
    date two years on). AML § 6-1; forskrift om organisering, ledelse og medvirkning §§ 3-1 to 3-4."""

    organization = ForeignKeyField(Organization, backref="+", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    site = ForeignKeyField(Site, null=True, backref="+", on_delete="CASCADE")
    area = CharField(max_length=200, default="")
    role = CharField(max_length=12)  # VERNEOMBUD_ROLES
    elected_from = DateField()
    elected_to = DateField(index=True)
    how = CharField(max_length=12)  # ELECTION_KINDS
    notice_on = DateField(null=True)  # when the employer got written notice of the election
    regional = BooleanField(default=False)  # a regional verneombud (RVO, AML § 6-4) covering small firms
    reminded_at = DateTimeField(null=True)  # the "term ends within 60 days" reminder went out (once per term)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)




# Arbeidstilsynet's inspections (tilsyn) and orders (pålegg, AML § 18-6), coercive fines (tvangsmulkt, § 18-7) and
# stop orders (stansing, § 18-8).
INSPECTION_SANCTIONS = ("none", "fine", "stop")


class Inspection(BaseModel):
    """One inspection by Arbeidstilsynet of a site: the date, the inspector's reference (saksnummer) and any
    fine or stop order given."""

    site = ForeignKeyField(Site, backref="+", on_delete="CASCADE")
    held_on = DateField()
    reference = CharField(max_length=60)
    sanction = CharField(max_length=8, default="none")  # INSPECTION_SANCTIONS
    note = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class InspectionOrder(BaseModel):
    """An order (pålegg) from an inspection, its deadline, and the response and evidence that close it."""

    inspection = ForeignKeyField(Inspection, backref="orders", on_delete="CASCADE")
    text = TextField()
    deadline = DateField(index=True)
    response = TextField(default="")
    report = ForeignKeyField(Report, null=True, backref="+", on_delete="SET NULL")  # a linked follow-up
    closed_at = DateTimeField(null=True)
    closed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reminded_at = DateTimeField(null=True)  # the reminder before the deadline went out (once)


class VerneombudHours(BaseModel):
    """Time spent on verneombud work, recorded by the verneombud (AML § 6-5 (1): the time the role needs).
    Walkarounds are counted from the rounds themselves, not recorded here."""

    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    site = ForeignKeyField(Site, backref="+", on_delete="CASCADE")
    worked_on = DateField()
    hours = FloatField()
    note = CharField(max_length=300, default="")
    created_at = DateTimeField(default=utcnow)


ALL_MODELS += [VerneombudTerm, Inspection, InspectionOrder, VerneombudHours]


# --- Instance keys (issue 23): what every node must share ------------------------------------------------


class InstanceKey(BaseModel):
    """The fingerprint of one instance secret as the first node to start recorded it (fieldapp/keys.py).

    name: "secret_key", "vapid" or "audit_signing". fingerprint: 64 hex digits, SHA-256 of the public half
    (VAPID, audit signing) or HMAC-SHA-256 keyed by the secret key: never the secret itself.
    """

    name = CharField(max_length=20, primary_key=True)
    fingerprint = CharField(max_length=64)
    recorded_at = DateTimeField(default=utcnow)
    recorded_by = CharField(max_length=200, default="")  # host name and pid of the node that recorded it


ALL_MODELS += [InstanceKey]


# --- issue 24: the evidence that closes an order of Arbeidstilsynet ---------------------------------------------

EVIDENCE_KINDS = ("photo", "document")


class OrderEvidence(BaseModel):
    """A photo (through fieldapp/photos.py, re-encoded without metadata) or a document (a PDF, kept as sent)
    that shows an order (pålegg) carried out; named by the SHA-256 of the stored bytes, once per order."""

    order = ForeignKeyField(InspectionOrder, backref="evidence", on_delete="CASCADE")
    kind = CharField(max_length=8)  # EVIDENCE_KINDS
    digest = CharField(max_length=64)
    name = CharField(max_length=120, default="")  # the file's name as sent
    size = IntegerField(default=0)  # bytes stored
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("order", "digest"), True),)


ALL_MODELS += [OrderEvidence]
