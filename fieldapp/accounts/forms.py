"""Reading the sign-in, enrollment and language forms: clean values, or fieldapp.inputs.InputErrors.

One way to validate (issue 15): each reader takes the posted form (request.form) and returns a dict of clean
values, or raises InputErrors naming every field's problem from fieldapp.inputs' one catalogue; the page shows
each message beside its field (inputs.errors_by_field). CSRF is checked for every POST by Flask-WTF's
CSRFProtect (fieldapp/extensions.py), not here.
"""
from ..config import LANGUAGE_NAMES
from ..inputs import FormReader
from . import service

MAX_PHONE = 40  # as typed: spaces, "tel:", invisible characters (service.mobile_number cleans them)
MAX_SECRET = 200  # service.secret_problem: a password has at most 200 characters
MAX_CODE = 20  # an enrollment code as typed, with dashes and spaces


def read_sign_in(form):
    """{"phone", "secret", "next"} from the sign-in form; InputErrors for an empty or too long field.

    The secret is taken as typed (spaces count in a password); the phone number is cleaned by
    service.authenticate, which forgives what iOS adds when copying from Contacts.
    """
    fields = FormReader(form)
    fields.text("phone", MAX_PHONE, required="phone_required")
    fields.text("secret", MAX_SECRET, required="secret_required", strip=False)
    fields.values["next"] = form.get("next", "")
    return fields.done()


def read_enroll_code(form):
    """{"code"}: the enrollment code, normalised (service.normalize_code); InputErrors if empty or too long."""
    fields = FormReader(form)
    code = fields.text("code", MAX_CODE, required="code_required")
    values = fields.done()
    values["code"] = service.normalize_code(code)
    return values


def read_new_secret(form, phone=None):
    """{"secret"}: a new PIN or password, typed twice ("secret", "confirm").

    phone: the person's number (refused inside a PIN). Reasons: "secret_choose" (empty), the ones of
    service.secret_problem (too short, too easy to guess), "secret_mismatch" (on the "confirm" field).
    """
    fields = FormReader(form)
    secret = fields.text("secret", None, required="secret_choose", strip=False)  # secret_problem: 200
    if secret:
        reason = service.secret_problem(secret, phone)
        if reason:
            fields.fail(reason, "secret")
    if secret and form.get("confirm", "") != secret:
        fields.fail("secret_mismatch", "confirm")
    return {"secret": fields.done()["secret"]}


def read_language(form):
    """{"language"}: a code of config.LANGUAGE_NAMES; InputErrors("bad_language") otherwise."""
    fields = FormReader(form)
    fields.choice("language", LANGUAGE_NAMES, "bad_language")
    return fields.done()
