"""SJA views: the list, the form (new, copy, change), the SJA's page with signing and the decision, the PDF."""
import uuid as uuidlib

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale

from .. import clock, downloads, inputs, outbox, phone_time, signatures
from ..inputs import whole_number
from ..accounts.views import client_ip, device_cookie_name
from ..authz import outbox_post, requires
from ..config import LANGUAGE_NAMES
from . import exports, labels, service
from .service import SjaError

bp = Blueprint("sja", __name__)


def _visible(sja_id):
    sja = service.visible(g.membership, sja_id)
    if sja is None:
        abort(404)
    return sja


@bp.get("/s/<int:site_id>/sja")
@requires("sja.read")
def sja_list(site_id):
    return render_template("sja/list.html", rows=service.list_for(g.membership),
                           templates=service.templates_for(g.site.organization_id, str(get_locale())))


# --- the form ------------------------------------------------------------------------------------------------

def _slots(values):
    """How many step rows, and hazard rows per step, the form shows: what is filled, and room for more."""
    def filled(prefix):
        return any(str(v).strip() for k, v in values.items() if k.startswith(prefix) and not isinstance(v, list))

    steps = max([i + 1 for i in range(service.MAX_STEPS) if filled(f"step-{i}-")] or [0])
    step_count = min(service.MAX_STEPS, max(steps + 2, 3))
    hazards = []
    for i in range(step_count):
        used = max([j + 1 for j in range(service.MAX_HAZARDS) if filled(f"step-{i}-hazard-{j}-")] or [0])
        hazards.append(min(service.MAX_HAZARDS, max(used + 1, 2)))
    return hazards


def _values(form):
    """A request form as the flat dict the template reads (lists for the multi-value fields)."""
    values = {k: form.get(k) for k in form.keys()}
    values["participants"] = form.getlist("participants")
    values["equipment"] = form.getlist("equipment")
    return values


def _form_page(values, action, status=200, error=None, errors=None, sja=None, source=None):
    values = dict(values)
    if not values.get("starts_at"):
        values["starts_at"] = clock.now(g.site).strftime("%Y-%m-%dT%H:%M")
    values.setdefault("responsible", str(g.user.id))
    lessons = service.earlier_lessons(g.site, values.get("title"), values.get("place"), sja and sja.id)
    options = service.form_options(g.site)
    return render_template(
        "sja/form.html", values=values, action=action, sja=sja, source=source, error=error, errors=errors or {},
        hazard_slots=_slots(values), people=options["people"], lessons=lessons, equipment=options["equipment"],
        scale=list(service.SCALE), grade_names=labels.grades(), new_uuid=str(uuidlib.uuid4()),
        templates=service.templates_for(g.site.organization_id, str(get_locale())),
        green_max=service.GREEN_MAX, amber_max=service.AMBER_MAX,
        starts_limits=inputs.date_bounds(clock.today(g.site), service.MAX_YEARS_BACK, service.MAX_YEARS_AHEAD)), status


@bp.get("/s/<int:site_id>/sja/new")
@requires("sja.create")
def new_sja(site_id):
    # Ids as ASCII digits of at most 18 (whole_number): type=int took 20 digits, and the lookup overflowed (a 500).
    source_id = request.args.get("copy", type=whole_number)
    template_id = request.args.get("template", type=whole_number)
    content, source = service.copy_source(g.membership, source_id, template_id)
    values = service.flatten(content) if content else {"equipment": service.form_options(g.site)["required"]}
    return _form_page(values, url_for("sja.create_sja", site_id=site_id), source=source)


@bp.post("/s/<int:site_id>/sja/new")
@outbox_post
@requires("sja.create")
def create_sja(site_id):
    try:
        sja_uuid = outbox.parse_uuid(request.form.get("uuid"))
        when = phone_time.from_request()
        content = service.clean(request.form, g.site)
        copied = service.copy_origin(g.membership, request.form.get("copied_from", type=whole_number))
        sja, created = service.create(g.site, g.user, sja_uuid, when, content, copied_from=copied)
    except inputs.InputError as exc:
        status, message = inputs.problem(exc)
        if outbox.from_outbox():
            return outbox.answer(status, message)
        return _form_page(_values(request.form), request.path, status, inputs.banner(exc),
                          inputs.errors_by_field(exc))
    if outbox.from_outbox():
        return outbox.answer(201 if created else 200, str(sja.uuid))
    return redirect(url_for("sja.sja_page", site_id=site_id, sja_id=sja.id), 303)


@bp.get("/s/<int:site_id>/sja/u/<uuid:sja_uuid>")
@requires("sja.read")
def by_uuid(site_id, sja_uuid):
    """Where a phone's page goes once its queued SJA was saved (static/js/sja.js sets the address)."""
    sja = service.by_uuid(g.membership, sja_uuid)
    if sja is None:
        return redirect(url_for("shell.outbox"), 303)
    return redirect(url_for("sja.sja_page", site_id=site_id, sja_id=sja.id), 303)


@bp.route("/s/<int:site_id>/sja/<int:sja_id>/edit", methods=["GET", "POST"])
@requires("sja.create")
def edit_sja(site_id, sja_id):
    sja = _visible(sja_id)
    if not service.may_still_change(sja):
        exc = SjaError("decided")
        return _page(sja, inputs.problem(exc)[0], inputs.banner(exc))
    if not service.may_change(g.membership, sja):  # told before the form is filled in, not after (the breaker)
        exc = SjaError("not_allowed")
        return _page(sja, inputs.problem(exc)[0], inputs.banner(exc))
    if request.method in ("GET", "HEAD"):
        values = service.flatten(service.content_of(sja))
        if sja.starts_at:
            values["starts_at"] = clock.local(sja.starts_at, g.site).strftime("%Y-%m-%dT%H:%M")
        values["revision"] = str(sja.revision)
        return _form_page(values, request.path, sja=sja)
    try:
        content = service.clean(request.form, g.site)
        service.update(g.membership, sja, content, request.form.get("revision", type=whole_number))
    except inputs.InputError as exc:
        status, _message = inputs.problem(exc)
        return _form_page(_values(request.form), request.path, status, inputs.banner(exc),
                          inputs.errors_by_field(exc), sja=sja)
    return redirect(url_for("sja.sja_page", site_id=site_id, sja_id=sja.id), 303)


# --- the SJA's page ------------------------------------------------------------------------------------------

def _page(sja, status=200, error=None, errors=None, reader=None):
    participants = service.participants_of(sja)
    waiting = [person for person, signature in participants if signature is None]
    context = dict(
        sja=sja, steps=service.steps_of(sja), participants=participants, waiting=waiting,
        me_waiting=any(person.id == g.user.id for person in waiting), reader=reader,
        signatures=service.signatures_of(sja), decisions=service.decisions_of(sja),
        names={p.id: p.name for p, _s in participants} | {sja.created_by_id: sja.created_by.name},
        responsible=sja.responsible, equipment=service.equipment_labels(sja.equipment, sja.organization_id),
        lessons=service.earlier_lessons(g.site, sja.title, sja.place, sja.id),
        may_change=service.may_change(g.membership, sja) and service.may_still_change(sja),
        levels=labels.levels(), decision_names=labels.decisions(), methods=labels.methods(),
        decision_choices=service.DECISIONS, error=error, errors=errors or {}, new_uuid=str(uuidlib.uuid4()),
        pin_uuid=str(uuidlib.uuid4()), template_uuid=str(uuidlib.uuid4()),
        language_names=LANGUAGE_NAMES)
    if reader is not None:
        # The participant reads it in their own language on this phone: the app's words, not the free text.
        with force_locale(reader.language):
            context.update(levels=labels.levels(), decision_names=labels.decisions(), methods=labels.methods(),
                           equipment=service.equipment_labels(sja.equipment, sja.organization_id))
            return render_template("sja/page.html", **context), status
    return render_template("sja/page.html", **context), status


def _reader(sja):
    raw = request.values.get("reader", type=whole_number)
    if raw is None or raw == g.user.id:
        return None
    return next((person for person, _s in service.participants_of(sja) if person.id == raw), None)


@bp.get("/s/<int:site_id>/sja/<int:sja_id>")
@requires("sja.read")
def sja_page(site_id, sja_id):
    sja = _visible(sja_id)
    return _page(sja, reader=_reader(sja))


@bp.post("/s/<int:site_id>/sja/<int:sja_id>/sign")
@outbox_post
@requires("sja.sign")
def sign(site_id, sja_id):
    sja = _visible(sja_id)
    try:
        sign_uuid = outbox.parse_uuid(request.form.get("uuid"))
        when = phone_time.from_request()
        person_id = request.form.get("signer", type=whole_number)
        language = request.form.get("language") or str(get_locale())
        if language not in current_app.config["LANGUAGES"]:
            language = str(get_locale())
        if person_id is None or person_id == g.user.id:
            if request.form.get("pin"):  # not needed on one's own phone, but never ignored (issue 18)
                signatures.confirm_signer(g.user, g.user, request.form.get("pin"), client_ip(),
                                          request.cookies.get(device_cookie_name()))
            signer, method = g.user, "session"
        else:
            # On the crew's phone: never from the outbox (a PIN is not kept on a phone), always the person's PIN.
            if outbox.from_outbox() or not request.form.get("pin"):
                raise SjaError("sign_for_other", field="pin")
            signer = service.participant(sja, person_id)
            if signer is None:
                raise SjaError("not_participant")
            signatures.confirm_signer(g.user, signer, request.form.get("pin"), client_ip(),
                                      request.cookies.get(device_cookie_name()))
            method = "pin"
        revision = request.form.get("revision", type=whole_number)
        _signature, created = service.sign(sja, signer, g.user, sign_uuid, revision, when, method, language)
    except inputs.InputError as exc:
        status, message = inputs.problem(exc)
        if outbox.from_outbox():
            return outbox.answer(status, message)
        return _page(sja, status, inputs.banner(exc), inputs.errors_by_field(exc), reader=_reader(sja))
    if outbox.from_outbox():
        return outbox.answer(201 if created else 200, str(sign_uuid))
    return redirect(url_for("sja.sja_page", site_id=site_id, sja_id=sja.id) + "#participants", 303)


def _act(sja_id, action):
    sja = _visible(sja_id)
    try:
        action(sja)
    except inputs.InputError as exc:
        status, _message = inputs.problem(exc)
        return _page(sja, status, inputs.banner(exc), inputs.errors_by_field(exc))
    return redirect(url_for("sja.sja_page", site_id=g.site.id, sja_id=sja.id) + "#decision", 303)


@bp.post("/s/<int:site_id>/sja/<int:sja_id>/decide")
@requires("sja.decide")
def decide(site_id, sja_id):
    return _act(sja_id, lambda sja: service.decide(sja, g.user, request.form.get("decision"), request.form.get("note"),
                                                   request.form.get("revision", type=whole_number)))


@bp.post("/s/<int:site_id>/sja/<int:sja_id>/finish")
@requires("sja.decide")
def finish(site_id, sja_id):
    return _act(sja_id, lambda sja: service.finish(sja, g.user, request.form.get("lessons")))


@bp.post("/s/<int:site_id>/sja/<int:sja_id>/template")
@requires("sja.template")
def save_template(site_id, sja_id):
    def save(sja):
        names = {code: request.form.get(f"name_{code}") or "" for code in current_app.config["LANGUAGES"]}
        service.save_template(sja, g.user, names, outbox.parse_uuid(request.form.get("uuid")))

    return _act(sja_id, save)


@bp.get("/s/<int:site_id>/sja/<int:sja_id>.pdf")
@requires("sja.read")
def sja_pdf(site_id, sja_id):
    sja = _visible(sja_id)
    body = exports.sja_pdf(g.site, sja, service.steps_of(sja), service.participants_of(sja),
                           service.signatures_of(sja), service.decisions_of(sja))
    return downloads.attachment(body, "application/pdf", f"sja-{g.site.id}-{sja.id}.pdf")
