"""Site views: create and edit a site, its people, roles and enrollment codes."""
import segno
from flask import abort, Blueprint, g, redirect, render_template, request, url_for

from .. import inputs
from ..accounts import service as accounts
from ..authz import login_required, may_change_membership, may_manage_person, requires
from ..config import LANGUAGE_NAMES
from ..htmx import render, wants_fragment
from . import service
from . import forms
from .forms import role_helpers

bp = Blueprint("sites", __name__)
bp.app_context_processor(role_helpers)


@bp.route("/sites/new", methods=["GET", "POST"])
@login_required
def new_site():
    if not g.user.is_org_admin or g.user.employer_id is None:
        abort(403)
    if request.method in ("GET", "HEAD"):
        return render_template("sites/new.html", values={}, errors={})
    try:
        values = forms.read_site(request.form)
    except inputs.InputError as exc:
        return (render_template("sites/new.html", values=request.form, errors=inputs.errors_by_field(exc)),
                inputs.problem(exc)[0])
    site = service.create_site(g.user, g.user.employer, values)
    return redirect(url_for("sites.people", site_id=site.id), 303)


@bp.route("/s/<int:site_id>/edit", methods=["GET", "POST"])
@requires("sites.settings")
def edit_site(site_id):
    if request.method in ("GET", "HEAD"):
        return render_template("sites/edit.html", values=g.site, errors={})
    try:
        values = forms.read_site(request.form, with_active=True)
    except inputs.InputError as exc:
        return (render_template("sites/edit.html", values=request.form, errors=inputs.errors_by_field(exc)),
                inputs.problem(exc)[0])
    service.update_site(g.user, g.site, values)
    return redirect(url_for("sites.people", site_id=site_id), 303)


@bp.get("/s/<int:site_id>/people")
@requires("people.list")
def people(site_id):
    members, invitations = service.people_on(g.site)
    return render("sites/people.html", "sites/_people_rows.html", members=members, invitations=invitations)


def _membership_or_404(user_id):
    membership = service.membership_on(g.site, user_id)
    if membership is None:
        abort(404)
    return membership


@bp.get("/s/<int:site_id>/people/<int:user_id>")
@requires("people.list")
def person(site_id, user_id):
    membership = _membership_or_404(user_id)
    return render("sites/person.html", "sites/_person.html", membership=membership,
                  hms_values=membership.user, errors={}, may_manage=_may_manage(membership.user))


def _may_manage(person):
    return may_manage_person(g.user, person, g.membership.role)


def _manageable_or_403(user_id):
    """The site's member `user_id` if the signed-in person may manage their account: else 404 or 403."""
    membership = _membership_or_404(user_id)
    if not _may_manage(membership.user):
        abort(403)
    return membership


def _grantable():
    return service.ROLES_GRANTED_BY.get(g.membership.role, ())


@bp.route("/s/<int:site_id>/people/new", methods=["GET", "POST"])
@requires("people.add")
def add_person(site_id):
    organizations = service.own_organizations(g.user)
    page = dict(roles=_grantable(), organizations=organizations, language_names=LANGUAGE_NAMES)
    if request.method in ("GET", "HEAD"):
        return render_template("sites/add_person.html", **page, values={}, errors={})
    try:
        values = forms.read_person(request.form, _grantable(), [o.id for o in organizations])
        added = service.add_person(g.user, g.site, values["role"], values, actor_role=g.membership.role,
                                   new_employer=values["new_employer"])
    except inputs.InputError as exc:  # the form's problems, or a Conflict (shown beside the phone number)
        errors = inputs.errors_by_field(exc) or {"phone": inputs.problem(exc)[1]}
        return (render_template("sites/add_person.html", **page, values=request.form, errors=errors),
                inputs.problem(exc)[0])
    if added.code is None:  # on the site already enrolled, or invited (the list says "invited")
        return redirect(url_for("sites.people", site_id=site_id), 303)
    return _show_code(added.membership.user, added.code, status=201)


def _show_code(person, code, status=200):
    url = accounts.enrollment_link(code)
    qr = segno.make(url, error="m")
    return render_template("sites/enrollment_code.html", person=person, code=accounts.format_code(code),
                           url=url, qr_svg=qr.svg_data_uri(scale=6, border=2)), status


@bp.post("/s/<int:site_id>/people/<int:user_id>/code")
@requires("people.manage")
def new_code(site_id, user_id):
    """A fresh code for a lost or new phone: it replaces the person's PIN on the next enrollment."""
    membership = _manageable_or_403(user_id)
    code = accounts.issue_enrollment_code(g.user, membership.user)
    return _show_code(membership.user, code)


def _changeable_or_403(user_id):
    """The site's member `user_id` if the signed-in person may change their role or remove them: else 404 or 403."""
    membership = _membership_or_404(user_id)
    if not may_change_membership(g.user, membership.user):
        abort(403)
    return membership


@bp.post("/s/<int:site_id>/people/<int:user_id>/role")
@requires("people.roles")
def change_role(site_id, user_id):
    membership = _changeable_or_403(user_id)
    try:
        role = forms.read_role(request.form, _grantable())["role"]
        service.change_role(g.user, membership, role)
    except inputs.InputError as exc:  # a role this person may not give, or the site's last manager
        return render("sites/person.html", "sites/_person.html", status=inputs.problem(exc)[0],
                      membership=membership, error=inputs.problem(exc)[1])
    if wants_fragment():
        return render("sites/person.html", "sites/_person.html", membership=membership)
    return redirect(url_for("sites.person", site_id=site_id, user_id=user_id), 303)


@bp.post("/s/<int:site_id>/people/<int:user_id>/remove")
@requires("people.remove")
def remove_person(site_id, user_id):
    membership = _changeable_or_403(user_id)
    try:
        service.remove_member(g.user, membership)
    except service.Conflict as exc:
        return render("sites/person.html", "sites/_person.html", status=409, membership=membership,
                      error=inputs.problem(exc)[1])
    return redirect(url_for("sites.people", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/people/<int:user_id>/hms-card")
@requires("people.manage")
def update_hms_card(site_id, user_id):
    """The HMS card is shown to the foreman, who keeps its number and expiry (and the name) up to date."""
    membership = _manageable_or_403(user_id)
    try:
        card = forms.read_hms_card(request.form)
    except inputs.InputError as exc:
        return render("sites/person.html", "sites/_person.html", status=inputs.problem(exc)[0],
                      membership=membership, hms_values=request.form, errors=inputs.errors_by_field(exc),
                      may_manage=True)
    service.update_hms_card(g.user, membership.user, card["hms_card_number"], card["hms_card_expiry"],
                            name=card["name"])
    return redirect(url_for("sites.person", site_id=site_id, user_id=user_id), 303)


@bp.app_template_global("pending_invitations")
def pending_invitations():
    """For the home screen: the signed-in person's invitations (a function, so only the home page pays)."""
    return service.pending_invitations(g.user) if g.get("user") is not None else []


@bp.get("/org/people")
@login_required
def org_people():
    """The org admin's list of the organization's accounts (issue 14: an organization sees its people)."""
    if not g.user.is_org_admin or g.user.organization_id is None:
        abort(403)
    return render_template("sites/org_people.html", organization=g.user.organization,
                           people=service.people_of(g.user.organization_id))


@bp.post("/invitations/<int:invitation_id>/<any(accept, decline):answer>")
@login_required
def answer_invitation(invitation_id, answer):
    """The invited person, signed in as themselves, joins the site or says no."""
    if service.answer_invitation(g.user, invitation_id, accept=(answer == "accept")) is None:
        abort(404)
    return redirect(url_for("shell.home"), 303)
