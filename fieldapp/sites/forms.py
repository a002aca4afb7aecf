"""Forms for sites and for adding people to a site."""
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .. import inputs
from ..models import ROLES
from ..accounts.forms import LANGUAGE_CHOICES
from ..accounts.service import mobile_number
from . import service


def role_label(role):
    return {
        "worker": _l("Worker"),
        "foreman": _l("Foreman"),
        "verneombud": _l("Safety representative (verneombud)"),
        "manager": _l("Manager"),
    }[role]


def role_helpers():
    """Every page's role names (a context processor: fieldapp/sites/views.py registers it for the app)."""
    return {
        "role_label": role_label,
        # Plain strings, translated once per render: a list of 50 rows pays for 4 lookups, not 50.
        "role_names": lambda: {role: escape(str(role_label(role))) for role in ROLES},
        "roles": ROLES,
    }


class SiteForm(FlaskForm):
    name = StringField(_l("Site name"), validators=[DataRequired(_l("Give the site a name.")), Length(max=200)])
    address = StringField(_l("Address"), validators=[DataRequired(_l("Enter the site's address.")),
                                                     Length(max=300)])
    project_number = StringField(_l("Project number"), validators=[Optional(), Length(max=50)])
    client_name = StringField(_l("Client (byggherre)"), validators=[Optional(), Length(max=200)])


class SiteEditForm(SiteForm):
    active = BooleanField(_l("Site is active"))


class PersonForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the person's name.")),
                                                    Length(max=200)])
    phone = StringField(_l("Mobile number"), validators=[DataRequired(_l("Enter a mobile number.")),
                                                         Length(max=40)])
    role = SelectField(_l("Role on this site"))
    employer = SelectField(_l("Employer"), coerce=str, validators=[Optional()])
    new_employer_name = StringField(_l("Or a new employer: name"), validators=[Optional(), Length(max=200)])
    new_employer_org_number = StringField(_l("Organisation number"), validators=[Optional(), Length(max=20)])
    hms_card_number = StringField(_l("HMS card number"), validators=[Optional(), Length(max=40)])
    hms_card_expiry = DateField(_l("HMS card expiry"), validators=[Optional()])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)

    def __init__(self, *args, grantable_roles=(), organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(r, role_label(r)) for r in grantable_roles]
        self.employer.choices = [SelectChoice("", _l("Choose…"))] + [
            SelectChoice(str(o.id), f"{o.name} ({o.org_number})") for o in organizations]

    def validate_phone(self, field):
        phone, reason = mobile_number(field.data)
        if phone is None:
            raise ValidationError(inputs.message(reason))
        field.data = phone

    def validate_new_employer_org_number(self, field):
        number = (field.data or "").replace(" ", "")
        if not number:
            return
        if not service.org_number_valid(number):
            raise ValidationError(inputs.message("bad_org_number"))
        field.data = number

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        has_new = bool(self.new_employer_name.data or self.new_employer_org_number.data)
        if not self.employer.data and not has_new:
            self.employer.errors = list(self.employer.errors) + [_l("Choose the employer, or add a new one.")]
            return False
        if has_new and not (self.new_employer_name.data and self.new_employer_org_number.data):
            self.new_employer_name.errors = list(self.new_employer_name.errors) + [
                _l("A new employer needs both a name and an organisation number.")]
            return False
        return ok


class RoleForm(FlaskForm):
    role = SelectField(_l("Role on this site"))

    def __init__(self, *args, grantable_roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(r, role_label(r)) for r in grantable_roles]


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


class HmsCardForm(FlaskForm):
    """The person's card and name; a name left empty is kept as it is."""

    name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    hms_card_number = StringField(_l("HMS card number"), validators=[Optional(), Length(max=40)])
    hms_card_expiry = DateField(_l("HMS card expiry"), validators=[Optional()])
