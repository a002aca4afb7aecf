"""HMS statistics: the page, the HMS report and register downloads, entered hours, an injury's cost, own data."""
import json
from datetime import timedelta

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import format_decimal, format_percent, ngettext

from .. import clock, downloads, inputs
from ..authz import login_required, requires, upload_limit
from ..inputs import InputError
from ..shell.errors import render_error
from . import charts, definitions, entry, exports, service

bp = Blueprint("stats", __name__)

MAX_UPLOAD = entry.MAX_BYTES


def _scope_and_period():
    """(sites, period, own_only) from the query; StatsError for a bad one."""
    period = service.parse_period(request.args, clock.today(g.site))
    sites = service.sites_in_scope(g.user, g.site, request.args.get("scope") or "site")
    return sites, period, request.args.get("own") == "1"


def _scope_name(sites):
    if len(sites) == 1:
        return sites[0].name
    return ngettext("%(org)s, %(num)s site", "%(org)s, %(num)s sites", len(sites), org=g.site.organization.name)


def _refused(exc):
    status, message = inputs.problem(exc)
    return render_error(status, _("The statistics cannot show that"), message)


@bp.get("/s/<int:site_id>/stats")
@requires("stats.read")
def page(site_id):
    try:
        sites, period, own_only = _scope_and_period()
    except InputError as exc:
        # The figures of the last 12 months, and the message beside the filter's field to correct.
        status, _message = inputs.problem(exc)
        sites, period, own_only = [g.site], definitions.rolling_12(clock.today(g.site)), False
        return _render(sites, period, own_only, error=inputs.banner(exc), errors=inputs.errors_by_field(exc)), status
    return _render(sites, period, own_only)


# Number formats for the page, in the reader's language ("203,05" and "4 125" in bokmål, "203.05" in English).
def _h(value):
    return "–" if value is None else format_decimal(value, format="#,##0.00")


def _hours(value):
    """Hours in the reader's language: whole hours from a hundred up ("1 500"), one decimal below ("80,5", "0,3"),
    so that a month of a few minutes' check-ins, or half hours, do not show as 0 or a rounded figure."""
    if value >= 100:
        return format_decimal(round(value), format="#,##0")
    if 0 < value < 0.05:  # a few minutes: some, not none
        return "<\u00a0" + format_decimal(0.1, format="#,##0.#")
    return format_decimal(round(value, 1), format="#,##0.#")


def _pct(value):
    return "–" if value is None else format_percent(value, format="#,##0 %")


def _one_decimal(value):
    return "–" if value is None else format_decimal(value, format="#,##0.0")


def _thousands(value):
    """A chart's short label for hours: "4k" reads as code in Norwegian; "4,1 k" / "4.1 k" in the reader's
    language, below a thousand as _hours writes them (a bar of 0.3 hours is labelled 0,3, not 0)."""
    if value >= 1000:
        return format_decimal(value / 1000, format="#,##0.#") + "\u00a0k"
    return _hours(value)


def _render(sites, period, own_only, error=None, errors=None):
    result = service.statistics(sites, period, own_only)

    return render_template(
        "stats/page.html", result=result, error=error, errors=errors or {}, args=request.args,
        today=clock.today(g.site),
        h2_chart=charts.month_chart([(first, f.h2) for first, f in result.months], _one_decimal),
        hours_chart=charts.month_chart([(first, f.hours) for first, f in result.months], _thousands),
        reports_chart=charts.month_chart(result.other["by_month"], _hours),
        definitions=exports.definitions_text(result.lost_time_days, result.few_hours),
        h=_h, hours=_hours, pct=_pct, days=_one_decimal, categories=exports.labels.categories(),
        kind_labels=exports.labels.kinds(), scope_name=_scope_name(sites))


def _report_sections(sites, own_only):
    today = clock.today(g.site)
    rolling = service.statistics(sites, definitions.rolling_12(today), own_only, other=False)
    sections = [(_("Rolling 12 months"), rolling)]
    for year in range(today.year - 3, today.year):
        sections.append((str(year), service.statistics(sites, definitions.year(year), own_only, other=False)))
    return sections


def _file_name(kind, ext):
    return f"{kind}-{g.site.id}-{clock.today(g.site).isoformat()}.{ext}"


@bp.get("/s/<int:site_id>/stats/report.pdf")
@requires("stats.export")
def report_pdf(site_id):
    try:
        sites, _period, own_only = _scope_and_period()
    except InputError as exc:
        return _refused(exc)
    sections = _report_sections(sites, own_only)
    body = exports.report_pdf(_scope_name(sites), sections, sections[0][1],
                              (sections[0][1].lost_time_days, sections[0][1].few_hours), clock.today(g.site))
    return downloads.attachment(body, "application/pdf", _file_name("hms-rapport", "pdf"))


@bp.get("/s/<int:site_id>/stats/report.csv")
@requires("stats.export")
def report_csv(site_id):
    try:
        sites, _period, own_only = _scope_and_period()
    except InputError as exc:
        return _refused(exc)
    return downloads.attachment(exports.report_csv(_report_sections(sites, own_only)), "text/csv",
                                _file_name("hms-rapport", "csv"))


@bp.get("/s/<int:site_id>/stats/report.xlsx")
@requires("stats.export")
def report_xlsx(site_id):
    try:
        sites, _period, own_only = _scope_and_period()
    except InputError as exc:
        return _refused(exc)
    sections = _report_sections(sites, own_only)
    return downloads.attachment(exports.report_xlsx(sections, sections[0][1]),
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                _file_name("hms-rapport", "xlsx"))


@bp.get("/s/<int:site_id>/stats/hours.csv")
@requires("stats.export")
def hours_csv(site_id):
    try:
        sites, period, _own = _scope_and_period()
    except InputError as exc:
        return _refused(exc)
    pieces = exports.hours_pieces(service.hours_lines(sites, period))
    return downloads.streamed_attachment(pieces, "text/csv", _file_name("timer", "csv"))


@bp.get("/s/<int:site_id>/injuries.csv")
@requires("injuries.register")
def register_csv(site_id):
    try:
        sites, period, _own = _scope_and_period()
    except InputError as exc:
        return _refused(exc)
    sites = [s for s in sites if service.may_read_register(g.user, s)]
    return downloads.attachment(exports.register_csv(service.injury_register(sites, period)), "text/csv",
                                _file_name("skaderegister", "csv"))


@bp.get("/s/<int:site_id>/injuries.pdf")
@requires("injuries.register")
def register_pdf(site_id):
    try:
        sites, period, _own = _scope_and_period()
    except InputError as exc:
        return _refused(exc)
    sites = [s for s in sites if service.may_read_register(g.user, s)]
    body = exports.register_pdf(_scope_name(sites), period, service.injury_register(sites, period))
    return downloads.attachment(body, "application/pdf", _file_name("skaderegister", "pdf"))


def _amu_register():
    """(sites, period) of the AMU member's organization; 404 when the person is not an AMU member."""
    sites = service.amu_register_sites(g.user)
    if not sites:
        abort(404)
    return sites, service.parse_period(request.args, clock.today(sites[0]))


@bp.get("/amu/injuries.csv")
@login_required
def amu_register_csv():
    try:
        sites, period = _amu_register()
    except InputError as exc:
        return _refused(exc)
    return downloads.attachment(exports.register_csv(service.injury_register(sites, period)), "text/csv",
                                f"skaderegister-amu-{period.end.isoformat()}.csv")


@bp.get("/amu/injuries.pdf")
@login_required
def amu_register_pdf():
    try:
        sites, period = _amu_register()
    except InputError as exc:
        return _refused(exc)
    body = exports.register_pdf(sites[0].organization.name, period, service.injury_register(sites, period))
    return downloads.attachment(body, "application/pdf", f"skaderegister-amu-{period.end.isoformat()}.pdf")


# --- entered hours ------------------------------------------------------------------------------------------

def _hours_page(status=200, **ctx):
    sites = service.sites_with(g.user, g.site, "hours.enter")
    last_month = clock.today(g.site).replace(day=1)
    ctx.setdefault("form", {"site": str(g.site.id), "month": _previous_month(last_month)})
    recent = entry.recent(sites)
    numbers = [row.employer_org_number for row, _site in recent]
    numbers += [line.org_number for line in ctx.get("preview") or ()]
    return render_template("stats/hours.html", sites=sites, recent=recent, employers=service.employer_names(numbers),
                           max_per_person=entry.MAX_PER_PERSON, **ctx), status


def _previous_month(first):
    return (first.replace(day=1) - timedelta(days=1)).isoformat()[:7]  # the last day of the month before


@bp.get("/s/<int:site_id>/hours")
@requires("hours.enter")
def hours(site_id):
    return _hours_page(saved=request.args.get("saved"), removed=request.args.get("removed"))


@bp.post("/s/<int:site_id>/hours")
@requires("hours.enter")
def enter_hours(site_id):
    sites = service.sites_with(g.user, g.site, "hours.enter")
    form = request.form
    try:
        line = entry.check_line(sites, form.get("site"), form.get("org_number"), form.get("month"),
                                form.get("hours"), form.get("people"))
    except InputError as exc:
        status, _message = inputs.problem(exc)
        return _hours_page(status, form=form, errors=inputs.errors_by_field(exc), error=inputs.banner(exc))
    entry.save(g.user, [line])
    return redirect(url_for("stats.hours", site_id=site_id, saved=1), 303)


@bp.post("/s/<int:site_id>/hours/<int:entry_id>/remove")
@requires("hours.enter")
def remove_hours(site_id, entry_id):
    """An entered row removed (a month entered by mistake): the check-in hours count again for it."""
    if not entry.remove(g.user, service.sites_with(g.user, g.site, "hours.enter"), entry_id):
        abort(404)
    return redirect(url_for("stats.hours", site_id=site_id, removed=1), 303)


@bp.post("/s/<int:site_id>/hours/import")
@requires("hours.enter")
@upload_limit(entry.MAX_FORM_BYTES, field_bytes=entry.MAX_FORM_BYTES)
def import_hours(site_id):
    sites = service.sites_with(g.user, g.site, "hours.enter")
    upload = request.files.get("file")
    # The file itself, or (confirming a dry run) its text sent back from the preview.
    data = upload.read(MAX_UPLOAD + 1) if upload and upload.filename else (request.form.get("text") or "").encode()
    try:
        if not data:
            raise entry.HoursError("empty_file")
        good, bad = entry.parse_csv(sites, data)
    except InputError as exc:
        status, message = inputs.problem(exc)
        return _hours_page(status, import_error=message)
    problems = [(number, inputs.problem(exc)[1]) for number, exc in bad]
    if bad or request.form.get("commit") != "1":
        # A dry run (or a file with bad lines): nothing saved; every bad line named.
        return _hours_page(422 if bad else 200, preview=good, problems=problems,
                           file_text=entry.decode(data) if not bad else None)
    entry.save(g.user, good)
    return redirect(url_for("stats.hours", site_id=site_id, saved=len(good)), 303)


# --- an injury's cost ---------------------------------------------------------------------------------------

@bp.post("/s/<int:site_id>/reports/<int:report_id>/injury")
@requires("injuries.record")
def record_injury(site_id, report_id):
    report = service.site_report(g.site, report_id)
    if report is None:
        abort(404)
    try:
        service.record_injury(g.user, report, request.form)
    except InputError as exc:
        status, message = inputs.problem(exc)
        return render_error(status, _("The injury was not updated"), message)
    return redirect(url_for("reports.report", site_id=site_id, report_id=report_id), 303)


# --- a person's own data ------------------------------------------------------------------------------------

@bp.get("/me/data.json")
@login_required
def own_data():
    body = json.dumps(service.own_data(g.user), ensure_ascii=False, indent=1, default=str)
    return downloads.attachment(body, "application/json", f"mine-data-{g.user.id}.json")
