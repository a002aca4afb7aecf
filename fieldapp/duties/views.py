"""The responsibilities page, a person's own duties and rights, and the verneombud register (issue 24)."""
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import clock, downloads, inputs, storage
from ..authz import login_required, may_manage_person, requires
from ..inputs import InputError
from ..shell.errors import render_error
from . import evidence, service, texts

bp = Blueprint("duties", __name__)


@bp.get("/s/<int:site_id>/duties")
@requires("duties.site")
def page(site_id):
    today = clock.today(g.site)
    error, status = None, 200
    try:
        days = service.parse_days(request.args.get("days"))
        scope = service.scope_for(g.user, g.site, request.args.get("scope"))
    except InputError as exc:
        status, error = inputs.problem(exc)
        days, scope = service.DEFAULT_DAYS, service.scope_for(g.user, g.site, "site")
    period = service.period_ending(today, days)
    sections = service.responsibilities(scope, period, today)
    return render_template("duties/page.html", sections=sections, summary=service.summary(sections), scope=scope,
                           period=period, days=days, error=error, texts=texts,
                           open_orders=service.open_orders(scope.site_ids), today=today,
                           scope_arg=request.args.get("scope") or "site"), status


@bp.get("/me/duties")
@login_required
def mine():
    roles = service.own_roles(g.user)
    return render_template("duties/mine.html", roles=roles, texts=texts)


@bp.get("/s/<int:site_id>/verneombud")
@requires("duties.site")
def register(site_id):
    return _register_page({}, {})


def _register_page(form, errors, status=200, hours_form=None, hours_errors=None):
    today = clock.today(g.site)
    terms = service.register(g.site, today)
    return render_template("duties/register.html", terms=terms, course=service.course_40h(terms),
                           roles=service.site_roles(g.site, terms),
                           hours=service.hours_summary(g.site, service.period_ending(today, service.DEFAULT_DAYS)),
                           hours_form=hours_form or {}, hours_errors=hours_errors or {},
                           people_options=[(p.id, p.name) for p in service.site_people(g.site)], form=form,
                           errors=errors, texts=texts,
                           today=today), status


@bp.post("/s/<int:site_id>/verneombud")
@requires("verneombud.manage")
def add_term(site_id):
    try:
        service.add_term(g.user, g.site, request.form)
    except InputError as exc:
        status, _message = inputs.problem(exc)
        return _register_page(request.form, inputs.errors_by_field(exc), status)
    return redirect(url_for("duties.register", site_id=site_id), 303)


def _person_or_404(user_id):
    person = service.person_on_site(g.site, user_id)
    if person is None:
        abort(404)
    if not may_manage_person(g.user, person, g.membership.role):
        abort(403)
    return person


@bp.get("/s/<int:site_id>/people/<int:user_id>/attendance-details")
@requires("people.manage")
def s15(site_id, user_id):
    person = _person_or_404(user_id)
    agency = service.agency_of(person)
    values = {"date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
              "hired_in": "1" if person.hired_in else "",
              "agency_name": agency.name if agency else "", "agency_org_number": agency.org_number if agency else ""}
    return render_template("duties/s15.html", person=person, values=values, errors={})


@bp.post("/s/<int:site_id>/people/<int:user_id>/attendance-details")
@requires("people.manage")
def save_s15(site_id, user_id):
    person = _person_or_404(user_id)
    try:
        service.set_s15(g.user, g.site, person, request.form)
    except InputError as exc:
        status, _message = inputs.problem(exc)
        return render_template("duties/s15.html", person=person, values=request.form,
                               errors=inputs.errors_by_field(exc)), status
    return redirect(url_for("sites.person", site_id=site_id, user_id=user_id), 303)


# --- Arbeidstilsynet: inspections and orders -----------------------------------------------------------------------

def _inspections_page(form=None, errors=None, status=200, closing=None, evidence_for=None):
    return render_template("duties/inspections.html", inspections=service.inspections_of(g.site),
                           form=form or {}, errors=errors or {}, texts=texts, today=clock.today(g.site),
                           closing=closing, evidence_for=evidence_for,
                           max_files=service.MAX_EVIDENCE_UPLOAD), status


@bp.get("/s/<int:site_id>/inspections")
@requires("duties.site")
def inspections(site_id):
    return _inspections_page()


@bp.post("/s/<int:site_id>/inspections")
@requires("inspections.manage")
def add_inspection(site_id):
    try:
        service.add_inspection(g.user, g.site, request.form)
    except InputError as exc:
        status, _message = inputs.problem(exc)
        return _inspections_page(request.form, inputs.errors_by_field(exc), status)
    return redirect(url_for("duties.inspections", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/inspections/orders/<int:order_id>/close")
@requires("inspections.manage")
def close_order(site_id, order_id):
    try:
        order = service.close_order(g.user, g.site, order_id, request.form, request.files.getlist("evidence"),
                                    storage.for_app(current_app))
    except InputError as exc:
        status, message = inputs.problem(exc)
        errors = inputs.errors_by_field(exc) or {"response": message}
        return _inspections_page(request.form, errors, status, closing=order_id)
    if order is None:
        abort(404)
    return redirect(url_for("duties.inspections", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/inspections/orders/<int:order_id>/evidence")
@requires("inspections.manage")
def add_evidence(site_id, order_id):
    try:
        added = service.add_evidence(g.user, g.site, order_id, request.files.getlist("evidence"),
                                     storage.for_app(current_app))
    except InputError as exc:
        status, message = inputs.problem(exc)
        return _inspections_page({}, {"evidence": message}, status, evidence_for=order_id)
    if added is None:
        abort(404)
    return redirect(url_for("duties.inspections", site_id=site_id, _anchor=f"order-{order_id}"), 303)


@bp.get("/s/<int:site_id>/inspections/orders/<int:order_id>/evidence/<digest>.jpg")
@requires("duties.site")
def evidence_photo(site_id, order_id, digest):
    return _evidence_photo(order_id, digest, thumb=False)


@bp.get("/s/<int:site_id>/inspections/orders/<int:order_id>/evidence/<digest>/thumb.jpg")
@requires("duties.site")
def evidence_thumb(site_id, order_id, digest):
    return _evidence_photo(order_id, digest, thumb=True)


def _evidence_photo(order_id, digest, thumb):
    item = service.evidence_item(g.site, order_id, digest)
    if item is None or item.kind != "photo":
        abort(404)
    return downloads.photo(storage.for_app(current_app), digest, thumb)


@bp.get("/s/<int:site_id>/inspections/orders/<int:order_id>/evidence/<digest>.pdf")
@requires("duties.site")
def evidence_document(site_id, order_id, digest):
    item = service.evidence_item(g.site, order_id, digest)
    if item is None or item.kind != "document":
        abort(404)
    try:
        body = storage.for_app(current_app).read(digest, ext="pdf")
    except FileNotFoundError:
        abort(404)
    return downloads.attachment(body, "application/pdf", f"dokumentasjon-{order_id}-{digest[:12]}.pdf")


# --- the inspector's pack ------------------------------------------------------------------------------------------

@bp.get("/s/<int:site_id>/duties/inspector-pack.pdf")
@requires("injuries.register")  # the pack holds the register of injuries (AML § 5-1: employer and verneombud)
def inspector_pack(site_id):
    today = clock.today(g.site)
    try:
        days = service.parse_days(request.args.get("days"))
    except InputError as exc:
        status, message = inputs.problem(exc)
        return render_error(status, _("The pack cannot be made"), message)
    body = service.inspector_pack(g.site, service.period_ending(today, days), today, str(get_locale()),
                                  storage.for_app(current_app))
    return downloads.attachment(body, "application/pdf", f"tilsynspakke-{g.site.id}-{today.isoformat()}.pdf")


@bp.post("/s/<int:site_id>/verneombud/hours")
@requires("verneombud.hours")
def record_hours(site_id):
    try:
        service.record_hours(g.user, g.site, request.form)
    except InputError as exc:
        status, _message = inputs.problem(exc)
        return _register_page({}, {}, status, hours_form=request.form, hours_errors=inputs.errors_by_field(exc))
    return redirect(url_for("duties.register", site_id=site_id), 303)
