"""Who is signed in, and what their role on a site lets them do: the permission map, the decorators that
read it, and the account-level rules beside it."""
import functools

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _

from . import outbox
from .extensions import csrf
from .models import ROLES, Membership, Site


SESSION_KEY = "sid"


def upload_limit(max_bytes, field_bytes=None):
    """A view that takes larger uploads than MAX_CONTENT_LENGTH (photos), and, with field_bytes, a larger text field
    than MAX_FORM_MEMORY_SIZE (500 KB: a CSV file sent back from its dry run to be saved). Both in bytes of the
    request's body; applied before the body is read."""

    def decorator(view):
        view.fieldapp_max_bytes = max_bytes
        view.fieldapp_max_field_bytes = field_bytes
        return view

    return decorator


def apply_upload_limit():
    """before_request, ahead of CSRF protection (which reads the form): the view's own body and field limits."""
    view = current_app.view_functions.get(request.endpoint)
    limit = getattr(view, "fieldapp_max_bytes", None)
    if limit is not None:
        request.max_content_length = limit() if callable(limit) else limit
    field_limit = getattr(view, "fieldapp_max_field_bytes", None)
    if field_limit is not None:
        request.max_form_memory_size = field_limit


# --- what each role may do on a site --------------------------------------------------------------------
# The one map of named permissions (verbs) to the site roles granted them (DESIGN.md: "Permissions: named
# verbs granted to roles in one map"). The `requires` decorator, the templates' `can(...)` and
# tests/test_access.py all read it; a role tuple written anywhere else is a rule copied by hand.
# Source: DESIGN.md's table of roles and the duties behind them (AML §§ 2-1 to 6-3), as the routes had them.
EVERYONE = ROLES
STAFF = ("foreman", "verneombud", "manager")  # follow up reports, see who is on site, send alerts (AML § 6-2)
LEADS = ("foreman", "manager")  # carry out the employer's duties on site: people, equipment, the poster
MANAGER = ("manager",)  # the employer: the site itself, roles, medical details (AML § 5-2)

PERMISSIONS = {
    # Every member: duties of the worker (AML § 2-3).
    "checkin.self": EVERYONE,  # check in and out themselves
    "reports.create": EVERYONE,  # report a hazard, near miss or injury
    "reports.read": EVERYONE,  # a report they may see (reports.service.can_see narrows it for workers)
    "reports.comment": EVERYONE,
    "meetings.read": EVERYONE,  # the minutes of their site's meetings
    "meetings.propose": EVERYONE,  # propose an agenda item (issue 21: workers have their say)
    "alerts.read": EVERYONE,  # their own copy of an alert: read, acknowledge, mark received
    "sja.create": EVERYONE,  # make an SJA for a job (and change it until the go), copy one
    "sja.read": EVERYONE,  # the SJAs they take part in (sja.service.visible narrows it), its PDF
    "sja.sign": EVERYONE,  # sign that they took part and understood (their own, or with their own PIN)
    "sja.decide": EVERYONE,  # go / no-go and lessons learned: only the person named responsible (sja.service)
    # Staff.
    "checkin.list": STAFF,  # who is on site now
    "attendance.read": STAFF,  # the attendance list (byggherreforskriften § 15)
    "attendance.export": STAFF,  # ... as CSV and PDF
    "people.list": STAFF,  # the site's people and a person's page
    "reports.read_all": STAFF,  # every report on the site, not only their own
    "reports.assign": STAFF,  # name who puts it right, and by when
    "reports.follow_up": STAFF,  # the corrective action and the photo after it was put right
    "reports.close": STAFF,  # close, and reopen
    "alerts.send": STAFF,  # compose and send an alert to the site
    "meetings.call": STAFF,  # call a meeting (the verneombud: an extra one) and add items to its agenda
    "alerts.status": STAFF,  # the site's alerts and who has acknowledged them
    "sja.read_all": STAFF,  # every SJA on the site, not only those they take part in
    "alerts.lift": STAFF,  # lift a stop-work order: work may start again (AML § 6-3)
    "stats.read": STAFF,  # HMS statistics (H1, H2, F) of the site, and of the organization's sites they hold
    "stats.export": STAFF,  # ... as the HMS report (PDF, CSV, XLSX) and the hours export
    # Foremen and managers.
    "people.add": LEADS,  # bring a person onto the site (which roles: ROLES_GRANTED_BY)
    "people.manage": LEADS,  # a new sign-in code, name and HMS card (and only whom may_manage_person allows)
    "checkin.settings": LEADS,  # the protective equipment the site requires, visitors, end of day, the poster
    "meetings.run": LEADS,  # hold a site meeting: minutes, attendance, decisions, approval, morning meetings
    "meetings.manage": MANAGER,  # the organization's meeting kinds and AMU members, the site's meeting schedule
    "checkin.follow_up": LEADS,  # mark missing equipment as provided
    "sja.template": LEADS,  # save an SJA as one of the organization's templates
    # Managers.
    "people.roles": MANAGER,  # change a person's role on the site
    "people.remove": MANAGER,  # take a person off the site
    "sites.settings": MANAGER,  # name, address, client, open or closed
    "checkin.equipment.add": MANAGER,  # the organization's own equipment items
    "checkin.poster.renew": MANAGER,  # a new poster (every old one stops working)
    "reports.medical.read": MANAGER,  # an injury's medical details
    "reports.notify": MANAGER,  # record when Arbeidstilsynet and the police were notified (AML § 5-2)
    # Safety walkarounds (vernerunder, issue 18): the verneombud and the employer's side walk the site
    # together (AML §§ 6-1, 6-2); a worker sees the findings assigned to them through reports.read.
    "rounds.run": STAFF,  # start and answer a round, finish it, sign for their side, add notes
    "rounds.read": STAFF,  # the site's rounds, a round's page and its PDF
    "rounds.schedule": LEADS,  # how often the site's round is due
    "templates.manage": MANAGER,  # the organization's own checklists: copy and edit
    # Competence (issue 19; AML § 2-1, § 3-2: the employer sees that everyone has the training the work needs).
    "competence.read": STAFF,  # the site's competence matrix (certificate photos: competence.service.photo_for)
    "competence.export": STAFF,  # ... as CSV and PDF
    "competence.approve": LEADS,  # approve or reject a worker's own certificate (their organization's only)
    "competence.tasks": LEADS,  # give people tasks on the site (crane operator, hot work...)
    "competence.manage": MANAGER,  # the site's requirements, the organization's course types, CSV import
    "injuries.record": MANAGER,  # an injury's absence, return, alternative work, fatality (for H1, H2, F)
    "hours.enter": MANAGER,  # hours worked per employer and month, by form or CSV import
    # AML § 5-1: the register of injuries is open to the employer and the verneombud, without medical details.
    # The AMU is a role on the organization, not on a site: its members read their organization's register at
    # /amu/injuries.* (the rule: stats.service.amu_register_sites).
    "injuries.register": ("verneombud", "manager"),
    # Who is responsible for what (issue 24): the duties of each role with their status from the records, and the
    # verneombud register (AML §§ 2-1 to 7-1). A person's own duties and rights (/me/duties) need only sign-in.
    "duties.site": STAFF,  # the responsibilities page of the site and of the organization's sites they hold
    "verneombud.manage": MANAGER,  # the verneombud register: record a term (the employer is told, AML § 6-1)
    "verneombud.hours": ("verneombud",),  # the verneombud records the hours spent on the role (AML § 6-5)
    "inspections.manage": MANAGER,  # Arbeidstilsynet's inspections and orders: record them, close an order
}

# Which roles a role may give when it adds a person: a foreman brings workers onto the site, a manager anyone.
ROLES_GRANTED_BY = {
    "manager": ROLES,
    "foreman": ("worker",),
}


def roles_with(permission):
    """The site roles granted `permission` (a key of PERMISSIONS), as a tuple. KeyError for an unknown one."""
    return PERMISSIONS[permission]


def can(permission, membership=None):
    """Whether the membership (default: the signed-in person's on the URL's site, g.membership) grants
    `permission`. False without a membership. KeyError for a permission that is not in PERMISSIONS, so a
    misspelt name fails loudly instead of hiding a button."""
    roles = PERMISSIONS[permission]
    if membership is None:
        membership = g.get("membership")
    return membership is not None and membership.role in roles


# --- who is signed in: one path for every request ---------------------------------------------------------

def load_signed_in_person():
    """before_request, every request: who is signed in on this device, and their place on the URL's site.

    Sets g.device_session and g.user (the live DeviceSession and its person, or None), and for a URL with a
    site (/s/<site_id>/...) g.membership and g.site (the person's Membership of that site and the site, or
    None: not signed in, or not a member). One query for all four: the accounts blueprint gives the lookup
    (accounts.service.session_for_token, through use_session_lookup), so this module imports no feature.
    The decorators below only check what this loaded, so their order never changes what `g` holds.
    """
    g.user = g.device_session = g.membership = g.site = None
    # The outbox page is one shell page for everyone on the phone (kept by the service worker): no person in it.
    if request.endpoint in ("static", "shell.service_worker", "shell.manifest", "shell.healthz", "shell.outbox"):
        return
    site_id = (request.view_args or {}).get("site_id")
    device_session = current_app.extensions[SESSION_LOOKUP](session.get(SESSION_KEY), site_id)
    if device_session is None:
        if SESSION_KEY in session:
            session.pop(SESSION_KEY)  # revoked or expired: forget it
        return
    g.device_session = device_session
    g.user = device_session.user
    if site_id is not None and device_session.user.site_membership is not None:
        g.membership = device_session.user.site_membership
        g.site = g.membership.site


def signed_out_json():
    """The answer to a script's JSON post when nobody is signed in: 401 {"error": "Sign in" in the reader's
    language, "signed_out": true}; the push card then reloads its page, which leads to sign-in."""
    return jsonify(error=_("Sign in"), signed_out=True), 401


def _sign_in_first():
    """A page goes to sign-in and back; the outbox and a script's JSON post (the push subscription) get 401: a
    redirect would look to them like "try later", or like a failure with no reason."""
    if outbox.from_outbox():
        return outbox.signed_out()
    if request.is_json:
        return signed_out_json()
    return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))


def _not_signed_in_answer():
    """None if someone is signed in (and an outbox post is theirs to make), else the answer that refuses."""
    if g.user is None:
        return _sign_in_first()
    if outbox.from_outbox():
        return outbox.maker_problem(g.user)
    return None


def outbox_post(view):
    """A view that the phone's outbox posts to (check-in, check-out, report, acknowledgement).

    Outbox posts (X-Outbox: 1) are checked by outbox.same_origin() instead of the CSRF form token, which
    would be stale for an item queued before a later sign-in (see fieldapp/outbox.py for why this is
    safe). Every other post to the view is checked for the token as before. Put it above @requires.
    Errors: 403 for an outbox post from another site; CSRFError (400) for a form without a valid token.
    """
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if outbox.from_outbox():
            if not outbox.same_origin():
                return outbox.other_site()
        elif current_app.config["WTF_CSRF_ENABLED"] and current_app.config["WTF_CSRF_CHECK_DEFAULT"]:
            csrf.protect()  # what the app-wide check would have done
        return view(*args, **kwargs)

    csrf.exempt(wrapped)  # the check above replaces the app-wide one for this view
    return wrapped


def login_required(view):
    """A view for any signed-in person: else sign-in (a page) or 401 (an outbox post)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        refused = _not_signed_in_answer()
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    return wrapped


def requires(permission):
    """A site view (/s/<site_id>/...) for members whose role grants `permission` (a key of PERMISSIONS).

    Uses what load_signed_in_person put in g: sign-in (or 401 for the outbox) when nobody is signed in,
    404 when the person is not on the URL's site (it is not admitted to exist), 403 when their role there
    does not grant the permission. Queries then scope by g.site. An unknown permission is a KeyError when
    the view is defined, not at the first request.
    """
    roles_with(permission)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            # Before the site check: an outbox item of another person must wait, not fail on their site.
            refused = _not_signed_in_answer()
            if refused is not None:
                return refused
            if g.membership is None:
                abort(404)
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # read by may_open: a link shown only to whom it opens for
        return wrapped

    return decorator


def public(view):
    """Marks a view that anyone may open (sign-in, enrollment, health, manifest): documentation only."""
    return view


SESSION_LOOKUP = "fieldapp.session_lookup"


def use_session_lookup(app, lookup):
    """Set how load_signed_in_person finds a device session: lookup(cookie token or None, site id or None)
    -> the live DeviceSession with its user (and user.site_membership with a site id), or None."""
    app.extensions[SESSION_LOOKUP] = lookup


def required_permission(endpoint):
    """The permission (a key of PERMISSIONS) the view of `endpoint` requires (`@requires`), or None for a view
    without one (open to anyone signed in, or checked otherwise). KeyError for an unknown endpoint."""
    return getattr(current_app.view_functions[endpoint], "required_permission", None)


def may_open(endpoint):
    """Whether the signed-in person's role on the URL's site lets them open `endpoint`'s page: so a page shows a
    link only to those it opens for (the rest read who does it, e.g. duties.texts.who_does)."""
    permission = required_permission(endpoint)
    return permission is None or can(permission)


def init_app(app):
    """The before_request hooks (ahead of CSRF protection, which reads the form), the templates' `can`,
    `may_open` and `may_change_membership(person)`."""
    app.before_request(apply_upload_limit)
    app.before_request(load_signed_in_person)
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["may_open"] = may_open
    app.jinja_env.globals["may_change_membership"] = lambda person: may_change_membership(g.user, person)


def may_change_membership(actor, person):
    """Whether `actor`, who holds people.roles / people.remove on a site, may change `person`'s role there or
    take them off it. Returns a bool; callers answer 403 when it is False.

    Site managers change the roles of everyone on their site, other companies' people too, except an org admin:
    only an org admin changes an org admin's role or removes them (issue 14, "People belong to an
    organization"; found by the breaker: a manager made manager on one site demoted the org admin there, who
    then had no way back onto it).
    """
    return not person.is_org_admin or actor.is_org_admin or actor.id == person.id


def may_manage_person(actor, person, site_role):
    """Whether `actor` may issue `person` a sign-in code (which replaces their PIN) or change their name
    and HMS card: the one rule for every route that changes a person's account.

    actor, person: User rows; site_role: the actor's role on the site the request is about
    (g.membership.role), or None. Returns a bool; callers answer 403 when it is False.

    Source: issue 14, "People belong to an organization". An account belongs to one organization
    (User.organization). Only these may manage it:
    - the person themselves;
    - a manager of the person's own organization: an account of that organization that is its org admin
      or holds the manager role on one of its sites (an org admin's account: only another org admin);
    - a foreman (or manager) on this site whose account belongs to the same organization, for a person
      who is a worker everywhere and not an org admin: never a way to take over someone above them.
    Anyone else (another company's manager above all) invites the person instead.
    """
    if actor.id == person.id:
        return True
    if person.organization_id is None or actor.organization_id != person.organization_id:
        return False
    if actor.is_org_admin:
        return True
    if person.is_org_admin:
        return False  # only an org admin manages an org admin: a site manager's code would take over the org
    manages_org = (Membership.select().join(Site)
                   .where((Membership.user == actor.id) & (Membership.role == "manager")
                          & (Site.organization == person.organization_id))
                   .exists())
    if manages_org:
        return True
    if site_role not in roles_with("people.manage"):
        return False
    above_worker = person.is_org_admin or (Membership.select()
                                           .where((Membership.user == person.id) & (Membership.role != "worker"))
                                           .exists())
    return not above_worker
