"""Meeting views: the site's meetings, a meeting's agenda and minutes, decisions, approval, the PDF, proposals
from anyone on the site (also from the phone's outbox) and the one-minute morning meeting."""
import uuid as uuidlib

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from .. import clock, downloads, inputs, outbox, phone_time, photos, storage
from ..authz import can, login_required, outbox_post, requires, upload_limit
from . import exports, kinds, service
from .service import MeetingError

bp = Blueprint("meetings", __name__)

BAD_INPUT = (MeetingError, inputs.InputError, photos.PhotoError)


def _lang():
    return getattr(g.user, "language", None) or "nb"


def _meeting_or_404(meeting_id):
    meeting = service.site_meeting(g.site, meeting_id, drafts=can("meetings.call"))
    if meeting is None:
        abort(404)
    return meeting


def _index_context(error=None, errors=None, form=None):
    return dict(meetings=service.meetings_of(g.site, drafts=can("meetings.call")), kinds=service.kinds_for(g.site.organization_id, _lang()),
                proposals=service.my_proposals(g.site, g.user), new_uuid=str(uuidlib.uuid4()),
                today=clock.today(g.site), error=error, errors=errors or {}, form=form or {},
                due=service.due_meetings(g.site, clock.today(g.site)), unscheduled=service.unscheduled(g.site))


@bp.get("/s/<int:site_id>/meetings")
@requires("meetings.read")
def index(site_id):
    return render_template("meetings/index.html", **_index_context())


@bp.post("/s/<int:site_id>/meetings/new")
@requires("meetings.call")
def create(site_id):
    # The verneombud may call an extra meeting; foremen and managers hold the scheduled ones.
    extra = not can("meetings.run") or bool(request.form.get("extra"))
    try:
        meeting = service.create_meeting(g.user, g.site, request.form.get("kind", ""), request.form.get("held_on"),
                                         extra=extra, language=_lang(), holds=can("meetings.run"))
    except BAD_INPUT as exc:
        return _index_error(exc)
    return redirect(url_for("meetings.meeting", site_id=site_id, meeting_id=meeting.id), 303)


def _index_error(exc):
    status, _message = inputs.problem(exc)
    return render_template("meetings/index.html", **_index_context(
        error=inputs.banner(exc), errors=inputs.errors_by_field(exc), form=request.form)), status


def _meeting_context(meeting, error=None, errors=None, form=None):
    items, decisions = service.agenda(meeting)
    return dict(meeting=meeting, items=items, decisions=decisions, titles=service.item_titles(items, _lang()),
                form=form or {}, attendance=service.attendance(meeting),
                amendments=service.amendments(meeting), previous=service.previous_decisions(meeting),
                people=service.people_for(meeting), kinds=service.kinds_for(meeting.organization_id, _lang()),
                topics=kinds.MORNING_TOPICS, error=error, errors=errors or {}, today=clock.today(g.site))


@bp.get("/s/<int:site_id>/meetings/<int:meeting_id>")
@requires("meetings.read")
def meeting(site_id, meeting_id):
    return render_template("meetings/meeting.html", **_meeting_context(_meeting_or_404(meeting_id)))


# The fields whose message templates/meetings/meeting.html always shows beside them (input_error), and the morning
# meeting form's. An item's note and decision fields show theirs only in the form of the item that was sent: their
# message is also told above the page, so that it is not lost when the form named no item on the page.
MEETING_FIELDS = {"held_on", "user", "name", "title"}
MORNING_FIELDS = {"held_on", "people", "topics", "note"}


def _change(meeting_id, change):
    """Run one change on the meeting; bad input comes back on the meeting's page with its 4xx status."""
    meeting = _meeting_or_404(meeting_id)
    try:
        change(meeting)
    except BAD_INPUT as exc:
        status, _message = inputs.problem(exc)
        # Every typed value comes back in its field (the form names the item it was about), with its message
        # beside it; a problem about anything else is told above the page.
        return render_template("meetings/meeting.html", **_meeting_context(
            meeting, error=inputs.banner(exc, MEETING_FIELDS), errors=inputs.errors_by_field(exc),
            form=request.form)), status
    return redirect(url_for("meetings.meeting", site_id=g.site.id, meeting_id=meeting.id), 303)


@bp.get("/s/<int:site_id>/meetings/<int:meeting_id>/"
        "<any(items, note, attendance, decisions, vote, date, approve, amend):change>")
@requires("meetings.read")
def back_to_meeting(site_id, meeting_id, change):
    """A refused change shows the meeting's page at the change's address: opened again (GET), it leads back to the
    meeting's page (which checks who may read it), not to a 405. Nothing is changed on a GET."""
    return redirect(url_for("meetings.meeting", site_id=site_id, meeting_id=meeting_id), 303)


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/items")
@requires("meetings.call")
def add_item(site_id, meeting_id):
    return _change(meeting_id, lambda m: service.add_item(g.user, m, request.form.get("title")))


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/items/remove")
@requires("meetings.run")
def remove_item(site_id, meeting_id):
    return _change(meeting_id, lambda m: service.remove_item(g.user, m, request.form.get("item")))


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/note")
@requires("meetings.run")
def note(site_id, meeting_id):
    return _change(meeting_id, lambda m: service.set_note(g.user, m, request.form.get("item"),
                                                          request.form.get("note"),
                                                          bool(request.form.get("carry_over"))))


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/attendance")
@requires("meetings.run")
def attend(site_id, meeting_id):
    return _change(meeting_id, lambda m: service.add_attendance(g.user, m, request.form.get("user"),
                                                                request.form.get("name"), request.form.get("side")))


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/decisions")
@requires("meetings.run")
def decide(site_id, meeting_id):
    form = request.form
    return _change(meeting_id, lambda m: service.add_decision(g.user, m, form.get("item"), form.get("text"),
                                                              form.get("person"), form.get("deadline")))


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/date")
@requires("meetings.run")
def set_date(site_id, meeting_id):
    return _change(meeting_id, lambda m: service.set_date(g.user, m, request.form.get("held_on")))


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/vote")
@requires("meetings.run")
def vote(site_id, meeting_id):
    form = request.form
    return _change(meeting_id, lambda m: service.record_vote(g.user, m, form.get("item"), bool(form.get("unanimous")),
                                                             form.get("majority"), form.get("minority")))


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/approve")
@requires("meetings.run")
def approve(site_id, meeting_id):
    return _change(meeting_id, lambda m: service.approve_and_send(g.user, m))


@bp.post("/s/<int:site_id>/meetings/<int:meeting_id>/amend")
@requires("meetings.run")
def amend(site_id, meeting_id):
    return _change(meeting_id, lambda m: service.amend(g.user, m, request.form.get("text")))


@bp.get("/s/<int:site_id>/meetings/<int:meeting_id>/minutes.pdf")
@requires("meetings.read")
def minutes_pdf(site_id, meeting_id):
    meeting = _meeting_or_404(meeting_id)
    data = exports.minutes_pdf(meeting, _lang())
    return downloads.attachment(data, "application/pdf", f"referat-{meeting.held_on.isoformat()}-{meeting.id}.pdf")


# --- proposals ------------------------------------------------------------------------------------------

@bp.post("/s/<int:site_id>/meetings/propose")
@outbox_post
@upload_limit(lambda: photos.MAX_BYTES + 64 * 1024)
@login_required
def propose(site_id):
    # Not @requires: a person who is not on the site gets the catalogue's clear message (404), not a bare page.
    try:
        if g.membership is None:
            raise MeetingError("not_on_site")
        if not can("meetings.propose"):
            abort(403)
        proposal_uuid = outbox.parse_uuid(request.form.get("uuid"))
        when = phone_time.from_request()
        upload = request.files.get("photo")
        photo_bytes = photos.read_limited(upload.stream) if upload and upload.filename else None
        proposal, created = service.propose(storage.for_app(current_app), g.site, g.user, proposal_uuid, when,
                                            request.form.get("text"), _lang(), photo_bytes)
    except BAD_INPUT as exc:
        status, message = inputs.problem(exc)
        if outbox.from_outbox():
            return outbox.answer(status, message)
        if g.membership is None:
            abort(404)
        return _index_error(exc)
    if outbox.from_outbox():
        return outbox.answer(201 if created else 200, str(proposal.uuid))
    return redirect(url_for("meetings.index", site_id=site_id, proposed=1), 303)


@bp.get("/s/<int:site_id>/meetings/proposals/<digest>.jpg")
@requires("meetings.read")
def proposal_photo(site_id, digest):
    if service.proposal_photo(g.site, digest) is None:
        abort(404)
    return downloads.photo(storage.for_app(current_app), digest)


# --- the morning meeting --------------------------------------------------------------------------------

def _morning_context(error=None, errors=None, form=None):
    return dict(people=service.checked_in_now(g.site), topics=kinds.MORNING_TOPICS, today=clock.today(g.site),
                error=error, errors=errors or {}, form=form or {})


@bp.get("/s/<int:site_id>/meetings/morning")
@requires("meetings.run")
def morning(site_id):
    return render_template("meetings/morning.html", **_morning_context())


@bp.post("/s/<int:site_id>/meetings/morning")
@requires("meetings.run")
def record_morning(site_id):
    form = request.form
    try:
        meeting = service.record_morning(g.user, g.site, form.get("held_on"), form.getlist("people"),
                                         form.getlist("topics"), form.get("note"))
    except BAD_INPUT as exc:
        status, _message = inputs.problem(exc)
        return render_template("meetings/morning.html", **_morning_context(
            error=inputs.banner(exc, MORNING_FIELDS), errors=inputs.errors_by_field(exc), form=form)), status
    return redirect(url_for("meetings.meeting", site_id=site_id, meeting_id=meeting.id), 303)


# --- the AMU: the organization's committee, for its members ----------------------------------------------

def _amu_or_404():
    member = service.amu_membership(g.user)
    if member is None:
        abort(404)
    return member


def _amu_meeting_or_404(member, meeting_id):
    meeting = service.amu_meeting(member.organization_id, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


@bp.get("/amu")
@login_required
def amu(member=None, error=None, status=200):
    member = member or _amu_or_404()
    return render_template("meetings/amu.html", member=member, meetings=service.amu_meetings(member.organization_id),
                           today=clock.today(), error=error), status


@bp.post("/amu/new")
@login_required
def amu_create():
    member = _amu_or_404()
    try:
        meeting = service.create_amu_meeting(g.user, member.organization_id, request.form.get("held_on"))
    except BAD_INPUT as exc:
        return amu(member, inputs.problem(exc)[1], inputs.problem(exc)[0])
    return redirect(url_for("meetings.amu_meeting", meeting_id=meeting.id), 303)


# The AMU page's fields with a place for their message beside them (amu_meeting.html); others go above the form.
AMU_BESIDE = {"user", "name", "majority", "minority", "title"}


def _amu_page(member, meeting, error=None, status=200, errors=None):
    items, decisions = service.agenda(meeting)
    return render_template("meetings/amu_meeting.html", member=member, meeting=meeting, items=items,
                           decisions=decisions, titles=service.item_titles(items, _lang()),
                           form=request.form if request.method == "POST" else {}, attendance=service.attendance(meeting),
                           people=service.people_for(meeting), amendments=service.amendments(meeting),
                           today=clock.today(), error=error, errors=errors or {}), status


@bp.get("/amu/<int:meeting_id>")
@login_required
def amu_meeting(meeting_id):
    member = _amu_or_404()
    return _amu_page(member, _amu_meeting_or_404(member, meeting_id))


AMU_CHANGES = {
    "items": lambda m, f: service.add_item(g.user, m, f.get("title")),
    "note": lambda m, f: service.set_note(g.user, m, f.get("item"), f.get("note"), bool(f.get("carry_over"))),
    "attendance": lambda m, f: service.add_attendance(g.user, m, f.get("user"), f.get("name"), f.get("side")),
    "decisions": lambda m, f: service.add_decision(g.user, m, f.get("item"), f.get("text"), f.get("person"),
                                                   f.get("deadline")),
    "vote": lambda m, f: service.record_vote(g.user, m, f.get("item"), bool(f.get("unanimous")), f.get("majority"),
                                             f.get("minority")),
    "approve": lambda m, f: service.approve(g.user, m),
    "amend": lambda m, f: service.amend(g.user, m, f.get("text")),
    "date": lambda m, f: service.set_date(g.user, m, f.get("held_on")),
}


@bp.route("/amu/<int:meeting_id>/<any(items, note, attendance, decisions, vote, approve, amend, date):change>",
          methods=["GET", "POST"])
@login_required
def amu_change(meeting_id, change):
    """One change to an AMU meeting by one of its members (the AMU's members hold its meetings). A refused change
    shows the meeting's page at this address: opened again (GET), it leads back to the meeting, not to a 405."""
    member = _amu_or_404()
    meeting = _amu_meeting_or_404(member, meeting_id)
    if request.method != "POST":  # GET, and HEAD (Flask adds it to GET): never a change
        return redirect(url_for("meetings.amu_meeting", meeting_id=meeting.id), 303)
    try:
        AMU_CHANGES[change](meeting, request.form)
    except BAD_INPUT as exc:
        # Beside the field it is about, with what was typed kept (a 250-character name came back empty, and a vote
        # without its majority's view said "write something first" above the page).
        return _amu_page(member, meeting, inputs.banner(exc, beside=AMU_BESIDE), inputs.problem(exc)[0],
                         inputs.errors_by_field(exc))
    return redirect(url_for("meetings.amu_meeting", meeting_id=meeting.id), 303)


@bp.get("/amu/<int:meeting_id>/minutes.pdf")
@login_required
def amu_minutes_pdf(meeting_id):
    meeting = _amu_meeting_or_404(_amu_or_404(), meeting_id)
    return downloads.attachment(exports.minutes_pdf(meeting, _lang()), "application/pdf",
                                f"amu-referat-{meeting.held_on.isoformat()}-{meeting.id}.pdf")


# --- the organization's settings: kinds, the site's schedule, AMU members (managers) ------------------------

def _settings_page(error=None, errors=None, status=200):
    organization_id = g.site.organization_id
    languages = current_app.config["LANGUAGES"]
    return render_template("meetings/settings.html", languages=languages,
                           kinds=service.kind_settings(organization_id, languages),
                           names=service.kinds_for(organization_id, _lang()),
                           schedules=service.schedules(g.site, _lang()),
                           members=service.amu_members(organization_id),
                           candidates=service.amu_candidates(organization_id),
                           error=error, errors=errors or {}), status


def _settings_refused(exc):
    status, _message = inputs.problem(exc)
    return _settings_page(inputs.banner(exc), inputs.errors_by_field(exc), status)


@bp.get("/s/<int:site_id>/meetings/settings")
@requires("meetings.manage")
def settings(site_id):
    return _settings_page()


@bp.post("/s/<int:site_id>/meetings/kinds")
@requires("meetings.manage")
def save_kind(site_id):
    names = {code: request.form.get("name_" + code, "") for code in current_app.config["LANGUAGES"]}
    try:
        service.save_kind(g.user, g.site.organization_id, request.form.get("code", "").strip(), names)
    except BAD_INPUT as exc:
        return _settings_refused(exc)
    return redirect(url_for("meetings.settings", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/meetings/schedule")
@requires("meetings.manage")
def set_schedule(site_id):
    try:
        service.set_schedule(g.user, g.site, request.form.get("kind", ""), request.form.get("interval_days", ""),
                             _lang())
    except BAD_INPUT as exc:
        return _settings_refused(exc)
    # Back at the schedule form, with the confirmation there (not at the top of a long page).
    return redirect(url_for("meetings.settings", site_id=site_id, saved="schedule", _anchor="schedule"), 303)


@bp.post("/s/<int:site_id>/meetings/amu-members")
@requires("meetings.manage")
def add_amu_member(site_id):
    try:
        service.add_amu_member(g.user, g.site.organization_id, request.form.get("user"), request.form.get("side"))
    except BAD_INPUT as exc:
        return _settings_refused(exc)
    return redirect(url_for("meetings.settings", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/meetings/amu-members/<int:member_id>/remove")
@requires("meetings.manage")
def remove_amu_member(site_id, member_id):
    if not service.remove_amu_member(g.user, g.site.organization_id, member_id):
        abort(404)
    return redirect(url_for("meetings.settings", site_id=site_id), 303)
