"""Every peewee model: the records are one graph, so they live in one module."""
from datetime import datetime, timezone

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

from .db import database

ROLES = ("worker", "foreman", "verneombud", "manager")
LANGUAGES = ("nb", "en")


def utcnow():
    """Naive UTC: stored the same way in SQLite and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
    # Open check-ins are closed at this local time (Europe/Oslo) by a periodic task.
    day_ends_at = TimeField(default=time(18, 0))
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
    checked_in_at = DateTimeField(index=True)  # when it happened on the phone (may be sent later)
    received_at = DateTimeField(default=utcnow)
    checked_out_at = DateTimeField(null=True)
    checkout_uuid = UUIDField(null=True, unique=True)
    auto_closed = BooleanField(default=False)
    confirmed = TextField(default="[]")  # JSON list of equipment keys worn
    missing = TextField(default="[]")  # JSON list of required keys the person did not have
    # As they were at check-in (the list must show what was true that day).
    name = CharField(max_length=200)
    employer_name = CharField(max_length=200, null=True)
    employer_org_number = CharField(max_length=9, null=True)
    hms_card_number = CharField(max_length=40, null=True)
    hms_card_expiry = DateField(null=True)
    is_guest = BooleanField(default=False)


class FollowUp(BaseModel):
    """Something the employer must act on, e.g. equipment a worker did not have at check-in."""

    site = ForeignKeyField(Site, backref="follow_ups", on_delete="CASCADE")
    kind = CharField(max_length=40)
    check_in = ForeignKeyField(CheckIn, null=True, backref="follow_ups", on_delete="CASCADE")
    detail = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


ALL_MODELS = [
    Organization,
    User,
    Site,
    Membership,
    DeviceSession,
    EnrollmentCode,
    LoginThrottle,
    AuditEvent,
    Equipment,
    SiteEquipment,
    CheckIn,
    FollowUp,
]
