"""Walkaround views: the site's rounds, starting one (the whole checklist on one page, kept for offline use),
answering items through the outbox, finishing, signing, notes, the report page and PDF, photos, the interval
and the organization's checklists."""
import uuid as uuidlib

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale

from .. import clock, downloads, inputs, outbox, phone_time, photos, storage
from ..accounts.views import client_ip
from ..authz import outbox_post, requires, upload_limit
from ..downloads import attachment
from ..reports import labels
from ..reports.service import read_uploads
from ..reports.views import photo_note
from . import pdf, service

bp = Blueprint("rounds", __name__)

ANSWER_MAX_BYTES = service.MAX_PHOTOS * photos.MAX_BYTES + 1024 * 1024


def _store():
    return storage.for_app(current_app)


def _language():
    return str(get_locale() or "nb")


def _refused(exc, page=None, **ctx):
    """An InputError as the outbox's short answer, or the page again with the message (status from inputs)."""
    status, message = inputs.problem(exc)
    if outbox.from_outbox() or page is None:
        return outbox.answer(status, message)
    return page(error=message, status=status, **ctx)


def _round_or_404(round_uuid):
    safety_round = service.get_round(g.site, round_uuid)
    if safety_round is None:
        abort(404)
    return safety_round


# --- the site's rounds ----------------------------------------------------------------------------------

@bp.get("/s/<int:site_id>/rounds")
@requires("rounds.read")
def rounds(site_id):
    due, days = service.due_dates([g.site.id])[g.site.id]
    return render_template("rounds/list.html", rounds=service.list_rounds(g.site), due=due, days=days,
                           today=clock.today(g.site))


@bp.route("/s/<int:site_id>/rounds/schedule", methods=["GET", "POST"])
@requires("rounds.schedule")
def schedule(site_id):
    error = None
    if request.method == "POST":
        try:
            service.set_interval(g.user, g.site, request.form.get("interval_days", ""))
            return redirect(url_for("rounds.rounds", site_id=site_id), 303)
        except inputs.InputError as exc:
            status, error = inputs.problem(exc)
            return render_template("rounds/schedule.html", days=request.form.get("interval_days", ""),
                                   error=error), status
    return render_template("rounds/schedule.html", days=service.interval_days(g.site), error=error)


# --- starting and answering -------------------------------------------------------------------------------

@bp.get("/s/<int:site_id>/rounds/new")
@requires("rounds.run")
def new_round(site_id):
    """The start page and the whole checklist: with JavaScript the round is made and answered from here
    through the outbox (no signal needed; the service worker keeps the page)."""
    templates = service.templates_for(g.site)
    template = service.template_for(g.site, request.args.get("template")) or templates[0]
    version = service.current_version(template)
    lang = _language()
    return render_template("rounds/new.html", templates=templates, template=template, version=version,
                           sections=service.shown_sections(version, lang), names=service.text,
                           open_findings=service.open_findings(g.site), new_uuid=str(uuidlib.uuid4()),
                           people=service.site_people(g.site), lang=lang, today=clock.today(g.site),
                           n_items=len(service.item_keys(version)),
                           finished=service.finished_uuids(g.site, g.user))


@bp.post("/s/<int:site_id>/rounds/new")
@outbox_post
@requires("rounds.run")
def start_round(site_id):
    try:
        round_uuid = outbox.parse_uuid(request.form.get("uuid"))
        safety_round, created = service.start_round(g.site, g.user, round_uuid, request.form.get("version"),
                                                    phone_time.from_request())
    except inputs.InputError as exc:
        return _refused(exc)
    if outbox.from_outbox():
        return outbox.answer(201 if created else 200, str(safety_round.uuid))
    return redirect(url_for("rounds.round_page", site_id=site_id, round_uuid=safety_round.uuid), 303)


def _round_context(safety_round):
    lang = _language()
    answers = service.answers_of(safety_round)
    done, total = service.progress(safety_round, answers)
    registered = service.registered_signers(safety_round)
    return dict(safety_round=safety_round, sections=service.shown_sections(safety_round.version, lang),
                answers=answers, done=done, total=total, findings=service.findings(safety_round),
                earlier_findings=service.open_findings(g.site, before=safety_round),
                people=service.site_people(g.site), registered=registered,
                signers=service.signers_for(safety_round, registered),
                signatures=service.signatures_of(safety_round), notes=service.notes_of(safety_round),
                participants=service.participants_shown(safety_round), statuses=labels.statuses(),
                new_uuid=str(uuidlib.uuid4()), today=clock.today(g.site),
                sign_uuids={side: str(uuidlib.uuid4()) for side in ("verneombud", "employer")})


def _round_page(safety_round, error=None, status=200):
    return render_template("rounds/round.html", error=error, **_round_context(safety_round)), status


@bp.get("/s/<int:site_id>/rounds/<uuid:round_uuid>")
@requires("rounds.read")
def round_page(site_id, round_uuid):
    return _round_page(_round_or_404(round_uuid))


@bp.post("/s/<int:site_id>/rounds/<uuid:round_uuid>/answers")
@outbox_post
@upload_limit(lambda: ANSWER_MAX_BYTES)
@requires("rounds.run")
def answer(site_id, round_uuid):
    safety_round = _round_or_404(round_uuid)
    form = request.form
    try:
        answer_uuid = outbox.parse_uuid(form.get("uuid"))
        uploads = read_uploads(request.files.getlist("photos"))
        row, status = service.answer_item(_store(), safety_round, g.user, answer_uuid, form.get("version"),
                                          form.get("item", ""), form.get("answer", ""), form.get("note", ""),
                                          uploads, phone_time.from_request(safety_round.started_at),
                                          language=_language())
    except inputs.InputError as exc:
        return _refused(exc, lambda **kw: _round_page(safety_round, **kw))
    notes = [photo_note(problem) for problem in row.dropped]
    if outbox.from_outbox():
        return outbox.answer(201 if status == "created" else 200, str(row.uuid), notes=notes)
    return redirect(url_for("rounds.round_page", site_id=site_id, round_uuid=round_uuid,
                            _anchor="item-" + row.item_key), 303)


@bp.post("/s/<int:site_id>/rounds/<uuid:round_uuid>/finish")
@outbox_post
@requires("rounds.run")
def finish(site_id, round_uuid):
    safety_round = _round_or_404(round_uuid)
    try:
        service.finish(safety_round, g.user, request.form.getlist("participants"), request.form.get("names", ""),
                       request.form.get("summary", ""))
    except inputs.InputError as exc:
        return _refused(exc, lambda **kw: _round_page(safety_round, **kw))
    if outbox.from_outbox():
        return outbox.answer(200, str(safety_round.uuid))
    return redirect(url_for("rounds.round_page", site_id=site_id, round_uuid=round_uuid, _anchor="sign"), 303)


@bp.post("/s/<int:site_id>/rounds/<uuid:round_uuid>/sign")
@outbox_post
@requires("rounds.run")
def sign(site_id, round_uuid):
    safety_round = _round_or_404(round_uuid)
    form = request.form
    try:
        sig_uuid = outbox.parse_uuid(form.get("uuid"))
        service.sign(safety_round, g.user, form.get("side", ""), form.get("signer", ""), form.get("pin", ""),
                     client_ip(), sig_uuid, phone_time.from_request(safety_round.finished_at))
    except inputs.InputError as exc:
        return _refused(exc, lambda **kw: _round_page(safety_round, **kw))
    if outbox.from_outbox():
        return outbox.answer(200, str(sig_uuid))
    return redirect(url_for("rounds.round_page", site_id=site_id, round_uuid=round_uuid, _anchor="sign"), 303)


@bp.post("/s/<int:site_id>/rounds/<uuid:round_uuid>/discard")
@requires("rounds.run")
def discard(site_id, round_uuid):
    """Discard an unfinished round (service.discard); with answers only when the box "confirm" is ticked."""
    safety_round = _round_or_404(round_uuid)
    try:
        service.discard(safety_round, g.user, request.form.get("confirm") == "yes")
    except inputs.InputError as exc:
        return _refused(exc, lambda **kw: _round_page(safety_round, **kw))
    return redirect(url_for("rounds.rounds", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/rounds/<uuid:round_uuid>/notes")
@requires("rounds.run")
def add_note(site_id, round_uuid):
    safety_round = _round_or_404(round_uuid)
    try:
        service.add_note(safety_round, g.user, request.form.get("note", ""))
    except inputs.InputError as exc:
        return _refused(exc, lambda **kw: _round_page(safety_round, **kw))
    return redirect(url_for("rounds.round_page", site_id=site_id, round_uuid=round_uuid, _anchor="notes"), 303)


# --- the report as a file, and photos --------------------------------------------------------------------

@bp.get("/s/<int:site_id>/rounds/<uuid:round_uuid>/report.pdf")
@requires("rounds.read")
def report_pdf(site_id, round_uuid):
    context = _round_context(_round_or_404(round_uuid))
    body = pdf.round_pdf(g.site, context, _store())
    day = clock.local(context["safety_round"].started_at, g.site).date().isoformat()
    return attachment(body, "application/pdf", f"vernerunde-{day}.pdf")


@bp.get("/s/<int:site_id>/rounds/<uuid:round_uuid>/photos/<digest>.jpg")
@requires("rounds.read")
def photo(site_id, round_uuid, digest):
    return _send_photo(round_uuid, digest, thumb=False)


@bp.get("/s/<int:site_id>/rounds/<uuid:round_uuid>/thumbs/<digest>.jpg")
@requires("rounds.read")
def thumbnail(site_id, round_uuid, digest):
    return _send_photo(round_uuid, digest, thumb=True)


def _send_photo(round_uuid, digest, thumb):
    if service.round_photo(g.site, round_uuid, digest) is None:
        abort(404)
    return downloads.photo(_store(), digest, thumb)


# --- the organization's checklists -------------------------------------------------------------------------

@bp.get("/s/<int:site_id>/checklists")
@requires("templates.manage")
def checklists(site_id):
    return render_template("rounds/checklists.html", templates=service.templates_for(g.site), names=service.text,
                           lang=_language())


@bp.post("/s/<int:site_id>/checklists/<int:template_id>/copy")
@requires("templates.manage")
def copy_checklist(site_id, template_id):
    template = service.template_for(g.site, template_id)
    if template is None:
        abort(404)
    copy = service.copy_template(g.user, g.site, template, _language())
    return redirect(url_for("rounds.edit_checklist", site_id=site_id, template_id=copy.id), 303)


@bp.route("/s/<int:site_id>/checklists/<int:template_id>/edit", methods=["GET", "POST"])
@requires("templates.manage")
def edit_checklist(site_id, template_id):
    template = service.template_for(g.site, template_id)
    if template is None or template.organization_id is None:
        abort(404)  # the built-in checklist is copied, never edited
    lang = _language()
    if request.method == "POST":
        try:
            service.edit_template(g.user, template, request.form.get("name", ""), request.form.get("outline", ""),
                                  lang)
            return redirect(url_for("rounds.checklists", site_id=site_id), 303)
        except inputs.InputError as exc:
            status, error = inputs.problem(exc)
            return render_template("rounds/edit_checklist.html", template=template, error=error,
                                   name=request.form.get("name", ""), outline=request.form.get("outline", "")), status
    return render_template("rounds/edit_checklist.html", template=template, error=None,
                           name=service.text(template.names, lang),
                           outline=service.as_outline(service.current_version(template), lang))
