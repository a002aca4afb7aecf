"""Home screen, the installable-app files, the offline page and the health check."""
import json
import uuid
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, render_template, send_from_directory, url_for
from flask_babel import gettext as _

from .. import clock, static_files
from ..alerts import service as alerts
from ..authz import login_required, public
from ..checkin import service as checkin
from ..competence import service as competence
from ..meetings import service as meetings
from ..reports import service as reports
from ..sja import service as sja
from ..rounds import service as rounds
from ..db import database
from ..queue import huey
from ..sites.service import memberships_of

bp = Blueprint("shell", __name__)

THEME_COLOR = "#12355b"
BACKGROUND_COLOR = "#ffffff"


@bp.get("/")
@login_required
def home():
    memberships = memberships_of(g.user)
    open_row = checkin.open_check_in(g.user)
    return render_template("shell/home.html", memberships=memberships,
                           report_counts=reports.counts_for_home(g.user.id),
                           closed_reports=reports.closed_untold(g.user),
                           sja_waiting=sja.awaiting_signature(g.user),
                           stop_orders=alerts.active_stop_orders([m.site_id for m in memberships]),
                           meetings_due=meetings.due_for_home(memberships, g.user.language),
                           amu_member=meetings.amu_membership(g.user),
                           open_check_in=open_row, new_uuid=str(uuid.uuid4()),
                           round_card=rounds.home_card(memberships),
                           competence_expiring=competence.expiring_for_manager(g.user),
                           checked_in_since=open_row and clock.format_time(open_row.checked_in_at, site=open_row.site))


@bp.get("/offline")
@public
def offline():
    return render_template("shell/offline.html")


@bp.get("/outbox")
@public
def outbox():
    """What waits on this phone (listed from IndexedDB by static/js/outbox.js).

    One page for everyone on the phone, with no person in it (authz skips the sign-in for it), so the
    service worker keeps it and it opens without signal.
    """
    return render_template("shell/outbox.html")


@bp.get("/whoami")
@public
def whoami():
    """Who is signed in on this device: {"user": id, "session": device session id, "name": str}.

    401 with {} when nobody is. The outbox asks before it sends anything (an item is sent only as the
    person who made it). Never cached: the answer changes at every sign-in and sign-out.
    """
    headers = {"Cache-Control": "no-store"}
    if g.user is None:
        return jsonify({}), 401, headers
    return jsonify(user=g.user.id, session=g.device_session.id, name=g.user.name), 200, headers


@bp.get("/manifest.webmanifest")
@public
def manifest():
    icon = lambda size, purpose: {  # noqa: E731
        "src": url_for("static", filename=f"icons/icon-{purpose}-{size}.png"),
        "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose,
    }
    body = {
        "id": "/",
        "name": "Fieldapp HMS",
        "short_name": "HMS",
        "description": _("HMS on the building site: check in, report hazards, get alerts."),
        "lang": "nb",
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [icon(192, "any"), icon(512, "any"), icon(192, "maskable"), icon(512, "maskable")],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/favicon.ico")
@public
def favicon():
    """Browsers ask for /favicon.ico where a page names no icon (the poster, a PDF, a JSON answer): a 404 on every
    visit otherwise (issue 16). The app's icon, as PNG, which every browser reads under this name."""
    response = send_from_directory(Path(current_app.static_folder, "icons"), "icon-any-192.png",
                                   mimetype="image/png", max_age=7 * 24 * 3600)
    return response


@bp.get("/sw.js")
@public
def service_worker():
    """Served from the root so that its scope covers the whole app."""
    response = current_app.response_class(_service_worker_source(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _service_worker_source():
    """static/sw.js with its shell list and version filled in from fieldapp/static_files.py (the pages' source)."""
    cached = current_app.extensions.get("fieldapp.sw")
    if cached is None:
        files = static_files.manifest(current_app)
        urls = [url_for("static", filename=name) for name in static_files.SHELL_FILES]
        version = files.version(("sw.js",) + static_files.SHELL_FILES)
        source = (Path(current_app.static_folder) / "sw.js").read_text()
        source = (source.replace("__SHELL_HASH__", version)
                  .replace("__SHELL_STATIC__", json.dumps(urls))
                  .replace("/* __OUTBOX_CORE__ */", files.by_name["js/outbox-core.js"].raw.decode()))
        cached = current_app.extensions["fieldapp.sw"] = source
    return cached


@bp.get("/healthz")
@public
def healthz():
    checks = {}
    try:
        database.connect(reuse_if_open=True)
        database.execute_sql("SELECT 1").fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports every failure instead of raising it
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        checks["queue_pending"] = huey.pending_count()
        checks["queue"] = "ok"
    except Exception as exc:  # likewise
        checks["queue"] = f"error: {type(exc).__name__}"
    # Issue 23: without the queue a node still stores every record (the sweep sends its push messages once the
    # queue is back), so a proxy keeps it in rotation ("degraded"); without the database it can store nothing.
    if checks["database"] != "ok":
        checks["status"] = "error"
        return jsonify(checks), 503, {"Retry-After": "5"}
    checks["status"] = "ok" if checks["queue"] == "ok" else "degraded"
    return jsonify(checks), 200
