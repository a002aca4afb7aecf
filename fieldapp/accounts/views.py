"""Sign-in, sign-out, enrollment, the profile and its device sessions."""
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..authz import SESSION_KEY, login_required, public
from ..htmx import render
from . import bp, service
from .forms import ChooseSecretForm, EnrollCodeForm, LanguageForm, SignInForm


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


def client_ip():
    return request.remote_addr or "unknown"


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("accounts/sign_in.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form), 422
    try:
        user = service.authenticate(form.phone.data, form.secret.data, client_ip())
    except service.Throttled as exc:
        minutes = max(1, round(exc.retry_after / 60))
        form.form_errors.append(_("Too many failed attempts. Wait %(minutes)d minutes and try again, "
                                  "or ask your foreman for a new code.", minutes=minutes))
        return render_template("accounts/sign_in.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
    except service.SignInError:
        form.form_errors.append(_("Wrong phone number or PIN/password."))
        return render_template("accounts/sign_in.html", form=form), 401
    begin_session(user)
    return redirect(safe_next(form.next.data), 303)


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
    """Step 1: the typed code (the QR poster of a person's code opens step 2 directly)."""
    form = EnrollCodeForm()
    if request.method == "POST" and form.validate_on_submit():
        return redirect(url_for("accounts.enroll_code", code=service.normalize_code(form.code.data)), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/enroll.html", form=form), status


def _enrollment_or_error(code):
    """(enrollment, None) or (None, response) for an unusable or throttled code."""
    limits = {f"enroll-ip:{client_ip()}": 20}
    try:
        service.check_throttle(limits)
    except service.Throttled as exc:
        body = render_template("accounts/enroll.html", form=EnrollCodeForm(),
                               error=_("Too many wrong codes. Wait a few minutes and try again."))
        return None, (body, 429, {"Retry-After": str(exc.retry_after)})
    enrollment = service.find_enrollment(code)
    if enrollment is None:
        service.note_failure(list(limits))
        form = EnrollCodeForm(code=code)
        body = render_template("accounts/enroll.html", form=form,
                               error=_("This code is not valid. It may be mistyped, used already or "
                                       "expired: ask your foreman for a new one."))
        return None, (body, 404)
    return enrollment, None


@bp.route("/enroll/<code>", methods=["GET", "POST"])
@public
def enroll_code(code):
    """Step 2: choose a PIN or password; the code is used up and this phone is signed in."""
    enrollment, error = _enrollment_or_error(code)
    if error:
        return error
    form = ChooseSecretForm(code=code)
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("accounts/choose_secret.html", form=form, person=enrollment.user), status
    user = service.redeem_enrollment(code, form.secret.data)
    if user is None:  # used by a concurrent request between the check and now
        return _enrollment_or_error(code)[1] or abort(404)
    chosen = session.get("lang")
    if chosen in current_app.config["LANGUAGES"] and chosen != user.language:
        service.set_language(user, chosen)  # the language picked on this phone before enrolling
    begin_session(user)
    return redirect(url_for("shell.home", welcome=1), 303)


@bp.get("/me")
@login_required
def profile():
    return render_template("accounts/profile.html", **_profile_context())


def _profile_context(language_form=None):
    from ..alerts import service as alerts

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
