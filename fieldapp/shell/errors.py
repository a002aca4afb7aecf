"""Friendly error pages in the person's language, for pages and for htmx fragments."""
import errno
import re

from flask import g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from peewee import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..authz import signed_out_json
from ..outbox import from_outbox
from ..storage import StorageUnavailable


# code -> (title, text) of the error page, translated when a page is made (lazy strings).
MESSAGES = {
    400: (_l("Something in the request was wrong"), _l("Go back, reload the page and try again.")),
    403: (_l("Not allowed"), _l("Your role on this site does not allow this. Ask the site's manager.")),
    404: (_l("Not found"), _l("This page does not exist, or it belongs to a site you are not on.")),
    405: (_l("Not allowed"), _l("This address cannot be used like that.")),
    409: (_l("Not done"), _l("Nothing was changed. Reload the page to see how things stand now.")),
    413: (_l("Too large"), _l("The upload is too large. Take a smaller photo or send fewer at a time.")),
    422: (_l("Not saved"), _l("Go back, correct what the message says and send it again.")),
    429: (_l("Too many attempts"), _l("Wait a few minutes and try again.")),
    503: (_l("Busy right now"), _l("Nothing was saved. Try again in a minute.")),
    500: (_l("Something went wrong"), _l("It is not your fault. Try again in a moment.")),
}


def render_error(code, title=None, text=None):
    default_title, default_text = (str(text) for text in MESSAGES.get(code, MESSAGES[500]))
    if from_outbox():
        # The phone's outbox shows this text beside the waiting item: no page, just what went wrong.
        return f"{title or default_title}. {text or default_text}", code, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("errors/error.html", code=code, title=title or default_title,
                           text=text or default_text), code


# C0 control characters but tab, newline and carriage return, DEL, and the C1 controls (U+0080-U+009F, such as
# U+009B, a terminal's escape): nothing a person types, and PostgreSQL refuses NUL in a text column (a 500 on any
# form, even sign-in, found by the attack test). The line breaks pasted text carries (U+000B, U+000C, U+0085) are
# read as "\n" when the form is parsed (inputs.PASTED_LINE_BREAKS), so a form never reaches this with them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters():
    """Whether any query or form value or field name of this request holds a control character
    (CONTROL_CHARACTERS). Reads the form: run after the view's upload limit is set."""
    parts = [request.args]
    if request.method in ("POST", "PUT", "PATCH"):
        parts += [request.form]
    for multi in parts:
        for key, value in multi.items(multi=True):
            if CONTROL_CHARACTERS.search(key) or CONTROL_CHARACTERS.search(value):
                return True
    # An uploaded file's name is not checked: the phone gave it, not the person, and refusing it would lose the
    # report it came with. Where a name is kept it goes through inputs.file_name, which drops such characters.
    return False


def refuse_control_characters():
    """before_request: a request carrying a control character is refused whole with a 400 that says so, in
    the person's language; nothing is saved (every form, the outbox's posts included)."""
    if has_control_characters():
        return render_error(400, _("The form holds a character that cannot be saved"),
                            _("Something pasted into the form holds an invisible control character. Type the "
                              "text again and send it. Nothing was saved."))
    return None


def init_app(app):
    app.before_request(refuse_control_characters)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if request.is_json:
            # A script's post (the push card): JSON it can read. Signed out meanwhile (the token went with the
            # session), it is told so as a signed-out JSON post is (authz._sign_in_first): 401, then sign-in.
            if g.get("user") is None:
                return signed_out_json()
            return jsonify(error=_("Reload the page and send it again. Nothing was saved.")), 400
        return render_error(400, _("The form has expired"),
                            _("Reload the page and send it again. Nothing was saved."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:
            return error
        if error.code == 404 and request.args.get("outbox"):
            # "Edit" on a waiting report of a site the person has left (issue 16): say so, not "not found".
            return render_error(404, _("You are no longer on this site"),
                                _("This report waits on this phone, but it can no longer be edited or sent for "
                                  "this site. Discard it on the Waiting on this phone page, or ask your foreman "
                                  "to add you to the site again."))
        return render_error(error.code)

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        # Locked, full or unreachable database: say so, and let the phone try again later.
        app.logger.error("database unavailable: %s", error)
        body, code, *headers = render_error(503)
        return body, code, {**(headers[0] if headers else {}), "Retry-After": "30"}

    @app.errorhandler(OSError)
    def disk_full(error):
        # Disk (or quota) full while writing a photo or a file (issue 22): nothing was saved (photos are
        # written to a temporary file and renamed; the row's transaction rolls back), so the phone keeps the
        # item and tries again later. Any other OSError is a bug: a plain 500.
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            app.logger.exception("unexpected OSError")
            return render_error(500)
        app.logger.error("disk full: %s", error)
        body, code, *headers = render_error(503)
        return body, code, {**(headers[0] if headers else {}), "Retry-After": "120"}

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(error):
        # The photo store (S3) is down, refuses the credentials or has no bucket (issue 23): the photo was not
        # stored, so no row was written either; the phone's outbox keeps the item and sends it again.
        app.logger.error("%s", error)
        body, code, *headers = render_error(503, _("Photos cannot be saved right now"),
                                            _("The photo storage cannot be reached. Nothing was saved. "
                                              "Try again in a minute."))
        return body, code, {**(headers[0] if headers else {}), "Retry-After": "60"}

    @app.errorhandler(InternalServerError)
    def server_error(error):
        return render_error(500)
