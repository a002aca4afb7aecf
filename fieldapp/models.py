"""Every peewee model: the records are one graph, so they live in one module."""

import functools
import json
from datetime import time

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
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
    employer = ForeignKeyField(Organization, backref="employees", null=True, on_delete="RESTRICT")
    # The organization whose account this is: the one that created it (the site's, when a person is added
    # to a site). Only its managers may issue the person a sign-in code or change their name and card
    # (authz.may_manage_person); other organizations invite. The employer may be a subcontractor.
    organization = ForeignKeyField(Organization, backref="people", null=True, on_delete="RESTRICT")
    hms_card_number = CharField(max_length=40, null=True)
    hms_card_expiry = DateField(null=True)
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
    name_nb = CharField(max_length=80, null=True)  # custom items only
    name_en = CharField(max_length=80, null=True)
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
    audience = CharField(max_length=20, default="all")
    ack_required = BooleanField(default=True)
    ack_deadline = DateTimeField(null=True)
    report = ForeignKeyField(Report, null=True, backref="alerts", on_delete="SET NULL")  # automatic alerts
    created_at = DateTimeField(default=utcnow, index=True)
    escalated_at = DateTimeField(null=True)


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
# migrations/006_push_delivery.py: what the sender looks for, rows still to send by when they are due.
PushDelivery.add_index(PushDelivery.index(
    PushDelivery.next_attempt_at, where=PushDelivery.sent_at.is_null() & PushDelivery.gave_up_at.is_null(),
    name="push_delivery_due"))
PushDelivery.add_index(PushDelivery.index(PushDelivery.alert, name="push_delivery_alert"))
PushDelivery.add_index(PushDelivery.index(PushDelivery.subscription, name="push_delivery_subscription"))


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
]


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
