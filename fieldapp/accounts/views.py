"""Sign-in, sign-out, enrollment, the profile and its device sessions."""
from datetime import timedelta, timezone
from urllib.parse import urlsplit

from flask import abort, Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import format_time, format_timedelta
from flask_babel import gettext as _

from .. import authz
from ..alerts import service as alerts
from ..authz import SESSION_KEY, login_required, public
from ..checkin.service import site_for_sign_in
from ..clock import utcnow
from ..htmx import render
from . import service
from .forms import ChooseSecretForm, EnrollCodeForm, LanguageForm, SignInForm

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
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    # Scanned a poster while signed out: the page names the site (issue 16).
    g.poster_site = site_for_sign_in(form.next.data)
    if request.method == "GET":
        return render_template("accounts/sign_in.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form), 422
    try:
        user = service.authenticate(form.phone.data, form.secret.data, client_ip(),
                                    request.cookies.get(device_cookie_name()))
    except service.Throttled as exc:
        form.form_errors.append(_(
            "Too many failed attempts. Try again at %(time)s (in %(wait)s), or ask your foreman for a "
            "new code. On a phone where you have signed in before you can sign in as usual.",
            **when_to_retry(exc.retry_after)))
        return render_template("accounts/sign_in.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
    except service.SignInError:
        form.form_errors.append(_("Wrong phone number or PIN/password."))
        return render_template("accounts/sign_in.html", form=form), 401
    begin_session(user)
    return remember_device(redirect(safe_next(form.next.data), 303), user)


@bp.post("/sign-out")
@login_required
def sign_out():
    service.revoke_session(g.user, g.device_session.id, g.user)
    session.clear()
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
    form = EnrollCodeForm()
    if request.method == "GET":
        return render_template("accounts/enroll.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/enroll.html", form=form), 422
    code = service.normalize_code(form.code.data)
    enrollment, error = _enrollment_or_error(code)
    if error:
        return error
    return render_template("accounts/choose_secret.html", form=ChooseSecretForm(code=code), person=enrollment.user)


def _enrollment_or_error(code):
    """(enrollment, None) or (None, response) for an unusable or throttled code."""
    limits = {f"enroll-ip:{client_ip()}": service.Limit(20, current_app.config["LOGIN_WINDOW_SECONDS"])}
    try:
        service.check_throttle(limits)
    except service.Throttled as exc:
        body = render_template("accounts/enroll.html", form=EnrollCodeForm(formdata=None),
                               error=_("Too many wrong codes. Try again at %(time)s (in %(wait)s).",
                                       **when_to_retry(exc.retry_after)))
        return None, (body, 429, {"Retry-After": str(exc.retry_after)})
    enrollment = service.find_enrollment(code)
    if enrollment is None:
        service.note_failure(limits)
        body = render_template("accounts/enroll.html", form=EnrollCodeForm(formdata=None),
                               error=_("This code is not valid. It may be mistyped, used already or "
                                       "expired: ask your foreman for a new one."))
        return None, (body, 404)
    return enrollment, None


@bp.post("/enroll/pin")
@public
def enroll_secret():
    """Step 2: the chosen PIN or password, with the code in a hidden field; the code is used up and
    this phone is signed in (and remembered as the person's device)."""
    form = ChooseSecretForm()
    code = service.normalize_code(form.code.data)
    enrollment, error = _enrollment_or_error(code)
    if error:
        return error
    form.person = enrollment.user  # their own phone number is no PIN
    if not form.validate_on_submit():
        return render_template("accounts/choose_secret.html", form=form, person=enrollment.user), 422
    user = service.redeem_enrollment(code, form.secret.data)
    if user is None:  # used by a concurrent request between the check and now
        return _enrollment_or_error(code)[1] or abort(404)
    chosen = session.get("lang")
    if chosen in current_app.config["LANGUAGES"] and chosen != user.language:
        service.set_language(user, chosen)  # the language picked on this phone before enrolling
    begin_session(user)
    return remember_device(redirect(url_for("shell.home", welcome=1), 303), user)


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


def _profile_context(language_form=None):
    return dict(
        language_form=language_form or LanguageForm(language=g.user.language),
        sessions=service.live_sessions(g.user),
        current_session_id=g.device_session.id,
        push_subscriptions=alerts.push_subscriptions(g.user),
    )


@bp.post("/me/language")
@login_required
def change_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        return render_template("accounts/profile.html", **_profile_context(form)), 422
    service.set_language(g.user, form.language.data)
    session["lang"] = form.language.data  # the pages without a person, too (begin_session)
    # Every rendered region changes language: a whole new page, not a fragment.
    return redirect(url_for("accounts.profile"), 303)


@bp.post("/language")
@public
def choose_language():
    """Before sign-in: the choice lives in the cookie session until the person has a profile."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.language.data
        if g.user is not None:
            service.set_language(g.user, form.language.data)
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
