"""Reading the site, person, role and HMS card forms: clean values, or fieldapp.inputs.InputErrors; role names.

One way to validate (issue 15), as fieldapp/accounts/forms.py: each reader takes request.form and returns a
dict of clean values, or raises InputErrors with every field's problem (shown beside the field). Lengths
are the columns' own (models.py), so a message states the limit the database keeps. CSRF is checked for
every POST by Flask-WTF's CSRFProtect, not here.
"""
from flask_babel import gettext as _
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from .. import clock
from ..accounts.service import mobile_number
from ..config import LANGUAGE_NAMES
from ..inputs import FormReader
from ..models import ROLES, Organization, Site, User
from . import service

MAX_PHONE = 40  # as typed, before mobile_number cleans it
# An HMS card's expiry date: a card is issued for at most a few years, and an expired one is recorded as it was.
# 0001-01-01 was saved, and the person's check-in was then refused as "card expired".
HMS_CARD_YEARS = (10, 10)  # back, ahead of today


# Each role's name in English, the msgid of its translations (extracted through the _l calls below).
ROLE_WORDS = {"worker": "Worker", "foreman": "Foreman", "verneombud": "Safety representative (verneombud)",
              "manager": "Manager"}


def role_label(role):
    return {
        "worker": _l("Worker"),
        "foreman": _l("Foreman"),
        "verneombud": _l("Safety representative (verneombud)"),
        "manager": _l("Manager"),
    }[role]


def role_names():
    """{role: its name in the reader's language, escaped once}: a list of 50 rows pays for 4 lookups, not 50.

    The words of role_label, from Flask-Babel's catalogue for the locale of the moment (get_translations),
    looked up once for the four rather than once a word as gettext() does."""
    catalogue = get_translations()
    return {role: escape(catalogue.ugettext(ROLE_WORDS[role])) for role in ROLES}


def role_helpers():
    """Every page's role names (a context processor: fieldapp/sites/views.py registers it for the app)."""
    return {"role_label": role_label, "role_names": role_names, "roles": ROLES}


def _optional(fields, name, max_length):
    """An optional text field: None when left empty (the column is nullable)."""
    return fields.text(name, max_length) or None


def read_site(form, with_active=False):
    """{"name", "address", "project_number", "client_name"} (and "active", a checkbox, when editing).

    Reasons: "site_name_required", "site_address_required", "too_long" (n = the column's max_length).
    """
    fields = FormReader(form)
    fields.text("name", Site.name.max_length, required="site_name_required")
    fields.text("address", Site.address.max_length, required="site_address_required")
    fields.values["project_number"] = _optional(fields, "project_number", Site.project_number.max_length)
    fields.values["client_name"] = _optional(fields, "client_name", Site.client_name.max_length)
    if with_active:
        fields.values["active"] = bool(form.get("active"))
    return fields.done()


def read_person(form, grantable_roles, employer_ids):
    """The add-a-person form: {"name", "phone" (E.164), "role", "employer" (an id or None), "new_employer"
    ((name, organisation number) or None), "hms_card_number", "hms_card_expiry" (date or None), "language",
    "hired_in" (bool), "agency" ((name, organisation number) of the staffing agency, or None)}.

    grantable_roles: the roles the adding person may give; employer_ids: the organizations they may name
    (service.own_organizations). The employer is one of them, or a new one with a name and a valid
    organisation number (9 digits, mod-11). Phone numbers follow accounts.service.mobile_number
    (libphonenumber's rules). Raises InputErrors with every field's problem.
    """
    fields = FormReader(form)
    fields.text("name", User.name.max_length, required="person_name_required")
    phone = fields.text("phone", MAX_PHONE, required="mobile_required")
    if phone and len(phone) <= MAX_PHONE:
        number, reason = mobile_number(phone)
        if number is None:
            fields.fail(reason, "phone")
        fields.values["phone"] = number
    fields.choice("role", list(grantable_roles), "bad_role")
    employer = form.get("employer") or ""
    new_name = fields.text("new_employer_name", Organization.name.max_length)
    new_number = fields.text("new_employer_org_number", 20).replace(" ", "")
    if new_number and not service.org_number_valid(new_number):
        fields.fail("bad_org_number", "new_employer_org_number")
    fields.values["new_employer"] = None
    if new_name or new_number:
        if not (new_name and new_number):
            fields.fail("new_employer_incomplete", "new_employer_name")
        fields.values["new_employer"] = (new_name, new_number)
        fields.values["employer"] = None
    elif employer not in {str(i) for i in employer_ids}:
        fields.fail("employer_required", "employer")
    else:
        fields.values["employer"] = int(employer)
    fields.values["hms_card_number"] = fields.card_number("hms_card_number", User.hms_card_number.max_length) or None
    fields.date("hms_card_expiry", around=(clock.today(), *HMS_CARD_YEARS))
    fields.choice("language", LANGUAGE_NAMES, "bad_language", default="nb")
    _read_hired_in(form, fields)
    agency, new_employer = fields.values["agency"], fields.values["new_employer"]
    if agency and new_employer and agency[1] == new_employer[1]:
        fields.fail("duties.agency_is_employer", "agency_org_number")
    return fields.done()


def _read_hired_in(form, fields):
    """Byggherreforskriften § 15 (issue 24): "hired_in" (bool) and "agency" ((name, organisation number) of the
    staffing agency, or None). A name or number given needs the other; the number is checked (mod-11).
    Ticking "hired in" without the agency is allowed: the attendance list then shows itself incomplete."""
    name = fields.text("agency_name", Organization.name.max_length)
    number = "".join(fields.text("agency_org_number", 20).split())
    fields.values["agency"] = None
    if number and not service.org_number_valid(number):
        fields.fail("bad_org_number", "agency_org_number")
    elif number and not name:
        fields.fail("duties.agency_name", "agency_name")
    elif name and not number:
        fields.fail("duties.agency_number", "agency_org_number")
    elif name and number:
        fields.values["agency"] = (name, number)
    fields.values["hired_in"] = form.get("hired_in") == "1" or fields.values["agency"] is not None


def read_role(form, grantable_roles):
    """{"role"}: one of grantable_roles; InputErrors("bad_role") otherwise."""
    fields = FormReader(form)
    fields.choice("role", list(grantable_roles), "bad_role")
    return fields.done()


def read_hms_card(form):
    """{"name" (None keeps the person's), "hms_card_number" (None clears it), "hms_card_expiry" (date or None)}.

    The name is kept when the form does not send the field; sent empty (or only invisible characters) it is
    "person_name_required": the form shows the name, so an emptied one is a mistake to point out, not ignore."""
    fields = FormReader(form)
    if "name" in form:
        fields.values["name"] = fields.text("name", User.name.max_length, required="person_name_required")
    else:
        fields.values["name"] = None
    fields.values["hms_card_number"] = fields.card_number("hms_card_number", User.hms_card_number.max_length) or None
    fields.date("hms_card_expiry", around=(clock.today(), *HMS_CARD_YEARS))
    return fields.done()
