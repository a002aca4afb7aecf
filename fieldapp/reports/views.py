"""Report views: the four-tap report form, the follow-up lists, a report's page, and its photos."""
import uuid as uuidlib

from flask import abort, Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import clock, downloads, inputs, outbox, phone_time, photos, storage
from ..authz import can, login_required, outbox_post, requires, upload_limit
from ..checkin import service as checkin
from ..htmx import render
from ..rounds import service as rounds
from ..sites.service import memberships_of
from . import labels, service
from .service import ReportError

bp = Blueprint("reports", __name__)

# A report may carry six phone photos; the browser usually shrinks them to ~0.5 MB each first.
REPORT_MAX_BYTES = service.MAX_PHOTOS * photos.MAX_BYTES + 1024 * 1024


def _store():
    return storage.for_app(current_app)


# --- reporting ------------------------------------------------------------------------------------------

@bp.get("/report")
@login_required
def choose_site():
    """The bottom navigation's Report: straight to the site the person is checked in at."""
    open_row = checkin.open_check_in(g.user)
    if open_row is not None:
        return redirect(url_for("reports.new_report", site_id=open_row.site_id))
    memberships = memberships_of(g.user)
    if len(memberships) == 1:
        return redirect(url_for("reports.new_report", site_id=memberships[0].site_id))
    return render_template("reports/choose_site.html", memberships=memberships)


def _form_context(error=None, form=None, errors=None):
    return dict(kinds=labels.reported_kinds(), categories=labels.categories(), severities=labels.severities(),
                new_uuid=str(uuidlib.uuid4()), error=error, errors=errors or {}, form=form or {},
                grave=sorted(service.GRAVE_CATEGORIES), max_photos=service.MAX_PHOTOS,
                photo_long_edge=photos.LONG_EDGE)


@bp.get("/s/<int:site_id>/reports/new")
@requires("reports.create")
def new_report(site_id):
    return render_template("reports/new.html", **_form_context())


@bp.post("/s/<int:site_id>/reports/new")
@outbox_post
@upload_limit(lambda: REPORT_MAX_BYTES)
@requires("reports.create")
def create_report(site_id):
    try:
        report_uuid = outbox.parse_uuid(request.form.get("uuid"))
        when = phone_time.from_request()
        fields, injury = service.clean_fields(request.form)
        blobs = service.read_uploads(request.files.getlist("photos"))
        report, created = service.create_report(_store(), g.site, g.user, report_uuid, when, fields, injury,
                                                blobs)
    except (ReportError, inputs.InputError, photos.PhotoError) as exc:
        status, message = inputs.problem(exc)
        if outbox.from_outbox():
            return outbox.answer(status, message)
        context = _form_context(error=inputs.banner(exc), errors=inputs.errors_by_field(exc), form=request.form)
        return render_template("reports/new.html", **context), status
    if outbox.from_outbox():
        # The receipt on the phone says which photos were left out and why, in the person's language.
        notes = [photo_note(problem) for problem in service.dropped_photos(report)]
        return outbox.answer(201 if created else 200, str(report.uuid), notes=notes)
    return redirect(url_for("reports.report", site_id=site_id, report_id=report.id, sent=1), 303)


def photo_note(problem):
    """'Photo 2 (IMG_1.jpg) could not be used: <why>' for a service.dropped_photos() entry."""
    reason = problem["reason"] if problem["reason"] in photos.STATUS else "damaged"
    why = inputs.problem(photos.PhotoError(reason))[1]
    return _("Photo %(n)s (%(name)s) could not be used: %(why)s", n=problem["n"], name=problem["name"], why=why)


# --- lists and the report's page -----------------------------------------------------------------------

@bp.get("/s/<int:site_id>/reports")
@requires("reports.read")
def reports(site_id):
    status = request.args.get("status", "active")
    if status not in service.STATUS_FILTERS:
        status = "active"
    today = clock.today(g.site)
    rows = service.list_reports(g.membership, status=status, kind=request.args.get("kind"),
                                category=request.args.get("category"), severity=request.args.get("severity"),
                                today=today)
    return render("reports/list.html", "reports/_rows.html", rows=rows, shown=status, today=today,
                  kinds=labels.kinds(), categories=labels.categories(), severities=labels.severities(),
                  statuses=labels.statuses(),
                  filters=request.args)


def _visible_report(report_id):
    report = service.get_visible(g.membership, report_id)
    if report is None:
        abort(404)
    return report


def _report_page(report, error=None, status=200, errors=None):
    injury = None
    if report.kind == "injury":
        injury = service.injury_details(report)
    service.mark_told(report, g.user)
    people = service.assignable_people(g.site)
    return render_template(
        "reports/report.html", report=report, photos=service.report_photos(report),
        photo_notes=[photo_note(problem) for problem in service.dropped_photos(report)],
        events=service.timeline(report), injury=injury, error=error, errors=errors or {}, today=clock.today(g.site),
        deadline_last=inputs.date_bounds(clock.today(g.site), 0, service.DEADLINE_YEARS_AHEAD)[1],
        kinds=labels.kinds(), categories=labels.categories(), severities=labels.severities(),
        statuses=labels.statuses(), from_round=rounds.finding_origin(report) if report.kind == "finding" else None,
        people=people if can("reports.assign") else [], names={person.id: person.name for person in people},
        comment_uuid=uuidlib.uuid4()), status


@bp.get("/s/<int:site_id>/reports/<int:report_id>")
@requires("reports.read")
def report(site_id, report_id):
    return _report_page(_visible_report(report_id))


@bp.get("/s/<int:site_id>/reports/<int:report_id>/photos/<digest>.jpg")
@requires("reports.read")
def photo(site_id, report_id, digest):
    return _send_photo(report_id, digest, thumb=False)


@bp.get("/s/<int:site_id>/reports/<int:report_id>/thumbs/<digest>.jpg")
@requires("reports.read")
def thumbnail(site_id, report_id, digest):
    return _send_photo(report_id, digest, thumb=True)


def _send_photo(report_id, digest, thumb):
    if service.photo_for(g.membership, report_id, digest) is None:
        abort(404)
    return downloads.photo(_store(), digest, thumb)


# --- follow-up ----------------------------------------------------------------------------------------

# Four forms of the report page send a field named "text": a message about it goes beside the box of the form
# that was sent (its id on the page), and what was typed comes back in that box (templates/reports/report.html).
TEXT_BOXES = {"reports.comment": "comment-text", "reports.action": "action-text", "reports.close": "action-text",
              "reports.reopen": "reopen-text"}


def _follow_up(report_id, action):
    report = _visible_report(report_id)
    try:
        action(report)
    except inputs.InputError as exc:  # ReportError, PhotoError, a bad UUID
        status, _message = inputs.problem(exc)
        errors = inputs.errors_by_field(exc)
        if "text" in errors:
            errors[TEXT_BOXES[request.endpoint]] = errors.pop("text")
        return _report_page(report, error=inputs.banner(exc), status=status, errors=errors)
    return redirect(url_for("reports.report", site_id=g.site.id, report_id=report.id) + "#timeline", 303)


@bp.get("/s/<int:site_id>/reports/<int:report_id>/"
        "<any(assign, comment, action, 'after-photo', close, reopen, notified):change>")
@requires("reports.read")
def back_to_report(site_id, report_id, change):
    """A refused follow-up shows the report's page at the change's address: opened again (GET, a reload after the
    phone was put away), it leads back to the report (which checks who may read it), not to a 405. Nothing is
    changed on a GET."""
    return redirect(url_for("reports.report", site_id=site_id, report_id=report_id), 303)


@bp.post("/s/<int:site_id>/reports/<int:report_id>/assign")
@requires("reports.assign")
def assign(site_id, report_id):
    return _follow_up(report_id, lambda r: service.assign(g.user, r, request.form.get("assignee"),
                                                          request.form.get("deadline")))


@bp.post("/s/<int:site_id>/reports/<int:report_id>/comment")
@requires("reports.comment")
def comment(site_id, report_id):
    form_uuid = request.form.get("uuid")  # the page's; a client without one is held to the replay window
    return _follow_up(report_id, lambda r: service.comment(
        g.user, r, request.form.get("text"), None if form_uuid is None else outbox.parse_uuid(form_uuid)))


@bp.post("/s/<int:site_id>/reports/<int:report_id>/action")
@requires("reports.follow_up")
def action(site_id, report_id):
    return _follow_up(report_id, lambda r: service.set_action(g.user, r, request.form.get("text")))


@bp.post("/s/<int:site_id>/reports/<int:report_id>/after-photo")
@upload_limit(lambda: photos.MAX_BYTES + 1024 * 1024)
@requires("reports.follow_up")
def after_photo(site_id, report_id):
    return _follow_up(report_id, lambda r: service.add_after_photo(_store(), g.user, r, request.files.get("photo")))


@bp.post("/s/<int:site_id>/reports/<int:report_id>/close")
@requires("reports.close")
def close(site_id, report_id):
    return _follow_up(report_id, lambda r: service.close(g.user, r, request.form.get("text")))


@bp.post("/s/<int:site_id>/reports/<int:report_id>/reopen")
@requires("reports.close")
def reopen(site_id, report_id):
    return _follow_up(report_id, lambda r: service.reopen(g.user, r, request.form.get("text")))


@bp.post("/s/<int:site_id>/reports/<int:report_id>/notified")
@requires("reports.notify")
def notified(site_id, report_id):
    return _follow_up(report_id, lambda report: service.record_notification(
        g.user, report, request.form.get("authority"), request.form.get("at")))
