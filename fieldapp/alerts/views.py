"""Alert views: the inbox, composing, an alert's page with its big button, the sender's live status,
and the device's push subscription."""
import uuid as uuidlib

from flask import abort, Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from .. import inputs, outbox, phone_time, push
from ..authz import can, login_required, outbox_post, requires
from ..extensions import csrf
from ..htmx import render_polled
from ..shell.errors import render_error
from ..sites.service import memberships_of
from . import service, wording
from .service import AlertError

bp = Blueprint("alerts", __name__)
# At start: warn when push would fail quietly (default VAPID subject, subscriptions made with a lost key).
bp.record_once(lambda state: service.warn_about_push_setup(state.app))


def alert_count():
    """Alerts the signed-in person has not acknowledged (the bottom bar's count)."""
    user = g.get("user")
    return service.unacknowledged_count(user.id) if user is not None else 0


def alert_banner(skip=None):
    """([(copy, title)], more): the alerts the signed-in person must still acknowledge, for the banner on every
    page (skip: the alert whose own page this is: its big button is there), and whether there are more than the
    banner shows."""
    user = g.get("user")
    if user is None:
        return [], False
    copies, more = service.banner(user.id)
    return [(copy, wording.wording(copy.alert)[0]) for copy in copies if copy.alert_id != skip], more


@bp.app_context_processor
def alert_helpers():
    """For every page's bottom bar and banner (fieldapp/templating.py has the helpers that are not a feature's)."""
    return {"alert_count": alert_count, "alert_banner": alert_banner}


def level_names():
    return {"info": _("Information"), "warning": _("Warning"), "stop_work": _("Stop work")}


def audience_names():
    return {"all": _("Everyone on the site"), "checked_in": _("Those checked in now"), "foremen": _("Foremen only")}


# --- inbox -------------------------------------------------------------------------------------------------

@bp.get("/alerts")
@login_required
def inbox():
    copies = service.inbox(g.user)
    return render_template("alerts/inbox.html", copies=copies, wording=wording.wording, levels=level_names(),
                           memberships=memberships_of(g.user))


# --- composing (verneombud, foreman, manager) --------------------------------------------------------------

def _compose_context(error=None, form=None, errors=None):
    titles = {key: wording.templates()[key] for key in wording.COMPOSE_TEMPLATES}
    return dict(error=error, errors=errors or {}, form=form or {}, new_uuid=str(uuidlib.uuid4()), levels=level_names(),
                audiences=audience_names(), template_titles={k: str(v[1]("")) for k, v in titles.items()},
                template_levels={k: v[0] for k, v in titles.items()}, ack_minutes=service.ACK_MINUTES,
                sender_language=str(get_locale()), reader_languages=service.recipient_languages(g.site, g.user))


@bp.get("/s/<int:site_id>/alerts/new")
@requires("alerts.send")
def compose(site_id):
    return render_template("alerts/new.html", **_compose_context(form=request.args))


@bp.post("/s/<int:site_id>/alerts/new")
@requires("alerts.send")
def send(site_id):
    try:
        alert_uuid = outbox.parse_uuid(request.form.get("uuid"))
        fields = service.parse_form(request.form, sender_language=str(get_locale()))
        alert, _created = service.create(g.user, g.site, alert_uuid, fields, composed=True)
    except inputs.InputError as exc:  # AlertError, or a bad UUID (outbox.parse_uuid)
        status, _message = inputs.problem(exc)
        context = _compose_context(error=inputs.banner(exc), errors=inputs.errors_by_field(exc), form=request.form)
        return render_template("alerts/new.html", **context), status
    return redirect(url_for("alerts.alert", site_id=site_id, alert_id=alert.id), 303)


@bp.get("/s/<int:site_id>/alerts")
@requires("alerts.status")
def site_alerts(site_id):
    return render_template("alerts/site.html", alerts=service.site_alerts(g.site), wording=wording.wording,
                           levels=level_names())


# --- one alert ------------------------------------------------------------------------------------------

def _alert_and_copy(alert_id):
    alert = service.site_alert(g.site, alert_id, g.user)
    if alert is None:
        abort(404)
    copy = service.copy_for(alert, g.user)
    if copy is None and not can("alerts.status"):
        abort(404)  # not theirs to read
    return alert, copy


@bp.get("/s/<int:site_id>/alerts/<int:alert_id>")
@requires("alerts.read")
def alert(site_id, alert_id):
    alert, copy = _alert_and_copy(alert_id)
    service.mark_seen(copy)
    title, text = wording.wording(alert)
    return render_template("alerts/alert.html", alert=alert, copy=copy, title=title, text=text,
                           rows=service.status_rows(alert) if can("alerts.status") else [], levels=level_names(),
                           audiences=audience_names(), new_uuid=str(uuidlib.uuid4()),
                           may_lift=service.may_lift(g.membership, alert))


@bp.get("/s/<int:site_id>/alerts/<int:alert_id>/status")
@requires("alerts.status")
def status(site_id, alert_id):
    status = service.status_of(g.site, alert_id, g.user)  # alerts.status: whether or not they got a copy
    if status is None:
        abort(404)
    head, rows = status
    return render_polled("alerts/alert_status.html", "alerts/_status.html", alert=head, rows=rows)


@bp.post("/s/<int:site_id>/alerts/<int:alert_id>/ack")
@outbox_post
@requires("alerts.read")
def acknowledge(site_id, alert_id):
    alert, copy = _alert_and_copy(alert_id)
    if copy is None:
        abort(404)
    try:
        ack_uuid = outbox.parse_uuid(request.form.get("uuid"))
        # Not before the alert was sent (its own bound); the rest is fieldapp/phone_time.py's rule.
        created = service.acknowledge(g.user, copy, ack_uuid, phone_time.from_request(alert.created_at))
    except inputs.InputError as exc:  # AlertError, or a bad UUID (outbox.parse_uuid)
        status_code, message = inputs.problem(exc)
        if outbox.from_outbox():
            return outbox.answer(status_code, message)
        return render_error(status_code, message)
    if outbox.from_outbox():
        return outbox.answer(201 if created else 200, "acknowledged")
    return redirect(url_for("alerts.alert", site_id=site_id, alert_id=alert_id), 303)


@bp.post("/s/<int:site_id>/alerts/<int:alert_id>/lift")
@requires("alerts.lift")
def lift(site_id, alert_id):
    """Work may start again: the stop-work order is lifted and everyone who got it is told."""
    alert = service.site_alert(g.site, alert_id, g.user)
    if alert is None:
        abort(404)
    try:
        service.lift(g.user, alert, g.membership)
    except inputs.InputError as exc:
        status_code, message = inputs.problem(exc)
        return render_error(status_code, message)
    return redirect(url_for("alerts.alert", site_id=site_id, alert_id=alert_id), 303)


@bp.post("/s/<int:site_id>/alerts/<int:alert_id>/received")
@csrf.exempt
@requires("alerts.read")
def received(site_id, alert_id):
    """The service worker says the notification was shown. Only marks a time; needs the session cookie.

    No form token (the service worker has none), so the request must come from this origin: a page on
    another origin, even the same site, could otherwise tell the sender a phone got an alert it never showed.
    403 otherwise.
    """
    if not outbox.same_origin():
        abort(403)
    _alert, copy = _alert_and_copy(alert_id)
    service.mark_received(copy)
    return "", 204


# --- the device's push subscription ------------------------------------------------------------------------

@bp.post("/me/push")
@login_required
def subscribe():
    """JSON body: a PushSubscription.toJSON(), plus "replaces": the endpoint it renews (optional).

    201/200 {"id", "broken"}: broken means the push service refused it; the phone then subscribes anew.
    400/422 {"error"} for a subscription that cannot be used (issue 14: only known push services);
    409 {"error"} when the endpoint belongs to someone still signed in on that phone.
    """
    data = request.get_json(silent=True)
    try:
        info = push.check_subscription(data, push.allowed_hosts(current_app.config),
                                       allow_local=current_app.config.get("PUSH_ALLOW_LOCAL_ENDPOINTS", False))
        replaces = data.get("replaces")
        subscription, created = service.subscribe(
            g.user, info, g.device_session, vapid_key=current_app.config["VAPID_PUBLIC_KEY"],
            replaces=replaces if isinstance(replaces, str) else None,
            user_agent=request.headers.get("User-Agent", ""))
    except (push.PushError, AlertError) as exc:
        status_code, message = inputs.problem(exc)
        return jsonify(error=message), status_code
    return jsonify(id=subscription.id, broken=subscription.broken_at is not None), 201 if created else 200


@bp.get("/me/push/key")
@login_required
def push_key():
    """For the service worker's pushsubscriptionchange: the server's VAPID key and a CSRF token to post with."""
    response = jsonify(key=current_app.config["VAPID_PUBLIC_KEY"], csrf=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/me/push/<int:subscription_id>/remove")
@login_required
def unsubscribe(subscription_id):
    if not service.unsubscribe(g.user, subscription_id):
        abort(404)
    return redirect(url_for("accounts.profile") + "#notifications", 303)
