"""Forms for sign-in, enrollment and the profile."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from . import service

LANGUAGE_CHOICES = [SelectChoice("nb", "Norsk bokmål"), SelectChoice("en", "English")]

SECRET_PROBLEMS = {
    "pin_length": _l("A PIN has 6 to 12 digits."),
    "pin_trivial": _l("That PIN is too easy to guess. Avoid repeated digits, sequences (123456, 135791, 246810), "
                      "patterns (121212, 112233, 123321) and lines on the keypad (147258, 159357)."),
    "pin_date": _l("That PIN is too easy to guess: it looks like a date (010190, 900101 or 19900101). Choose "
                   "digits that are not a date."),
    "pin_phone": _l("That PIN is too easy to guess: it is part of your phone number. Choose other digits."),
    "pin_common": _l("That PIN is too easy to guess: it is one of the most used PINs. Choose other digits."),
    "password_length": _l("A password has at least 10 characters (or use a PIN of 6 to 12 digits)."),
    "password_long": _l("A password has at most 200 characters."),
    "password_repeated": _l("That password is too easy to guess: it is one character or a short part repeated "
                            "(aaaaaaaaaa, passwordpassword). Choose a longer sentence or other words."),
    "password_keyboard": _l("That password is too easy to guess: it is a row of keys on the keyboard "
                            "(qwertyuiop). Choose a sentence or words of your own."),
    "password_common": _l("That password is too easy to guess: it is one of the most used passwords. Choose a "
                          "sentence or words of your own."),
}


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
            raise ValidationError(SECRET_PROBLEMS[problem])


class EnrollCodeForm(FlaskForm):
    code = StringField(_l("Enrollment code"), validators=[DataRequired(_l("Enter the code you were given.")),
                                                          Length(max=20)])


class ChooseSecretForm(NewSecretMixin, FlaskForm):
    code = HiddenField()
    secret = PasswordField(_l("Choose a PIN or password"), validators=[DataRequired(_l("Choose a PIN or password."))])
    confirm = PasswordField(_l("Repeat it"), validators=[EqualTo("secret", _l("The two do not match."))])


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
