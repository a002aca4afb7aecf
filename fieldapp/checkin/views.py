"""Check-in views: the poster's landing page, check-in and -out, who is on site, the attendance list."""
import uuid as uuidlib
from datetime import datetime

import segno
from flask import abort, Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import clock, downloads, inputs, outbox, phone_time
from ..authz import outbox_post, public, requires
from ..config import LANGUAGE_NAMES
from ..i18n import missing_languages
from ..inputs import InputError
from ..htmx import render, render_polled
from ..competence import service as competence
from ..shell.errors import render_error
from ..sites.service import update_site
from . import equipment, exports, service

bp = Blueprint("checkin", __name__)

def new_uuid():
    return str(uuidlib.uuid4())


# --- the poster -------------------------------------------------------------------------------------

@bp.get("/p/<token>")
@public
def poster_scan(token):
    """Where the site's QR poster leads."""
    site = service.site_for_poster(token)
    if site is None:
        return render_error(404, _("This poster is no longer in use"),
                            _("The site has a new poster, or the site is closed. Scan the poster at the gate."))
    if g.user is None:
        if site.guests_allowed:
            return render_template("checkin/scan_signed_out.html", site=site, token=token)
        return redirect(url_for("accounts.sign_in", next=url_for("checkin.poster_scan", token=token)))
    if service.is_member(g.user, site):
        return redirect(url_for("checkin.check_in_page", site_id=site.id))
    if site.guests_allowed:
        return redirect(url_for("checkin.guest", token=token))
    return render_error(403, _("You are not on this site's list"),
                        _("Ask the foreman to add you, or to allow visitors to check in."))


@bp.get("/s/<int:site_id>/poster")
@requires("checkin.settings")
def poster(site_id):
    url = url_for("checkin.poster_scan", token=g.site.qr_token, _external=True)
    qr = segno.make(url, error="q")
    return render_template("checkin/poster.html", url=url, qr_svg=qr.svg_data_uri(scale=10, border=2),
                           required=equipment.required_for(g.site), label=equipment.label, icon=equipment.icon,
                           check_in_words=poster_words())


def poster_words():
    """[(language code, "Check in" in that language)] for every interface language (config.LANGUAGE_NAMES), in
    menu order: the poster hangs for every crew, whatever the language of the one who prints it."""
    words = []
    for code in LANGUAGE_NAMES:
        with force_locale(code):
            words.append((code, _("Check in")))
    return words


@bp.post("/s/<int:site_id>/poster/renew")
@requires("checkin.poster.renew")
def renew_poster(site_id):
    service.renew_poster(g.user, g.site)
    return redirect(url_for("checkin.poster", site_id=site_id), 303)


# --- check-in and check-out --------------------------------------------------------------------------

def _equipment_from_form():
    return request.form.getlist("have"), request.form.getlist("missing"), request.form.get("all_worn") == "y"


def _check_in_context(site, error=None, answered=None):
    user = g.user
    open_row = service.open_check_in(user) if user else None
    return dict(site=site, required=equipment.required_for(site), label=equipment.label, icon=equipment.icon,
                open_check_in=open_row, new_uuid=new_uuid(), error=error, answered=answered or {},
                today=clock.today(site), competence_problems=competence.gate(site, user) if user else [])


@bp.get("/s/<int:site_id>/checkin")
@requires("checkin.self")
def check_in_page(site_id):
    return render("checkin/check_in.html", "checkin/_check_in.html", **_check_in_context(g.site))


@bp.post("/s/<int:site_id>/checkin")
@outbox_post
@requires("checkin.self")
def check_in(site_id):
    have, missing, all_worn = _equipment_from_form()
    try:
        uuid = outbox.parse_uuid(request.form.get("uuid"))
        when = phone_time.from_request()
        row, created = service.sent_before(g.site, g.user, uuid, have, missing, all_worn), False
        if row is None:
            confirmed, missing = service.equipment_answer(g.site, have, missing, all_worn)
            row, created = service.check_in(g.site, g.user, uuid, when, confirmed, missing)
    except InputError as exc:  # CheckInError, or a bad UUID (outbox.parse_uuid)
        status, message = inputs.problem(exc)
        if outbox.from_outbox():
            return outbox.answer(status, message)
        context = _check_in_context(g.site, error=message, answered={"have": have, "missing": missing})
        return render("checkin/check_in.html", "checkin/_check_in.html", status=status, **context)
    if outbox.from_outbox():
        return outbox.answer(201 if created else 200, str(row.uuid))
    return redirect(url_for("checkin.check_in_page", site_id=site_id), 303)


@bp.post("/s/<int:site_id>/checkout")
@outbox_post
@requires("checkin.self")
def check_out(site_id):
    try:
        uuid = outbox.parse_uuid(request.form.get("uuid"))
        when = phone_time.from_request()
        service.check_out(g.site, g.user, uuid, when)
    except InputError as exc:  # CheckInError, or a bad UUID (outbox.parse_uuid)
        status, message = inputs.problem(exc)
        if outbox.from_outbox():
            return outbox.answer(status, message)
        return render("checkin/check_in.html", "checkin/_check_in.html", status=status,
                      **_check_in_context(g.site, error=message))
    if outbox.from_outbox():
        return outbox.answer(200, "checked out")
    return redirect(url_for("shell.home"), 303)


# --- visitors ------------------------------------------------------------------------------------------

GUEST_KEY = "guest_check_ins"


@bp.route("/p/<token>/guest", methods=["GET", "POST"])
@public
def guest(token):
    """A visitor's check-in (the foreman allows visitors): name, employer and HMS card number."""
    site = service.site_for_poster(token)
    if site is None or not site.guests_allowed:
        abort(404)
    open_ids = session.get(GUEST_KEY, {})
    open_row = None
    if str(site.id) in open_ids:
        open_row = service.open_guest_check_in(open_ids[str(site.id)])
    # As typed (the name filled in for a signed-in person): a refused form comes back with it.
    form = dict(name=request.form.get("name", g.user.name if g.user else ""), employer=request.form.get("employer", ""),
                org_number=request.form.get("org_number", ""), hms_card_number=request.form.get("hms_card_number", ""))
    context = dict(site=site, token=token, required=equipment.required_for(site), label=equipment.label,
                   icon=equipment.icon, form=form, open_check_in=open_row, new_uuid=new_uuid(), error=None,
                   errors={}, answered={})
    if request.method in ("GET", "HEAD"):
        return render_template("checkin/guest.html", **context)
    have, missing, all_worn = _equipment_from_form()
    errors = {}  # every field's problem at once, each beside its field: the details and the equipment
    try:
        form = service.read_guest_form(request.form)
    except InputError as exc:
        errors = inputs.errors_by_field(exc)
    try:
        service.equipment_answer(site, have, missing, all_worn)
    except InputError as exc:
        errors["equipment"] = inputs.problem(exc)[1]
    if errors:
        context.update(errors=errors, answered={"have": have, "missing": missing})
        return render_template("checkin/guest.html", **context), 422
    try:
        uuid = outbox.parse_uuid(request.form.get("uuid"))
        when = phone_time.from_request()
        confirmed, missing = service.equipment_answer(site, have, missing, all_worn)
        fields = service.guest_fields(form["name"], form["employer"], form["org_number"], form["hms_card_number"])
        row, _created = service.check_in(site, None, uuid, when, confirmed, missing, guest=fields)
    except InputError as exc:  # CheckInError, or a bad UUID (outbox.parse_uuid)
        status, message = inputs.problem(exc)
        context.update(error=message, answered={"have": have, "missing": missing})
        return render_template("checkin/guest.html", **context), status
    session[GUEST_KEY] = {**open_ids, str(site.id): row.id}
    return redirect(url_for("checkin.guest", token=token), 303)


@bp.post("/p/<token>/guest/checkout")
@public
def guest_check_out(token):
    site = service.site_for_poster(token)
    open_ids = session.get(GUEST_KEY, {})
    if site is None or str(site.id) not in open_ids:
        abort(404)
    try:
        service.check_out(site, None, outbox.parse_uuid(request.form.get("uuid")),
                          phone_time.from_request(), check_in_id=open_ids[str(site.id)])
    except InputError as exc:  # CheckInError, or a bad UUID (outbox.parse_uuid)
        status, message = inputs.problem(exc)
        return render_error(status, message)
    session[GUEST_KEY] = {k: v for k, v in open_ids.items() if k != str(site.id)}
    return redirect(url_for("checkin.guest", token=token), 303)


# --- for the foreman, the verneombud and the manager ---------------------------------------------

@bp.get("/s/<int:site_id>/on-site")
@requires("checkin.list")
def on_site(site_id):
    return render_polled("checkin/on_site.html", "checkin/_on_site_rows.html", **service.on_site_list(g.site))


@bp.post("/s/<int:site_id>/follow-ups/<int:follow_up_id>/resolve")
@requires("checkin.follow_up")
def resolve_follow_up(site_id, follow_up_id):
    if not service.resolve_follow_up(g.user, g.site, follow_up_id):
        abort(404)
    return redirect(url_for("checkin.on_site", site_id=site_id), 303)


ATTENDANCE_YEARS_BACK = 50  # the range a list may ask for, around today: 0001-01-01 or 9999-12-31 overflowed (a 500)
ATTENDANCE_YEARS_AHEAD = 1


ATTENDANCE_DAYS = 366  # the longest list one request gives


def _date_range():
    """(start, end) dates from the from/to query parameters (YYYY-MM-DD), today on the site by default.

    Raises InputError naming the field to correct: bad_date (not a date), implausible_date (outside
    ATTENDANCE_YEARS_BACK .. ATTENDANCE_YEARS_AHEAD around today, with the range), reversed_range (to before
    from), range_too_long (more than ATTENDANCE_DAYS days)."""
    today = clock.today(g.site)
    days = {}
    for field, default in (("from", today), ("to", None)):
        text = request.args.get(field) or (default or days["from"]).isoformat()
        try:
            days[field] = inputs.iso_date(text)
        except ValueError:
            raise InputError("bad_date", field=field) from None
        inputs.plausible_date(days[field], today, field, ATTENDANCE_YEARS_BACK, ATTENDANCE_YEARS_AHEAD)
    start, end = days["from"], days["to"]
    if end < start:
        raise InputError("reversed_range", field="to")
    if (end - start).days >= ATTENDANCE_DAYS:
        raise InputError("range_too_long", field="to")
    return start, end


def _attendance_page(start, end, status=200, errors=None):
    rows = service.attendance(g.site, start, end)
    hours = service.hours_on_site(g.site, start, end)
    return render_template("checkin/attendance.html", rows=rows, start=start, end=end, s15=service.s15_details(rows),
                           hours=sorted(hours.items(), key=lambda kv: kv[0][1]), errors=errors or {}), status


@bp.get("/s/<int:site_id>/attendance")
@requires("attendance.read")
def attendance(site_id):
    try:
        start, end = _date_range()
    except InputError as exc:  # today's list, and the message beside the date to correct
        today = clock.today(g.site)
        return _attendance_page(today, today, inputs.problem(exc)[0], inputs.errors_by_field(exc))
    return _attendance_page(start, end)


def _export_refused(exc):
    status, message = inputs.problem(exc)
    return render_error(status, _("The attendance list cannot show that"), message)


@bp.get("/s/<int:site_id>/attendance.csv")
@requires("attendance.export")
def attendance_csv(site_id):
    try:
        start, end = _date_range()
    except InputError as exc:
        return _export_refused(exc)
    rows = service.attendance(g.site, start, end)
    body = exports.attendance_csv(g.site, rows, service.s15_details(rows))
    return downloads.attachment(body, "text/csv", f"oversiktsliste-{g.site.id}-{start}-{end}.csv")


@bp.get("/s/<int:site_id>/attendance.pdf")
@requires("attendance.export")
def attendance_pdf(site_id):
    try:
        start, end = _date_range()
    except InputError as exc:
        return _export_refused(exc)
    rows = service.attendance(g.site, start, end)
    body = exports.attendance_pdf(g.site, rows, start, end, service.s15_details(rows))
    return downloads.attachment(body, "application/pdf", f"oversiktsliste-{g.site.id}-{start}-{end}.pdf")


@bp.route("/s/<int:site_id>/checkin-settings", methods=["GET", "POST"])
@requires("checkin.settings")
def settings(site_id):
    catalogue = equipment.catalogue(g.site.organization_id)
    error = None
    if request.method == "POST":
        chosen = set(request.form.getlist("equipment"))
        known = {item.key: item for item in catalogue}
        ends = request.form.get("day_ends_at", "")
        try:
            day_ends_at = datetime.strptime(ends, "%H:%M").time()
        except ValueError:
            day_ends_at = None
        if chosen - set(known) or day_ends_at is None:
            error = _("Choose from the list, and give the end of the day as HH:MM.")
        else:
            service.set_required_equipment(g.user, g.site, [known[k] for k in known if k in chosen])
            update_site(g.user, g.site, {"guests_allowed": request.form.get("guests_allowed") == "y",
                                         "day_ends_at": day_ends_at})
            return redirect(url_for("checkin.settings", site_id=site_id, saved=1), 303)
    return _settings_page(error=error)


def _settings_page(exc=None, editing=None, error=None):
    """The settings page; exc: an InputError about the equipment names (editing: the item's key, None: new)."""
    if exc is not None:
        status, error = inputs.problem(exc)
    else:
        status = 422 if error else 200
    catalogue = equipment.catalogue(g.site.organization_id)
    required = {item.key for item in equipment.required_for(g.site)}
    return render_template("checkin/settings.html", catalogue=catalogue, required=required, label=equipment.label,
                           icon=equipment.icon, error=error, editing=editing, names_form=request.form if exc else {},
                           own_items=[item for item in catalogue if not item.builtin],
                           missing_languages=missing_languages, languages=LANGUAGE_NAMES), status


@bp.post("/s/<int:site_id>/equipment")
@requires("checkin.equipment.add")
def add_equipment(site_id):
    try:
        names = service.equipment_names(request.form, LANGUAGE_NAMES)
    except InputError as exc:
        return _settings_page(exc)
    item = service.add_custom_equipment(g.user, g.site.organization_id, names)
    return redirect(url_for("checkin.settings", site_id=site_id, added=item.key), 303)


@bp.post("/s/<int:site_id>/equipment/<key>")
@requires("checkin.equipment.add")
def rename_equipment(site_id, key):
    """The names of one of the organization's own items, in every language (to fill in the missing ones)."""
    try:
        service.rename_custom_equipment(g.user, g.site.organization_id, key,
                                        service.equipment_names(request.form, LANGUAGE_NAMES))
    except InputError as exc:
        return _settings_page(exc, key)
    return redirect(url_for("checkin.settings", site_id=site_id, saved=1), 303)

