"""Sign-in, sign-out, enrollment, the profile and its device sessions."""
from datetime import timedelta, timezone
from urllib.parse import urlsplit

from flask import abort, Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale, format_time, format_timedelta
from flask_babel import gettext as _

from .. import authz, i18n, inputs
from ..alerts import service as alerts
from ..authz import SESSION_KEY, login_required, public
from ..checkin.service import site_for_sign_in
from ..clock import utcnow
from ..config import LANGUAGE_NAMES
from ..htmx import render
from . import service
from . import forms

bp = Blueprint("accounts", __name__)
# Who is signed in is decided in authz for every request; the device sessions it reads are this feature's.
bp.record_once(lambda state: authz.use_session_lookup(state.app, service.session_for_token))


def safe_next(target):
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("shell.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("shell.home")
    return target


def begin_session(user):
    token = service.start_device_session(user, request.headers.get("User-Agent"))
    session.clear()  # a fresh session (and CSRF token) at every sign-in
    session.permanent = True
    session[SESSION_KEY] = token
    # Pages that hold no person (the outbox and offline pages, which the service worker keeps for
    # everyone on the phone) still speak the language of whoever signed in last.
    session["lang"] = user.language


def client_ip():
    """The client's address: behind FIELDAPP_TRUSTED_PROXIES, ProxyFix has put the real one here."""
    return request.remote_addr or "unknown"


def device_cookie_name():
    return "__Host-fieldapp_device" if current_app.config["SESSION_COOKIE_SECURE"] else "fieldapp_device"


def remember_device(response, user):
    """Set the long-lived device cookie (accounts.service, "device cookies") after a sign-in."""
    value = service.device_cookie_for(request.cookies.get(device_cookie_name()), user)
    response.set_cookie(device_cookie_name(), value, max_age=current_app.config["DEVICE_COOKIE_DAYS"] * 86400,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax",
                        path="/")
    return response


def when_to_retry(retry_after):
    """{"time": "14:05" (the clock in the app's time zone), "wait": "15 minutes"} for a message."""
    until = (utcnow() + timedelta(seconds=retry_after)).replace(tzinfo=timezone.utc)
    return {"time": format_time(until, "HH:mm"),
            "wait": format_timedelta(timedelta(seconds=retry_after), threshold=1.1)}


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    # Scanned a poster while signed out: the page names the site (issue 16).
    g.poster_site = site_for_sign_in(request.values.get("next", ""))
    if request.method in ("GET", "HEAD"):
        return render_template("accounts/sign_in.html", values={"next": request.args.get("next", "")}, errors={})
    page = dict(values=request.form)  # the secret is never sent back (the template leaves it out)
    try:
        form = forms.read_sign_in(request.form)
    except inputs.InputError as exc:
        return render_template("accounts/sign_in.html", **page, errors=inputs.errors_by_field(exc),
                               error=inputs.banner(exc)), inputs.problem(exc)[0]
    try:
        user = service.authenticate(form["phone"], form["secret"], client_ip(),
                                    request.cookies.get(device_cookie_name()))
    except service.Throttled as exc:
        error = _("Too many failed attempts. Try again at %(time)s (in %(wait)s), or ask your foreman for a "
                  "new code. On a phone where you have signed in before you can sign in as usual.",
                  **when_to_retry(exc.retry_after))
        return (render_template("accounts/sign_in.html", **page, errors={}, error=error), 429,
                {"Retry-After": str(exc.retry_after)})
    except service.SignInError:
        return render_template("accounts/sign_in.html", **page, errors={},
                               error=_("Wrong phone number or PIN/password.")), 401
    chosen_here = session.get("lang")  # begin_session starts a fresh session
    begin_session(user)
    return remember_device(redirect(_after_sign_in(user, chosen_here, safe_next(form["next"])), 303), user)


def _after_sign_in(user, chosen_here, target):
    """Where a sign-in goes: first to confirm the language, until the person has (issue 17)."""
    if user.language_confirmed_at is not None:
        return target
    return url_for("accounts.first_language", lang=i18n.proposed_language(chosen_here, user), next=target)


@bp.post("/sign-out")
@login_required
def sign_out():
    service.revoke_session(g.user, g.device_session.id, g.user)
    session.clear()
    # The sign-in page after it speaks the person's language, not the browser's: a Polish worker on a phone set
    # to Norwegian would otherwise have to find their language again (the page's language links change it).
    if g.user.language in current_app.config["LANGUAGES"]:
        session["lang"] = g.user.language
    response = redirect(url_for("accounts.sign_in"), 303)
    # Pages and photos cached by this browser hold the person's data; a shared phone is common. Never
    # "storage": it would also wipe IndexedDB, where other people's (and this person's) unsent check-ins
    # and reports wait for their maker to sign in again (issue 13/14). The page (outbox.js) has already
    # deleted this person's kept pages and sent receipts before posting here.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/enroll", methods=["GET", "POST"])
@public
def enroll():
    """Step 1: the code, typed, or from the QR link (/enroll#CODE), whose page script posts it here.

    The code is never in a path or query string: those end up in access logs, history and Referer
    headers (issue 14). A fragment is never sent to the server.
    """
    if request.method in ("GET", "HEAD"):
        return render_template("accounts/enroll.html", values={}, errors={})
    try:
        code = forms.read_enroll_code(request.form)["code"]
    except inputs.InputError as exc:
        return (render_template("accounts/enroll.html", values=request.form, errors=inputs.errors_by_field(exc)),
                inputs.problem(exc)[0])
    enrollment, error = _enrollment_or_error(code)
    if error:
        return error
    return render_template("accounts/choose_secret.html", code=code, errors={}, person=enrollment.user)


def _enrollment_or_error(code):
    """(enrollment, None) or (None, response) for an unusable or throttled code."""
    limits = {f"enroll-ip:{client_ip()}": service.Limit(20, current_app.config["LOGIN_WINDOW_SECONDS"])}
    try:
        service.check_throttle(limits)
    except service.Throttled as exc:
        body = render_template("accounts/enroll.html", values={}, errors={},
                               error=_("Too many wrong codes. Try again at %(time)s (in %(wait)s).",
                                       **when_to_retry(exc.retry_after)))
        return None, (body, 429, {"Retry-After": str(exc.retry_after)})
    enrollment = service.find_enrollment(code)
    if enrollment is None:
        service.note_failure(limits)
        # Beside the box, with the code as typed: "it may be mistyped" is only of use if the person sees it.
        body = render_template("accounts/enroll.html", values={"code": request.form.get("code", "")},
                               errors={"code": _("This code is not valid. It may be mistyped, used already or "
                                                 "expired: ask your foreman for a new one.")})
        return None, (body, 404)
    return enrollment, None


@bp.post("/enroll/pin")
@public
def enroll_secret():
    """Step 2: the chosen PIN or password, with the code in a hidden field; the code is used up and
    this phone is signed in (and remembered as the person's device)."""
    code = service.normalize_code(request.form.get("code"))
    enrollment, error = _enrollment_or_error(code)
    if error:
        return error
    try:
        secret = forms.read_new_secret(request.form, enrollment.user.phone)["secret"]  # their number is no PIN
    except inputs.InputError as exc:
        return (render_template("accounts/choose_secret.html", code=code, errors=inputs.errors_by_field(exc),
                                person=enrollment.user), inputs.problem(exc)[0])
    user = service.redeem_enrollment(code, secret)
    if user is None:  # used by a concurrent request between the check and now
        return _enrollment_or_error(code)[1] or abort(404)
    chosen_here = session.get("lang")  # the language picked on this phone before enrolling, if any
    if chosen_here in current_app.config["LANGUAGES"] and chosen_here != user.language:
        service.set_language(user, chosen_here, confirmed=False)  # until the next page confirms it
    begin_session(user)
    return remember_device(redirect(_after_sign_in(user, chosen_here, url_for("shell.home", welcome=1)), 303), user)


@bp.get("/enroll/<path:code>")
@public
def enroll_code(code):
    """Links made by earlier versions carried the code in the path: off to the form that asks for it.

    The code in the path is not used, nor carried on (a page at this address would pass it on in
    its language switch's return address and in Referer headers).
    """
    return redirect(url_for("accounts.enroll"), 303)


@bp.get("/me")
@login_required
def profile():
    return render_template("accounts/profile.html", **_profile_context())


def _profile_context(errors=None):
    return dict(
        language=g.user.language,
        language_names=LANGUAGE_NAMES,
        errors=errors or {},
        sessions=service.live_sessions(g.user),
        current_session_id=g.device_session.id,
        push_subscriptions=alerts.push_subscriptions(g.user),
    )


@bp.post("/me/language")
@login_required
def change_language():
    try:
        language = forms.read_language(request.form)["language"]
    except inputs.InputError as exc:
        return (render_template("accounts/profile.html", **_profile_context(inputs.errors_by_field(exc))),
                inputs.problem(exc)[0])
    service.set_language(g.user, language)
    session["lang"] = language  # the pages without a person, too (begin_session)
    # Every rendered region changes language: a whole new page, not a fragment.
    return redirect(url_for("accounts.profile"), 303)


@bp.route("/welcome/language", methods=["GET", "POST"])
@login_required
def first_language():
    """First sign-in: the proposed language (?lang=, from the browser) is confirmed with one tap, or another
    chosen. The page is in the proposed language, so the person can read what they confirm."""
    supported = current_app.config["LANGUAGES"]
    target = safe_next(request.values.get("next"))
    if request.method == "POST":
        try:
            language = forms.read_language(request.form)["language"]
        except inputs.InputError:
            abort(400)  # the page offers only buttons of supported languages: a crafted post
        service.set_language(g.user, language)
        session["lang"] = language
        return redirect(target, 303)
    proposed = request.args.get("lang")
    if proposed not in supported:
        proposed = i18n.proposed_language(None, g.user)
    with force_locale(proposed):
        return render_template("accounts/first_language.html", proposed=proposed, next=target)


@bp.post("/language")
@public
def choose_language():
    """Before sign-in: the choice lives in the cookie session until the person has a profile."""
    try:
        language = forms.read_language(request.form)["language"]
    except inputs.InputError:
        language = None  # a stale or crafted choice: the page stays in its language
    if language:
        session["lang"] = language
        if g.user is not None:
            service.set_language(g.user, language)
    return redirect(safe_next(request.form.get("next")), 303)


@bp.post("/me/sessions/<int:session_id>/revoke")
@login_required
def revoke_session(session_id):
    if not service.revoke_session(g.user, session_id, g.user):
        abort(404)
    if session_id == g.device_session.id:
        session.clear()
        return redirect(url_for("accounts.sign_in"), 303)
    return render("accounts/profile.html", "accounts/_sessions.html", **_profile_context())
