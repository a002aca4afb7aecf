"""Bad input, one way: every feature raises InputError (or a subclass) and every view words it from one catalogue.

An InputError names a `reason` (a key of `messages()`), optionally the form `field` it is about (the page shows
the message beside that field; with no field, above the form), and the numbers its message needs as keyword
parameters given where the rule is checked, from that module's constants:

    raise ReportError("too_long", field="text", n=MAX_TEXT)

so a message can never state another limit than the one the code applies (issue 15: a comment over 2,000
characters was told "keep it under 1,000"). `problem(exc)` gives (HTTP status, message in the person's
language); the outbox reads the same status and text (fieldapp/outbox.py).

This module imports no feature, so every feature may import it.
"""
from flask_babel import gettext as _

UNKNOWN = "bad_request"


class InputError(Exception):
    """Bad input or a rule that says no; nothing was saved.

    reason: a key of messages(); field: the form field's name, or None; params: numbers for the message (n=...).
    A subclass sets `scope` when one reason is worded differently per feature ("report.uuid_conflict").
    """

    scope = None

    def __init__(self, reason, field=None, **params):
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.params = params


def messages():
    """reason -> (HTTP status, message template in the current language; %(name)s from the error's params)."""
    return {
        UNKNOWN: (400, _("Something in the request was wrong")),
        # Any form carrying a client-made UUID (check-in, report, alert).
        "bad_uuid": (400, _("The form was damaged. Reload the page and try again.")),
        "too_long": (422, _("The text is too long. Keep it under %(n)s characters.")),
        "text_required": (422, _("Write something first.")),
        # Check-in
        "bad_equipment": (422, _("The form lists equipment this site does not ask for. Reload the page.")),
        "equipment_unanswered": (422, _("Tick each item you are wearing, or mark it as missing.")),
        "already_checked_in": (409, _("You are already checked in.")),
        "checkin.uuid_conflict": (409, _("This check-in was already sent for another site or person.")),
        "not_checked_in": (409, _("You are not checked in here.")),
        "guest_name": (422, _("Enter your name.")),
        "guest_employer": (422, _("Enter your employer.")),
        "bad_org_number": (422, _("Not a valid organisation number (9 digits with a check digit).")),
        "hms_card_too_long": (422, _("The HMS card number is too long.")),
        # Reports
        "bad_kind": (422, _("Pick what happened.")),
        "no_category": (422, _("Pick what it is about.")),
        "bad_severity": (422, _("Pick a severity.")),
        "place_too_long": (422, _("The place is too long. Keep it under %(n)s characters.")),
        "bad_absence_days": (422, _("Give the days of absence as a number from 0 to %(n)s.")),
        "too_many_photos": (422, _("At most %(n)s photos per report.")),
        "empty": (422, _("Add a photo or a few words about what you saw.")),
        "report.uuid_conflict": (409, _("This report was already sent with other content. "
                                        "Make it again as a new report.")),
        "bad_assignee": (422, _("Choose a person on this site.")),
        "bad_deadline": (422, _("The deadline must be a date from today on.")),
        "closed": (409, _("The report is closed. Reopen it first.")),
        "not_closed": (409, _("The report is not closed.")),
        "action_required": (422, _("Write the corrective action before you close the report.")),
        "no_photo": (422, _("Choose a photo.")),
        "bad_authority": (400, _("Something in the request was wrong")),
        "not_injury": (409, _("Only injuries are notified to the authorities.")),
        "bad_notified_at": (422, _("Give the date and time of the notification.")),
        # Photos (fieldapp.photos.STATUS holds the same statuses; a test keeps them equal)
        "empty_file": (422, _("The photo file is empty. Take it again.")),
        "not_image": (415, _("That file is not a photo. Use JPEG, PNG or WebP.")),
        "damaged": (422, _("The photo is damaged or incomplete. Take it again.")),
        "too_many_pixels": (413, _("The photo has too many pixels. Use at most 50 megapixels.")),
        "too_big": (413, _("The photo is too large. Use a file of at most 15 MB.")),
        "bad_shape": (422, _("The photo is too long and narrow. Use a photo at most 20 times as long as it is "
                             "wide.")),
        "too_complex": (422, _("The photo is saved in a way that takes too long to read. "
                               "Save it as an ordinary JPEG and try again.")),
        "budget": (413, _("Too many large photos in one report: send this one in a separate report.")),
        # Alerts
        "bad_template": (422, _("Choose one of the ready-made alerts, or write your own.")),
        "bad_level": (422, _("Choose the level: information, warning or stop work.")),
        "alert.empty": (422, _("Give the alert a title and a text, or choose a ready-made alert.")),
        "bad_audience": (422, _("Choose who gets the alert.")),
        "bad_ack": (422, _("Choose whether it must be acknowledged.")),
        "bad_minutes": (422, _("Give the time to acknowledge in minutes, from 1 to %(n)s.")),
        "alert.uuid_conflict": (409, _("This was already sent. Reload the page.")),
        "bad_json": (400, _("The phone sent a subscription the app cannot read. Try again.")),
        "bad_endpoint": (422, _("This push service address is not allowed.")),
        "bad_keys": (422, _("The subscription's keys are not valid. Try again.")),
        "endpoint_taken": (409, _("Notifications on this phone are turned on for someone who is still signed "
                                  "in on it. They must sign out on this phone first.")),
        # Sign-in secrets (accounts.service.secret_problem)
        "pin_length": (422, _("A PIN has 6 to 12 digits.")),
        "pin_trivial": (422, _("That PIN is too easy to guess. Avoid repeated digits, sequences (123456, 135791, 246810), "
                               "patterns (121212, 112233, 123321) and lines on the keypad (147258, 159357).")),
        "pin_date": (422, _("That PIN is too easy to guess: it looks like a date (010190, 900101 or 19900101). Choose "
                            "digits that are not a date.")),
        "pin_phone": (422, _("That PIN is too easy to guess: it is part of your phone number. Choose other digits.")),
        "pin_common": (422, _("That PIN is too easy to guess: it is one of the most used PINs. Choose other digits.")),
        "password_length": (422, _("A password has at least 10 characters (or use a PIN of 6 to 12 digits).")),
        "password_repeated": (422, _("That password is too easy to guess: it is one character or a short part repeated "
                                     "(aaaaaaaaaa, passwordpassword). Choose a longer sentence or other words.")),
        "password_keyboard": (422, _("That password is too easy to guess: it is a row of keys on the keyboard "
                                     "(qwertyuiop). Choose a sentence or words of your own.")),
        "password_common": (422, _("That password is too easy to guess: it is one of the most used passwords. Choose a "
                                   "sentence or words of your own.")),
        "password_long": (422, _("A password has at most 200 characters.")),
        # Site people
        "not_phone": (422, _("Not a phone number. Use 8 digits, or + and the country code.")),
        "not_mobile": (422, _("Not a mobile number. Norwegian mobile numbers have 8 digits and start with 4 "
                              "or 9; others need + and the country code.")),
        "already_member": (409, _("This person is already on the site.")),
        "already_invited": (409, _("This person is already invited to the site.")),
        "last_manager": (409, _("A site needs at least one manager. Give someone else the role first.")),
        # Meetings (fieldapp/meetings)
        "meeting.bad_kind": (422, _("Choose the kind of meeting.")),
        "bad_date": (422, _("Give the date as a date (year-month-day).")),
        "approved": (409, _("The minutes are approved and can no longer be changed. Add an amendment instead.")),
        "already_approved": (409, _("The minutes are already approved.")),
        "not_chair": (403, _("Only the chair (and for the AMU, a member of each side) approves the minutes.")),
        "not_approved": (409, _("Amendments are added to approved minutes. Change the draft instead.")),
        "bad_item": (422, _("That item is not on this meeting's agenda. Reload the page.")),
        "item_has_decisions": (409, _("This item has decisions, so it stays on the agenda.")),
        "vote_positions": (422, _("When the vote was not unanimous, write both the majority's and the minority's "
                                  "view.")),
        "decision_person": (422, _("Choose who carries out the decision: a person on this site.")),
        "decision_deadline": (422, _("Give the decision a deadline from today on.")),
        "bad_side": (422, _("Choose the side the person attends for.")),
        "bad_topic": (422, _("Choose topics from the list.")),
        "meeting.uuid_conflict": (409, _("This proposal was already sent with other content. "
                                         "Write it again as a new proposal.")),
        "not_on_site": (404, _("You are not on this site, so you cannot propose items for its meetings.")),
    }


def problem(exc):
    """(HTTP status, message in the current language) for an InputError.

    The scoped reason ("report.uuid_conflict") is looked up first, then the reason; an unknown one is a 400.
    """
    catalogue = messages()
    scoped = f"{exc.scope}.{exc.reason}" if getattr(exc, "scope", None) else None
    status, text = catalogue.get(scoped) or catalogue.get(exc.reason, catalogue[UNKNOWN])
    params = getattr(exc, "params", None) or {}
    return status, (text % params if params else text)


def message(reason, **params):
    """The message for a reason in the current language: for Flask-WTF validators (ValidationError(text))."""
    return problem(InputError(reason, **params))[1]


def errors_by_field(*excs):
    """{field name: message} for the errors that name a field; {} when none does."""
    return {exc.field: problem(exc)[1] for exc in excs if getattr(exc, "field", None)}


def banner(exc):
    """The message to show above the form: None when it is shown beside its field instead."""
    return None if getattr(exc, "field", None) else problem(exc)[1]
