"""Forms for sign-in, enrollment and the profile."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .. import inputs
from ..config import LANGUAGE_NAMES
from . import service

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


class SignInForm(FlaskForm):
    phone = StringField(_l("Phone number"), validators=[DataRequired(_l("Enter your phone number.")),
                                                        Length(max=40)])
    secret = PasswordField(_l("PIN or password"), validators=[DataRequired(_l("Enter your PIN or password.")),
                                                              Length(max=200)])
    next = HiddenField()


class NewSecretMixin:
    # The person who chooses it (set by the view): their own phone number is refused as a PIN.
    person = None

    def validate_secret(self, field):
        problem = service.secret_problem(field.data or "", getattr(self.person, "phone", None))
        if problem:
            raise ValidationError(inputs.message(problem))


class EnrollCodeForm(FlaskForm):
    code = StringField(_l("Enrollment code"), validators=[DataRequired(_l("Enter the code you were given.")),
                                                          Length(max=20)])


class ChooseSecretForm(NewSecretMixin, FlaskForm):
    code = HiddenField()
    secret = PasswordField(_l("Choose a PIN or password"), validators=[DataRequired(_l("Choose a PIN or password."))])
    confirm = PasswordField(_l("Repeat it"), validators=[EqualTo("secret", _l("The two do not match."))])


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
