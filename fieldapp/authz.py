"""Who is signed in, and what their role on a site lets them do: one helper for every view."""
import functools

from flask import abort, current_app, g, redirect, request, session, url_for

from . import outbox


SESSION_KEY = "sid"


def upload_limit(max_bytes):
    """A view that takes larger uploads than MAX_CONTENT_LENGTH (photos). Applied before the body is read."""

    def decorator(view):
        view.fieldapp_max_bytes = max_bytes
        return view

    return decorator


def apply_upload_limit():
    """before_request, ahead of CSRF protection (which reads the form): the view's own body limit."""
    view = current_app.view_functions.get(request.endpoint)
    limit = getattr(view, "fieldapp_max_bytes", None)
    if limit is not None:
        request.max_content_length = limit() if callable(limit) else limit


def load_signed_in_user():
    """before_request: g.user and g.device_session from the server-side device session.

    Site views load them in `requires`, together with the role on the site, in one query.
    """
    g.user = None
    g.device_session = None
    # The outbox page is one shell page for everyone on the phone (kept by the service worker): no person in it.
    if request.endpoint in ("static", "shell.service_worker", "shell.manifest", "shell.healthz", "shell.outbox"):
        return
    view = current_app.view_functions.get(request.endpoint)
    if isinstance(getattr(view, "fieldapp_access", None), tuple):
        return
    _sign_in_from_cookie()


def _sign_in_from_cookie(site_id=None):
    from .accounts.service import session_for_token  # here: the accounts views import this module

    device_session = session_for_token(session.get(SESSION_KEY), site_id)
    if device_session is None:
        if SESSION_KEY in session:
            session.pop(SESSION_KEY)  # revoked or expired: forget it
        return None
    g.device_session = device_session
    g.user = device_session.user
    return device_session


def _sign_in_first():
    """A page goes to sign-in and back; the outbox gets 401 (a redirect would look like "try later")."""
    if outbox.from_outbox():
        return outbox.signed_out()
    return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))


def outbox_post(view):
    """A view that the phone's outbox posts to (check-in, check-out, report, acknowledgement).

    Outbox posts (X-Outbox: 1) are checked by outbox.same_origin() instead of the CSRF form token, which
    would be stale for an item queued before a later sign-in (see fieldapp/outbox.py for why this is
    safe). Every other post to the view is checked for the token as before. Put it above @requires.
    Errors: 403 for an outbox post from another site; CSRFError (400) for a form without a valid token.
    """
    from . import csrf  # here: fieldapp/__init__ imports this module while it builds the app

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if outbox.from_outbox():
            if not outbox.same_origin():
                abort(403)
        elif current_app.config["WTF_CSRF_ENABLED"] and current_app.config["WTF_CSRF_CHECK_DEFAULT"]:
            csrf.protect()  # what the app-wide check would have done
        return view(*args, **kwargs)

    csrf.exempt(wrapped)  # the check above replaces the app-wide one for this view
    return wrapped


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return _sign_in_first()
        if outbox.from_outbox():
            problem = outbox.maker_problem(g.user)
            if problem is not None:
                return problem
        return view(*args, **kwargs)

    wrapped.fieldapp_access = "signed-in"
    return wrapped


def requires(*roles):
    """The signed-in person's membership of the URL's site: 404 if none, 403 for another role.

    Puts the membership in g.membership and the site in g.site; every query then scopes by g.site.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, site_id, **kwargs):
            device_session = _sign_in_from_cookie(site_id)
            if device_session is None:
                return _sign_in_first()
            if outbox.from_outbox():
                # Before the site check: an item of another person must wait, not fail on their site.
                problem = outbox.maker_problem(device_session.user)
                if problem is not None:
                    return problem
            membership = device_session.user.site_membership
            if membership is None:
                abort(404)
            if roles and membership.role not in roles:
                abort(403)
            g.membership = membership
            g.site = membership.site
            return view(*args, site_id=site_id, **kwargs)

        wrapped.fieldapp_access = ("site", roles)
        return wrapped

    return decorator


def public(view):
    """Marks a view that anyone may open (sign-in, enrollment, health, manifest)."""
    view.fieldapp_access = "public"
    return view


def may_manage_person(actor, person, site_role):
    """Whether `actor` may issue `person` a sign-in code (which replaces their PIN) or change their name
    and HMS card: the one rule for every route that changes a person's account.

    actor, person: User rows; site_role: the actor's role on the site the request is about
    (g.membership.role), or None. Returns a bool; callers answer 403 when it is False.

    Source: issue 14, "People belong to an organization". An account belongs to one organization
    (User.organization). Only these may manage it:
    - the person themselves;
    - a manager of the person's own organization: an account of that organization that is its org admin
      or holds the manager role on one of its sites;
    - a foreman (or manager) on this site whose account belongs to the same organization, for a person
      who is a worker everywhere and not an org admin: never a way to take over someone above them.
    Anyone else (another company's manager above all) invites the person instead.
    """
    from .models import Membership, Site  # here: models are not needed by every importer of authz

    if actor.id == person.id:
        return True
    if person.organization_id is None or actor.organization_id != person.organization_id:
        return False
    if actor.is_org_admin:
        return True
    manages_org = (Membership.select().join(Site)
                   .where((Membership.user == actor.id) & (Membership.role == "manager")
                          & (Site.organization == person.organization_id))
                   .exists())
    if manages_org:
        return True
    if site_role not in ("foreman", "manager"):
        return False
    above_worker = person.is_org_admin or (Membership.select()
                                           .where((Membership.user == person.id) & (Membership.role != "worker"))
                                           .exists())
    return not above_worker
