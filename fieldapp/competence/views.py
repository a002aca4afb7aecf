"""Competence views: a person's own certificates (also offline), approval, requirements, tasks, the matrix."""
import uuid as uuidlib

from flask import abort, Blueprint, current_app, g, redirect, render_template, request, url_for

from .. import clock, downloads, inputs, outbox, phone_time, photos, storage
from ..authz import login_required, outbox_post, requires, upload_limit
from ..inputs import InputError
from . import exports, importer, service
from .courses import TASKS
from .labels import record_status_labels, status_labels

bp = Blueprint("competence", __name__)

# Front and back, each a phone photo (the browser usually shrinks them to ~0.5 MB first).
RECORD_MAX_BYTES = 2 * photos.MAX_BYTES + 1024 * 1024
IMPORT_MAX_BYTES = 2 * 1024 * 1024
# The colour of each status on the matrix (static/css/app.css's badge classes).
BADGE = {"valid": "ok", "expires_90": "warn", "expires_60": "warn", "expires_30": "warn", "waiting": "",
         "expired": "danger", "missing": "danger"}


def _store():
    return storage.for_app(current_app)


# --- a person's own certificates --------------------------------------------------------------------------

def _own_context(error=None, errors=None, form=None, status=200):
    organization = service.org_of(g.user)
    return dict(records=service.own_records(g.user), courses=service.catalogue(organization),
                names=service.course_names(organization), labels=record_status_labels(),
                new_uuid=str(uuidlib.uuid4()), error=error, errors=errors or {}, form=form or {},
                today=clock.today(), photo_long_edge=photos.LONG_EDGE, limits=_record_date_limits(clock.today()))


def _record_date_limits(today):
    """{field: (first, last)}: the dates a record's form accepts (competence.service.record_fields), for its inputs'
    min and max."""
    return {"taken_on": inputs.date_bounds(today, service.MAX_YEARS_TAKEN, 0),
            "expires_on": inputs.date_bounds(today, service.MAX_YEARS_TAKEN, service.MAX_YEARS_VALID)}


@bp.get("/me/competence")
@login_required
def mine():
    return render_template("competence/mine.html", **_own_context())


@bp.post("/me/competence")
@outbox_post
@login_required
@upload_limit(RECORD_MAX_BYTES)
def add_mine():
    """A person adds their own certificate (also from the phone's outbox): waiting for approval."""
    try:
        record_uuid = outbox.parse_uuid(request.form.get("uuid"))
        when = phone_time.from_request()
        fields = service.record_fields(service.org_of(g.user), request.form, clock.today())
        blobs = service.read_photos(request.files)
        _record, created = service.add_own_record(g.user, record_uuid, fields, blobs, _store(),
                                                  phone_at=when.claimed)
    except InputError as exc:  # CompetenceError, PhotoError or a bad UUID
        status, message = inputs.problem(exc)
        if outbox.from_outbox():
            return outbox.answer(status, message)
        context = _own_context(error=inputs.banner(exc), errors=inputs.errors_by_field(exc),
                               form=request.form.to_dict())
        return render_template("competence/mine.html", **context), status
    if outbox.from_outbox():
        return outbox.answer(201 if created else 200, str(record_uuid))
    return redirect(url_for("competence.mine", added=1), 303)


@bp.get("/me/competence/<int:record_id>/<side>.jpg")
@login_required
def my_photo(record_id, side):
    return _send_photo(service.photo_for(g.user, None, record_id, side))


def _send_photo(photo):
    if photo is None:
        abort(404)
    # A certificate: never kept by a shared phone (no-store).
    return downloads.photo(_store(), photo.digest, private_copy=True)


# --- approval -------------------------------------------------------------------------------------------------

@bp.get("/s/<int:site_id>/competence/pending")
@requires("competence.approve")
def pending(site_id):
    return render_template("competence/pending.html", records=service.pending_for(g.user, g.site),
                           names=service.course_names(g.site.organization_id), error=None)


@bp.post("/s/<int:site_id>/competence/records/<int:record_id>/approve")
@requires("competence.approve")
def approve(site_id, record_id):
    return _decide(record_id, True)


@bp.post("/s/<int:site_id>/competence/records/<int:record_id>/reject")
@requires("competence.approve")
def reject(site_id, record_id):
    return _decide(record_id, False)


def _decide(record_id, approve_it):
    try:
        record = service.decide(g.user, g.site, record_id, approve_it, request.form.get("reason", ""))
    except InputError as exc:
        status, message = inputs.problem(exc)
        person_id = inputs.whole_number(request.form.get("user"))
        if request.form.get("back") == "person" and person_id is not None:  # the message on the page it came from
            return _person_page(person_id, error=message, status=status)
        return render_template("competence/pending.html", records=service.pending_for(g.user, g.site),
                               names=service.course_names(g.site.organization_id), error=message), status
    if record is None:
        abort(404)
    if request.form.get("back") == "person":  # decided on the person's page: back to it
        return redirect(url_for("competence.person", site_id=g.site.id, user_id=record.user_id), 303)
    return redirect(url_for("competence.pending", site_id=g.site.id), 303)


@bp.get("/s/<int:site_id>/competence/records/<int:record_id>/<side>.jpg")
@requires("competence.read")
def photo(site_id, record_id, side):
    return _send_photo(service.photo_for(g.user, g.membership, record_id, side))


# --- the matrix ------------------------------------------------------------------------------------------------

def _filters():
    status = request.args.get("status") or None
    task = request.args.get("task") or None
    if (status and status not in service.STATUSES) or (task and task not in TASKS):
        abort(400)
    return status, task


@bp.get("/s/<int:site_id>/competence")
@requires("competence.read")
def matrix(site_id):
    status, task = _filters()
    page = inputs.whole_number(request.args.get("page", "1"))
    if page is None:
        abort(400)
    return render_template("competence/matrix.html",
                           m=service.matrix(g.site, status=status, task=task, page=page),
                           labels=status_labels(), badge=BADGE, tasks={k: str(v) for k, v in TASKS.items()},
                           status=status, task=task)


@bp.get("/s/<int:site_id>/competence.csv")
@requires("competence.export")
def matrix_csv(site_id):
    status, task = _filters()
    m = service.matrix(g.site, status=status, task=task)
    return downloads.attachment(exports.matrix_csv(m), "text/csv", f"kompetanse-{g.site.id}-{m.today}.csv")


@bp.get("/s/<int:site_id>/competence.pdf")
@requires("competence.export")
def matrix_pdf(site_id):
    status, task = _filters()
    m = service.matrix(g.site, status=status, task=task)
    return downloads.attachment(exports.matrix_pdf(g.site, m), "application/pdf",
                                f"kompetanse-{g.site.id}-{m.today}.pdf")


# --- requirements, course types and tasks -----------------------------------------------------------------------

def _requirements_page(error=None, errors=None, status=200):
    return render_template("competence/requirements.html", requirements=service.requirements(g.site),
                           courses=service.catalogue(g.site.organization_id),
                           names=service.course_names(g.site.organization_id), tasks=TASKS, error=error,
                           errors=errors or {}, languages=current_app.config["LANGUAGES"]), status


@bp.get("/s/<int:site_id>/competence/requirements")
@requires("competence.manage")
def requirements(site_id):
    return _requirements_page()


@bp.post("/s/<int:site_id>/competence/requirements")
@requires("competence.manage")
def add_requirement(site_id):
    choice = request.form.get("blocks", "default")
    blocks = None if choice == "default" else choice == "block"
    try:
        service.add_requirement(g.user, g.site, request.form.get("course", ""), request.form.get("task", ""), blocks)
    except InputError as exc:
        status, _message = inputs.problem(exc)
        return _requirements_page(inputs.banner(exc), inputs.errors_by_field(exc), status)
    return redirect(url_for("competence.requirements", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/competence/requirements/<int:requirement_id>/remove")
@requires("competence.manage")
def remove_requirement(site_id, requirement_id):
    if not service.remove_requirement(g.user, g.site, requirement_id):
        abort(404)
    return redirect(url_for("competence.requirements", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/competence/course-types")
@requires("competence.manage")
def add_course_type(site_id):
    names = {code: request.form.get("name_" + code, "") for code in current_app.config["LANGUAGES"]}
    try:
        service.add_course_type(g.user, g.site.organization_id, names, request.form.get("validity_months", ""))
    except InputError as exc:
        status, _message = inputs.problem(exc)
        return _requirements_page(inputs.banner(exc), inputs.errors_by_field(exc), status)
    return redirect(url_for("competence.requirements", site_id=site_id), 303)


@bp.get("/s/<int:site_id>/competence/people/<int:user_id>")
@requires("competence.read")
def person(site_id, user_id):
    """A member's certificates (photos as competence.service.may_see_photos allows), the pending ones with
    approve and reject where the viewer may, and their tasks on the site."""
    return _person_page(user_id)


def _person_page(user_id, error=None, status=200, errors=None, form=None):
    person, records, given = service.person_competence(g.user, g.membership, user_id)
    if person is None:
        abort(404)
    organization = service.org_of(person)
    return render_template("competence/person.html", person=person, records=records, given=given, tasks=TASKS,
                           names=service.course_names(organization), labels=record_status_labels(),
                           courses=service.catalogue(organization), new_uuid=str(uuidlib.uuid4()),
                           may_enter=organization == service.org_of(g.user), today=clock.today(g.site),
                           limits=_record_date_limits(clock.today(g.site)), error=error, errors=errors or {},
                           form=form or {}), status


@bp.post("/s/<int:site_id>/competence/people/<int:user_id>/records")
@requires("competence.approve")
def add_record(site_id, user_id):
    """A foreman or manager enters a person's certificate: approved at once (competence.service.add_record_for)."""
    try:
        record_uuid = outbox.parse_uuid(request.form.get("uuid"))
        fields = service.record_fields(service.org_of(g.user), request.form, clock.today(g.site))
        service.add_record_for(g.user, g.site, user_id, record_uuid, fields)
    except InputError as exc:
        status, _message = inputs.problem(exc)
        return _person_page(user_id, inputs.banner(exc), status, inputs.errors_by_field(exc), request.form.to_dict())
    return redirect(url_for("competence.person", site_id=site_id, user_id=user_id), 303)


@bp.post("/me/competence/<int:record_id>/consent")
@login_required
def consent(record_id):
    """The person changes whether the verneombud may see the photos of their own certificate."""
    if service.set_photo_consent(g.user, record_id, request.form.get("verneombud_may_see") == "y") is None:
        abort(404)
    return redirect(url_for("competence.mine"), 303)


@bp.post("/s/<int:site_id>/competence/people/<int:user_id>/tasks")
@requires("competence.tasks")
def set_tasks(site_id, user_id):
    try:
        done = service.set_tasks(g.user, g.site, user_id, request.form.getlist("task"))
    except InputError as exc:
        status, message = inputs.problem(exc)
        return render_template("errors/error.html", title=message, detail=""), status
    if not done:
        abort(404)
    return redirect(url_for("competence.matrix", site_id=site_id), 303)


# --- CSV import ---------------------------------------------------------------------------------------------------

@bp.route("/s/<int:site_id>/competence/import", methods=["GET", "POST"])
@requires("competence.manage")
@upload_limit(3 * IMPORT_MAX_BYTES, field_bytes=3 * IMPORT_MAX_BYTES)  # the dry run's text sent back, form-encoded
def import_csv(site_id):
    """A manager imports records (approved for their own employer's people, waiting for approval for another
    employer's people on the site: competence/importer.py): a dry run lists every change and every row's
    errors; nothing is saved until the file has no errors and the manager confirms. The page lists the course
    codes the file may use."""
    context = dict(result=None, error=None, columns=importer.COLUMNS,
                   courses=service.catalogue(service.org_of(g.user)))
    if request.method in ("GET", "HEAD"):
        return render_template("competence/import.html", **context)
    upload = request.files.get("file")
    try:
        # The confirming post sends back the text the dry run showed (the file input cannot be refilled).
        data = request.form["text"].encode() if request.form.get("text") else (upload.read() if upload else b"")
        text = importer.read_text(data)
        result = importer.run(g.user, g.site, text, dry_run=request.form.get("confirm") != "y")
    except InputError as exc:
        status, message = inputs.problem(exc)
        return render_template("competence/import.html", **{**context, "error": message}), status
    status = 422 if result.errors else 200
    return render_template("competence/import.html", **{**context, "result": result}), status
