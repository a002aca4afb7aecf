"""Sites, organizations and memberships; every change is written to the audit log."""
import secrets
from collections import namedtuple

from peewee import JOIN, SQL, IntegrityError, Value, fn

from .. import audit, clock
from ..accounts import service as accounts
from ..authz import ROLES_GRANTED_BY, may_manage_person  # noqa: F401 (ROLES_GRANTED_BY: re-exported)
from ..db import ReusedSelect, database
from ..inputs import InputError
from ..models import Invitation, Membership, Organization, Site, User

SITE_FIELDS = ("name", "address", "project_number", "client_name", "active", "guests_allowed", "day_ends_at",
               "closed_on")
USER_FIELDS = ("name", "phone", "employer", "hms_card_number", "hms_card_expiry")


class Conflict(InputError):
    """A uniqueness rule in the database said no; `reason` says which (fieldapp.inputs words it)."""


def org_number_valid(number):
    """Norwegian organisation number: 9 digits, the last a mod-11 check digit (weights 3,2,7,6,5,4,3,2)."""
    if not (isinstance(number, str) and len(number) == 9 and number.isascii() and number.isdigit()):
        return False
    total = sum(int(d) * w for d, w in zip(number[:8], (3, 2, 7, 6, 5, 4, 3, 2)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(number[8])


def get_or_create_organization(actor, name, org_number):
    org = Organization.get_or_none(Organization.org_number == org_number)
    if org:
        return org
    try:
        with database.atomic():
            org = Organization.create(name=name, org_number=org_number)
            audit.record(actor, "organization.create", "organization", org.id,
                         after=audit.snapshot(org, ("name", "org_number")))
            return org
    except IntegrityError:  # created by someone else just now
        return Organization.get(Organization.org_number == org_number)


def _same_name(a, b):
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def staffing_agency(actor, name, org_number, employer_ids):
    """The Organization a hired-in worker's staffing agency is (byggherreforskriften § 15), found by its
    organisation number or created with the typed name; never renamed, never swapped for another silently.

    name: the typed name ("" when only the number is given: a known number is then taken as it is);
    org_number: 9 valid digits; employer_ids: the person's employer(s), which cannot be their own agency.
    Raises InputError, beside "agency_org_number": "duties.agency_is_employer" (the number or name is the
    employer's), "duties.agency_name_differs" (the number is registered under another name: the message names
    it), "duties.agency_number_differs" (the typed name is a known organization with another number).
    Writes only when it creates the agency (audited); call it inside the caller's transaction.
    """
    employer_ids = {i for i in employer_ids if i is not None}
    org = Organization.get_or_none(Organization.org_number == org_number)
    if org is not None:
        if org.id in employer_ids:
            raise InputError("duties.agency_is_employer", field="agency_org_number")
        if name and not _same_name(org.name, name):
            raise InputError("duties.agency_name_differs", field="agency_org_number", org_number=org_number,
                             name=org.name)
        return org
    named = [o for o in Organization.select().where(
        (Organization.name == name) | (fn.LOWER(Organization.name) == name.lower())) if _same_name(o.name, name)]
    if any(o.id in employer_ids for o in named):
        raise InputError("duties.agency_is_employer", field="agency_org_number")
    if named:
        raise InputError("duties.agency_number_differs", field="agency_org_number", name=named[0].name,
                         org_number=named[0].org_number or "")
    return get_or_create_organization(actor, name, org_number)


def new_qr_token():
    return secrets.token_urlsafe(18)


def create_site(actor, organization, data):
    """A new site; its creator becomes its manager."""
    with database.atomic():
        site = Site.create(organization=organization, qr_token=new_qr_token(),
                           **{k: data.get(k) for k in ("name", "address", "project_number", "client_name")})
        audit.record(actor, "site.create", "site", site.id, after=audit.snapshot(site, SITE_FIELDS))
        membership = Membership.create(user=actor, site=site, role="manager")
        audit.record(actor, "membership.create", "membership", membership.id,
                     after={"user": actor.id, "site": site.id, "role": "manager"})
    return site


def update_site(actor, site, data):
    with database.atomic():
        before = audit.snapshot(site, SITE_FIELDS)
        for key in SITE_FIELDS:
            if key in data:
                setattr(site, key, data[key])
        if "active" in data and "closed_on" not in data:
            # The day the work ended starts the attendance list's six months (byggherreforskriften § 15).
            site.closed_on = None if site.active else (site.closed_on or clock.today(site))
        site.save()
        after = audit.snapshot(site, SITE_FIELDS)
        if after != before:
            audit.record(actor, "site.update", "site", site.id, before, after)
    return site


PersonRow = namedtuple("PersonRow", "user_id role name phone hms_card_number hms_card_expiry enrolled employer_name "
                                    "invited sort_name")


def _people_on_query(site_id):
    members = (Membership.select(Membership.user_id, Membership.role, User.name, User.phone,
                                 User.hms_card_number, User.hms_card_expiry,
                                 User.password_hash.is_null(False).alias("enrolled"),
                                 Organization.name.alias("employer_name"),
                                 Value(0).alias("invited"), fn.LOWER(User.name).alias("sort_name"))
               .join(User)
               .join(Organization, JOIN.LEFT_OUTER, on=(User.employer == Organization.id))
               .where(Membership.site == site_id))
    # Pending invitations in the same query (the list stays at one query): only the phone number the
    # inviter typed; the person's name and the rest belong to their own organization until they accept.
    invited = (Invitation.select(Invitation.user_id, Invitation.role, Value(""), User.phone, Value(None),
                                 Value(None), Value(True), Value(None), Value(1), Value(""))
               .join(User)
               .where(Invitation.site == site_id))
    return (members + invited).order_by(SQL("9"), SQL("10"), SQL("1"))  # invited last; by name, then id


_PEOPLE_ON = ReusedSelect(_people_on_query, [(Membership.site, -7_000_000_001)])


def people_on(site):
    """(members, invitations) of the site as flat PersonRows, by name: one query, no model objects.

    An invitation's row has only user_id, role and phone (the rest is empty) and invited=1.
    """
    # Columns converted by their fields as .tuples() would (the card's expiry is a date on every database);
    # the SQL is built once per process (db.ReusedSelect): building it cost more than running it.
    rows = [PersonRow._make(row) for row in _PEOPLE_ON.rows(site.id)]
    return [r for r in rows if not r.invited], [r for r in rows if r.invited]


def memberships_of(user):
    """The person's roles on active sites, each with its site, by site name."""
    return list(Membership.select(Membership, Site).join(Site)
                .where((Membership.user == user.id) & (Site.active == True))  # noqa: E712
                .order_by(Site.name))


def membership_on(site, user_id):
    return (Membership.select(Membership, User).join(User)
            .where((Membership.site == site) & (Membership.user == user_id)).first())


AddResult = namedtuple("AddResult", "membership code invitation")


def add_person(actor, site, role, data, actor_role=None, new_employer=None):
    """Put a person on the site, creating them if their phone number is new.

    data: the person form's fields; data["employer"] is an Organization (or its id), unless new_employer
    (name, organisation number) names the employer to find or create. All of it is one transaction: a
    Conflict leaves no new organization behind (issue 15).

    Returns AddResult(membership or None, enrollment code or None, invitation or None):
    - a new phone number: a new account of the site's organization, on the site, with a code;
    - a person of the site's organization: on the site; a code if they have not enrolled and the actor
      may manage them (authz.may_manage_person);
    - a person of another organization: only an Invitation that they accept or decline signed in as
      themselves (issue 14): no membership and no code until then.
    Raises Conflict("already_member") or Conflict("already_invited").
    """
    phone = data["phone"]
    with database.atomic():
        if new_employer is not None:
            data = dict(data, employer=get_or_create_organization(actor, *new_employer))
        elif not isinstance(data.get("employer"), Organization):
            data = dict(data, employer=Organization.get_by_id(int(data["employer"])))
        # Byggherreforskriften § 15: a hired-in worker's staffing agency (issue 24).
        user = User.get_or_none(User.phone == phone)
        if user is not None and user.organization_id != site.organization_id:
            return AddResult(None, None, _invite(actor, site, role, user))  # their own organization records them
        employers = {data["employer"].id} | ({user.employer_id} if user is not None else set())
        agency = staffing_agency(actor, *data["agency"], employers) if data.get("agency") else None
        hired = {"hired_in": bool(data.get("hired_in")), "staffing_agency": agency}
        if user is None:
            user = User.create(**{k: data.get(k) for k in USER_FIELDS}, organization=site.organization_id,
                               language=data.get("language") or "nb", **hired)
            audit.record(actor, "user.create", "user", user.id,
                         after=audit.snapshot(user, USER_FIELDS + ("organization", "hired_in", "staffing_agency")))
        elif hired["hired_in"] and (not user.hired_in or (agency and user.staffing_agency_id != agency.id)):
            before = audit.snapshot(user, ("hired_in", "staffing_agency"))
            User.update(hired_in=True, staffing_agency=agency or user.staffing_agency_id).where(
                User.id == user.id).execute()
            user = User.get_by_id(user.id)
            audit.record(actor, "person.s15", "user", user.id, before=before,
                         after=audit.snapshot(user, ("hired_in", "staffing_agency")))
        try:
            with database.atomic():
                membership = Membership.create(user=user, site=site, role=role)
        except IntegrityError:
            raise Conflict("already_member") from None
        audit.record(actor, "membership.create", "membership", membership.id,
                     after={"user": user.id, "site": site.id, "role": role})
        code = None
        if not user.enrolled and may_manage_person(actor, user, actor_role):
            code = accounts.issue_enrollment_code(actor, user)
    return AddResult(membership, code, None)


def _invite(actor, site, role, user):
    if Membership.select().where((Membership.user == user) & (Membership.site == site)).exists():
        raise Conflict("already_member")
    try:
        with database.atomic():
            invitation = Invitation.create(user=user, site=site, role=role, invited_by=actor)
    except IntegrityError:
        raise Conflict("already_invited") from None
    audit.record(actor, "invitation.create", "invitation", invitation.id,
                 after={"user": user.id, "site": site.id, "role": role})
    return invitation


def pending_invitations(user):
    """The person's invitations, each with its site and the site's organization, oldest first."""
    return list(Invitation.select(Invitation, Site, Organization)
                .join(Site).join(Organization)
                .where(Invitation.user == user).order_by(Invitation.created_at, Invitation.id))


def answer_invitation(user, invitation_id, accept):
    """The invited person's answer. Returns the new Membership (accept), True (declined), or None when
    the person has no such invitation (the view answers 404: it is nobody else's business).
    """
    with database.atomic():
        invitation = Invitation.get_or_none((Invitation.id == invitation_id) & (Invitation.user == user))
        if invitation is None:
            return None
        Invitation.delete().where(Invitation.id == invitation.id).execute()
        detail = {"user": user.id, "site": invitation.site_id, "role": invitation.role}
        if not accept:
            audit.record(user, "invitation.decline", "invitation", invitation.id, before=detail)
            return True
        audit.record(user, "invitation.accept", "invitation", invitation.id, before=detail)
        membership = Membership.get_or_none((Membership.user == user) & (Membership.site == invitation.site_id))
        if membership is None:
            membership = Membership.create(user=user, site=invitation.site_id, role=invitation.role)
            audit.record(user, "membership.create", "membership", membership.id, after=detail)
    return membership


def change_role(actor, membership, role):
    """The person's role on this site. A role above worker voids their unused sign-in codes: one made by
    a foreman for a worker must not sign anyone in as a manager (accounts.service.find_enrollment asks
    authz.may_manage_person again too)."""
    with database.atomic():
        before = membership.role
        if before == "manager" and role != "manager":
            _keep_one_manager(membership)
        Membership.update(role=role).where(Membership.id == membership.id).execute()
        audit.record(actor, "membership.role", "membership", membership.id, {"role": before}, {"role": role})
        if role != "worker" and role != before:
            accounts.void_enrollment_codes(membership.user_id)
    membership.role = role
    return membership


def remove_member(actor, membership):
    with database.atomic():
        if membership.role == "manager":
            _keep_one_manager(membership)
        Membership.delete().where(Membership.id == membership.id).execute()
        audit.record(actor, "membership.delete", "membership", membership.id,
                     before={"user": membership.user_id, "site": membership.site_id, "role": membership.role})


def _keep_one_manager(membership):
    others = (Membership.select().where((Membership.site == membership.site_id) & (Membership.role == "manager")
                                        & (Membership.id != membership.id)).count())
    if not others:
        raise Conflict("last_manager")


def update_hms_card(actor, user, number, expiry, name=None):
    """The person's HMS card number and expiry, and their name when given (None keeps it).

    The caller has checked authz.may_manage_person.
    """
    fields = ("name", "hms_card_number", "hms_card_expiry")
    with database.atomic():
        before = audit.snapshot(user, fields)
        user.hms_card_number, user.hms_card_expiry = number, expiry
        if name:
            user.name = name
        User.update(name=user.name, hms_card_number=number, hms_card_expiry=expiry).where(User.id == user.id).execute()
        audit.record(actor, "user.hms_card", "user", user.id, before, audit.snapshot(user, fields))


def own_organizations(user):
    """The organizations a person may name as a new person's employer: their account's and their employer.

    Never every tenant (issue 14): other organizations are reached by their organisation number.
    """
    ids = {i for i in (user.organization_id, user.employer_id) if i is not None}
    return list(Organization.select().where(Organization.id.in_(list(ids))).order_by(Organization.name))


def people_of(organization):
    """The organization's people (their accounts), each with their site memberships, by name."""
    people = list(User.select().where(User.organization == organization).order_by(fn.LOWER(User.name), User.id))
    roles = {}
    for m in (Membership.select(Membership, Site).join(Site)
              .where(Membership.user.in_([p.id for p in people])).order_by(Site.name)):
        roles.setdefault(m.user_id, []).append(m)
    for person in people:
        person.site_roles = roles.get(person.id, [])
    return people
