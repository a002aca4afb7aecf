"""Check-in, check-out and the attendance list (oversiktsliste) derived from them."""
import secrets
from collections import defaultdict, namedtuple
from datetime import date, time, timedelta

from peewee import JOIN, IntegrityError

from .. import audit, clock, inputs, isolate
from ..competence.service import check_gate, flags_for
from ..db import ReusedSelect, database, locked
from ..inputs import InputError
from ..sites.service import new_qr_token, org_number_valid
from ..models import CheckIn, Equipment, FollowUp, Membership, Organization, Site, SiteEquipment, User, utcnow
from .equipment import names as equipment_labels
from .equipment import required_for

def local_time(moment, site=None):
    """A stored (naive UTC) moment in the site's time zone (aware), or None: ``clock.local``."""
    return clock.local(moment, site)


class CheckInError(InputError):
    """A rule said no; `reason` picks the message (fieldapp.inputs), `check_in` is the open check-in if any."""

    scope = "checkin"

    def __init__(self, reason, check_in=None, field=None, **params):
        super().__init__(reason, field=field, **params)
        self.check_in = check_in


def open_check_in(user):
    """The person's open check-in on any site, with its site, or None (every home screen asks)."""
    return (CheckIn.select(CheckIn, Site).join(Site)
            .where((CheckIn.user == user.id) & CheckIn.checked_out_at.is_null())
            .first())


def open_guest_check_in(check_in_id):
    """The guest check-in with this id (kept in the guest's session) if it is still open, else None."""
    return CheckIn.get_or_none((CheckIn.id == check_in_id) & CheckIn.checked_out_at.is_null())


def open_check_ins(user_ids):
    """{user id: open CheckIn} for the home screen: one query for all the person's sites."""
    rows = CheckIn.select().where(CheckIn.user.in_(list(user_ids)) & CheckIn.checked_out_at.is_null())
    return {row.user_id: row for row in rows}


def equipment_answer(site, have, missing, all_worn):
    """(confirmed keys, missing keys) for the site's required set, or CheckInError."""
    required = [item.key for item in required_for(site)]
    have, missing = set(have or ()), set(missing or ())
    if all_worn:
        have |= set(required) - missing
    unknown = (have | missing) - set(required)
    if unknown or have & missing:
        raise CheckInError("bad_equipment")
    if set(required) - have - missing:
        raise CheckInError("equipment_unanswered")
    return [k for k in required if k in have], [k for k in required if k in missing]


def _person_fields(user):
    employer = user.employer
    return dict(name=user.name, employer_name=employer.name if employer else None,
                employer_org_number=employer.org_number if employer else None,
                hms_card_number=user.hms_card_number, hms_card_expiry=user.hms_card_expiry)


def check_in(site, user, check_in_uuid, when, confirmed, missing, guest=None):
    """Record a check-in once. Returns (CheckIn, created). A resend of the same UUID returns the same row; the
    UUID with another site, person or equipment answer is CheckInError "uuid_conflict" (409).

    when: a phone_time.PhoneTime; the attendance list uses its recorded time, the claim and receipt are kept.
    """
    existing = CheckIn.get_or_none(CheckIn.uuid == check_in_uuid)
    if existing is not None:
        return _same_or_conflict(existing, site, user, confirmed, missing, guest), False
    if user is not None:
        check_gate(site, user)  # issue 19: a requirement set to block refuses the check-in (CompetenceError, 409)
    fields = dict(guest, is_guest=True) if guest else _person_fields(user)
    try:
        with database.atomic():
            row = CheckIn.create(uuid=check_in_uuid, site=site, user=user, checked_in_at=when.recorded,
                                 phone_in_at=when.claimed, received_at=when.received,
                                 confirmed=confirmed, missing=missing, **fields)
            if missing:
                # The employer must provide it (AML § 2-3 is the worker's duty to wear it, not to buy it).
                FollowUp.create(site=site, kind="missing_equipment", check_in=row, detail=missing)
            audit.record(user, "checkin.create", "check_in", row.id,
                         after={"site": site.id, "confirmed": confirmed, "missing": missing,
                                "at": when.recorded.isoformat(), "guest": bool(guest),
                                "phone_at": when.claimed and when.claimed.isoformat()})
        return row, True
    except IntegrityError:
        # Either the same UUID arrived twice at once, or the person is already checked in somewhere.
        existing = CheckIn.get_or_none(CheckIn.uuid == check_in_uuid)
        if existing is not None:
            return _same_or_conflict(existing, site, user, confirmed, missing, guest), False
        raise CheckInError("already_checked_in", open_check_in(user)) from None


def sent_before(site, user, check_in_uuid, have, missing, all_worn, guest=None):
    """The check-in saved under `check_in_uuid` when this post is it sent again, None when the UUID is new;
    CheckInError "uuid_conflict" (409) when the UUID holds another site, person or answer.

    Asked before the answer is checked against the site's list: a check-in queued on the phone and sent again
    after the manager changed the required equipment is read against the list it was saved with, so the
    person who is checked in is not told that their check-in failed. have, missing: the form's keys; all_worn:
    the "I am wearing all of it" tick (the saved list's items not marked missing)."""
    existing = CheckIn.get_or_none(CheckIn.uuid == check_in_uuid)
    if existing is None:
        return None
    listed = set(existing.confirmed) | set(existing.missing)
    have, missing = set(have or ()), set(missing or ())
    if all_worn:
        have |= listed - missing
    return _same_or_conflict(existing, site, user, have, missing, guest)


def _same_or_conflict(existing, site, user, confirmed, missing, guest=None):
    """The check-in saved under this UUID if the post is the same one sent again (same site, person, equipment
    answers and, for a guest, the same name, employer and card), else CheckInError "uuid_conflict" (409): other
    answers or another guest under a UUID already used were answered as the saved one and silently dropped."""
    if existing.site_id != site.id or existing.user_id != (user.id if user else None):
        raise CheckInError("uuid_conflict")
    if (set(existing.confirmed), set(existing.missing)) != (set(confirmed), set(missing)):
        raise CheckInError("uuid_conflict")
    if guest is not None and any(getattr(existing, key) != guest[key] for key in
                                 ("name", "employer_name", "employer_org_number", "hms_card_number")):
        raise CheckInError("uuid_conflict")  # a guest is told apart by what they typed: another guest's UUID
    return existing


def check_out(site, user, checkout_uuid, when, check_in_id=None):
    """Close the person's open check-in on the site once; a resend returns the same check-in.

    when: a phone_time.PhoneTime; the recorded time is kept, but never before the check-in.
    """
    done = CheckIn.get_or_none(CheckIn.checkout_uuid == checkout_uuid)
    if done is not None:
        if done.site_id != site.id or done.user_id != (user.id if user else None):
            raise CheckInError("uuid_conflict")
        return done
    query = CheckIn.select().where(CheckIn.site == site)
    query = query.where(CheckIn.id == check_in_id) if user is None else query.where(CheckIn.user == user)
    row = query.where(CheckIn.checked_out_at.is_null()).first()
    still_open = CheckIn.checked_out_at.is_null()
    if row is None:
        # A check-out made on the phone without signal arrives after the end-of-day close: it is the person's
        # time, not the site's end of day (they left at 15:00, not 18:00), and their phone must not show a
        # failure for what they did right (found by the breaker).
        row = query.where(CheckIn.auto_closed & CheckIn.checkout_uuid.is_null()
                          & (CheckIn.checked_in_at <= when.recorded)).order_by(CheckIn.checked_in_at.desc()).first()
        if row is None or (user is not None and CheckIn.select().where(
                (CheckIn.user == user) & (CheckIn.checked_in_at > row.checked_in_at)).exists()):
            raise CheckInError("not_checked_in")  # nothing to close, or checked in again since
        still_open = CheckIn.auto_closed & CheckIn.checkout_uuid.is_null()
    # Never before the check-in; after an automatic close, never after it (the site's end of day stands then).
    happened_at = max(when.recorded, row.checked_in_at)
    if row.checked_out_at is not None:
        happened_at = min(happened_at, row.checked_out_at)
    with database.atomic():
        changed = (CheckIn.update(checked_out_at=happened_at, checkout_uuid=checkout_uuid, phone_out_at=when.claimed,
                                  out_received_at=when.received,
                                  auto_closed=row.checked_out_at is not None and happened_at == row.checked_out_at)
                   .where((CheckIn.id == row.id) & still_open).execute())
        if not changed:
            raise CheckInError("not_checked_in")
        audit.record(user, "checkin.checkout", "check_in", row.id,
                     after={"at": happened_at.isoformat(), "phone_at": when.claimed and when.claimed.isoformat(),
                            "after_auto_close": row.checked_out_at is not None})
    return CheckIn.get_by_id(row.id)


OnSiteRow = namedtuple("OnSiteRow", "id user_id name employer_name checked_in_at hms_card_number hms_card_expiry "
                                    "is_guest missing")


def _on_site_query(site_id):
    return (CheckIn.select(CheckIn.id, CheckIn.user, CheckIn.name, CheckIn.employer_name, CheckIn.checked_in_at,
                           CheckIn.hms_card_number, CheckIn.hms_card_expiry, CheckIn.is_guest, CheckIn.missing)
            .where((CheckIn.site == site_id) & CheckIn.checked_out_at.is_null())
            .order_by(CheckIn.checked_in_at, CheckIn.id))


# The on-site list is polled every 15 s by every open phone: its SQL is built once (db.ReusedSelect).
_ON_SITE = ReusedSelect(_on_site_query, [(CheckIn.site, -7_000_000_003)])


def on_site_now(site):
    """Who is on the site now, as flat OnSiteRows by check-in time: one query, no model objects.

    Each column is converted by its field (a date is a date, `missing` a list of equipment keys).
    """
    return [OnSiteRow._make(row) for row in _ON_SITE.rows(site.id)]


def local_day_bounds(start_day, end_day, site=None):
    """UTC (naive) bounds of the site's local days start_day..end_day inclusive: ``clock.day_bounds``."""
    return clock.day_bounds(start_day, end_day, site)


def attendance(site, start_day, end_day):
    """The attendance list (byggherreforskriften § 15) for the site's local days start_day..end_day."""
    start, end = local_day_bounds(start_day, end_day, site)
    return list(CheckIn.select()
                .where((CheckIn.site == site) & (CheckIn.checked_in_at >= start) & (CheckIn.checked_in_at < end))
                .order_by(CheckIn.checked_in_at, CheckIn.name))


S15 = namedtuple("S15", "date_of_birth agency_name agency_org_number hired_in")


def s15_details(rows):
    """{user id: S15} for the people on attendance rows (byggherreforskriften § 15: date of birth, and a hired-in
    worker's staffing agency with its organisation number; hired_in: the person is hired in, so the agency is
    required). One query. For the attendance list only: the date of birth is personal data shown nowhere else.
    Visitors (no user) have none."""
    ids = list({row.user_id for row in rows if row.user_id is not None})
    if not ids:
        return {}
    query = (User.select(User.id, User.date_of_birth, Organization.name, Organization.org_number, User.hired_in)
             .join(Organization, JOIN.LEFT_OUTER, on=(User.staffing_agency == Organization.id))
             .where(User.id.in_(ids)).tuples())
    return {user_id: S15(born, name or "", number or "", bool(hired))
            for user_id, born, name, number, hired in query}


def hours_on_site(site, start_day, end_day, now=None):
    """Hours per person (name, employer) between the days, from check-ins; open ones count until now."""
    now = now or utcnow()
    totals = defaultdict(float)
    for row in attendance(site, start_day, end_day):
        out = row.checked_out_at or now
        totals[(row.user_id, row.name, row.employer_name)] += max(0.0, (out - row.checked_in_at).total_seconds() / 3600)
    return dict(totals)


def hours_by_month(site, year):
    """{month: total hours} for a calendar year: what H1/H2/F divide by."""
    out = {}
    for month in range(1, 13):
        first = date(year, month, 1)
        last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
        out[month] = round(sum(hours_on_site(site, first, last).values()), 2)
    return out


def close_open_check_ins(now=None):
    """Close check-ins still open after their site's end of day (at that time, marked automatic)."""
    now = now or utcnow()
    rows = list(CheckIn.select(CheckIn, Site).join(Site).where(CheckIn.checked_out_at.is_null()))
    # One check-in's (or one site's) unexpected error is logged and the others are still closed
    # (fieldapp/isolate.py); it stays open for the next run.
    closed, _failed = isolate.each("closing check-ins", rows, lambda row: _close_if_over(row, now))
    return sum(closed)


def _close_if_over(row, now):
    """Close one open check-in if its site's day is over (in the caller's transaction). Returns 0 or 1."""
    day = clock.local(row.checked_in_at, row.site).date()
    ends = clock.at(day, row.site.day_ends_at, row.site)
    if ends <= row.checked_in_at:  # checked in after the end of the day: close at midnight
        ends = clock.at(day + timedelta(days=1), time(0), row.site)
    if now < ends:
        return 0
    changed = (CheckIn.update(checked_out_at=ends, auto_closed=True)
               .where((CheckIn.id == row.id) & CheckIn.checked_out_at.is_null()).execute())
    if changed:
        audit.record(None, "checkin.auto_close", "check_in", row.id, after={"at": ends.isoformat()})
    return changed


def purge_old_attendance(retention_days, today=None):
    """Delete the attendance of sites closed more than retention_days ago (byggherreforskriften § 15).

    today: a date, by default today in the default time zone (a day either way does not matter over months).
    """
    today = today or clock.today()
    cutoff = today - timedelta(days=retention_days)
    sites = [s.id for s in Site.select(Site.id).where(Site.closed_on.is_null(False) & (Site.closed_on < cutoff))]
    if not sites:
        return 0
    with database.atomic():
        deleted = CheckIn.delete().where(CheckIn.site.in_(sites)).execute()
        for site_id in sites:
            audit.record(None, "attendance.purge", "site", site_id, after={"retention_days": retention_days})
    return deleted


def set_required_equipment(actor, site, equipment):
    with database.atomic():
        before = sorted(e.equipment.key for e in SiteEquipment.select().where(SiteEquipment.site == site))
        SiteEquipment.delete().where(SiteEquipment.site == site).execute()
        for item in equipment:
            SiteEquipment.create(site=site, equipment=item)
        after = sorted(item.key for item in equipment)
        if before != after:
            audit.record(actor, "site.equipment", "site", site.id, {"required": before}, {"required": after})


def renew_poster(actor, site):
    with database.atomic():
        Site.update(qr_token=new_qr_token()).where(Site.id == site.id).execute()
        audit.record(actor, "site.poster_renew", "site", site.id)
    return Site.get_by_id(site.id)


MAX_EQUIPMENT_NAME = 80


def equipment_names(form, languages):
    """{language code: name} from a form's `name_<code>` fields, for each code in `languages`; blank ones left out.

    Raises CheckInError "equipment_name_missing" when no language has a name, "equipment_name_long" (field
    name_<code>) for a name over MAX_EQUIPMENT_NAME characters.
    """
    names = {}
    for code in languages:
        text = " ".join(inputs.free_text(form.get(f"name_{code}")).split())  # only invisible characters: blank
        if len(text) > MAX_EQUIPMENT_NAME:
            raise CheckInError("equipment_name_long", field=f"name_{code}", n=MAX_EQUIPMENT_NAME)
        if text:
            names[code] = text
    if not names:
        raise CheckInError("equipment_name_missing")
    return names


def add_custom_equipment(actor, organization_id, names):
    """An organization's own item, named {language code: name} (equipment_names). An item of the organization
    with these very names is that item (a form sent twice makes one)."""
    with database.atomic():
        locked(Organization, organization_id)  # the same form sent twice at once: the second finds the first
        for same in Equipment.select().where((Equipment.organization == organization_id) & ~Equipment.builtin):
            if same.names == names:
                return same
        item = Equipment.create(key=f"custom-{secrets.token_hex(6)}", organization=organization_id,
                                names=names, sort_order=1000)
        audit.record(actor, "equipment.create", "equipment", item.id, after={"names": names})
    return item


def rename_custom_equipment(actor, organization_id, key, names):
    """Replace the names of the organization's own item `key`; CheckInError "unknown_equipment" (404) if it
    is not theirs (built-in items are named in the catalogues)."""
    with database.atomic():
        item = Equipment.get_or_none((Equipment.key == key) & (Equipment.organization == organization_id)
                                     & ~Equipment.builtin)
        if item is None:
            raise CheckInError("unknown_equipment")
        if item.names != names:
            before = item.names
            Equipment.update(names=names).where(Equipment.id == item.id).execute()
            audit.record(actor, "equipment.rename", "equipment", item.id, {"names": before}, {"names": names})
    return item


def site_for_poster(token):
    return Site.get_or_none((Site.qr_token == token) & (Site.active == True))  # noqa: E712


def site_for_sign_in(next_path):
    """The site whose poster sent a signed-out person to sign in (next_path "/p/<token>"), or None: the sign-in
    page names it (issue 16)."""
    token = (next_path or "").partition("?")[0].removeprefix("/p/")
    if not next_path or not next_path.startswith("/p/") or not token or "/" in token:
        return None
    return site_for_poster(token)


FollowUpRow = namedtuple("FollowUpRow", "id name detail")


def _open_follow_ups_query(site_id):
    return (FollowUp.select(FollowUp.id, CheckIn.name, FollowUp.detail).join(CheckIn)
            .where((FollowUp.site == site_id) & FollowUp.resolved_at.is_null())
            .order_by(FollowUp.created_at.desc()))


# Read by every poll of the on-site list: SQL built once (db.ReusedSelect).
_OPEN_FOLLOW_UPS = ReusedSelect(_open_follow_ups_query, [(FollowUp.site, -7_000_000_004)])


def open_follow_ups(site):
    """The site's unresolved follow-ups of a check-in, newest first, as flat FollowUpRows (id, the check-in's
    name, detail: the missing equipment keys or None): plain data, so the polled on-site list can take its
    ETag from them (htmx.render_polled)."""
    return [FollowUpRow._make(row) for row in _OPEN_FOLLOW_UPS.rows(site.id)]


def on_site_list(site):
    """What the on-site list (and its 15-second poll) shows, all plain data: {"rows": on_site_now(site),
    "names": {equipment key: label}, "competence_flags": {user id: [course name]}, "follow_ups":
    open_follow_ups(site), "today": the site's date}. Four queries where the site requires no course."""
    rows = on_site_now(site)
    return {"rows": rows, "names": equipment_labels(site.organization_id),
            "competence_flags": flags_for(site, [r.user_id for r in rows]),
            "follow_ups": open_follow_ups(site), "today": clock.today(site)}


def resolve_follow_up(actor, site, follow_up_id):
    with database.atomic():
        changed = (FollowUp.update(resolved_at=utcnow(), resolved_by=actor)
                   .where((FollowUp.id == follow_up_id) & (FollowUp.site == site) & FollowUp.resolved_at.is_null())
                   .execute())
        if changed:
            audit.record(actor, "follow_up.resolve", "follow_up", follow_up_id)
    return bool(changed)


def is_member(user, site):
    return Membership.select().where((Membership.user == user) & (Membership.site == site)).exists()


def read_guest_form(form):
    """A visitor's own details from the guest form (a MultiDict): {"name", "employer", "org_number",
    "hms_card_number"} as text ("" when not given; the org number without spaces).

    Raises InputErrors with every field's problem, each beside its field: "guest_name" / "guest_employer" when
    missing (or only invisible characters), "too_long" (n = the column's length) when longer, "bad_org_number"
    (not 9 digits with a valid check digit, Brønnøysundregistrene's modulus 11), "hms_card_too_long",
    "bad_hms_card" (inputs.FormReader.card_number)."""
    fields = inputs.FormReader(form)
    fields.text("name", CheckIn.name.max_length, required="guest_name")
    fields.text("employer", CheckIn.employer_name.max_length, required="guest_employer")
    org_number = (form.get("org_number") or "").replace(" ", "")
    fields.values["org_number"] = org_number
    if org_number and not org_number_valid(org_number):
        fields.fail("bad_org_number", "org_number")
    fields.card_number("hms_card_number", CheckIn.hms_card_number.max_length, too_long="hms_card_too_long")
    return fields.done()


def guest_fields(name, employer, org_number, hms_card_number):
    return dict(name=name, employer_name=employer, employer_org_number=org_number or None,
                hms_card_number=hms_card_number or None, hms_card_expiry=None)

