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
import re
import unicodedata
from datetime import date, datetime, timedelta

from flask import Request
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser

from . import clock

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


# reason -> (HTTP status, message): a lazy string, translated into the current language only when one error is
# worded (problem()), or a function of the params for a message with a count, so each language gets its plural form
# (ngettext). Built once: translating all ~300 messages for every refused request cost more than the request.
CATALOGUE = {
    UNKNOWN: (400, _l("Something in the request was wrong")),
    # Any form carrying a client-made UUID (check-in, report, alert).
    "bad_uuid": (400, _l("The form was damaged. Reload the page and try again.")),
    "too_long": (422, lambda n: ngettext("The text is too long. Use at most %(num)s character.",
                                         "The text is too long. Use at most %(num)s characters.", n)),
    "text_required": (422, _l("Write something first.")),
    # Check-in
    "bad_equipment": (422, _l("The form lists equipment this site does not ask for. Reload the page.")),
    "equipment_name_missing": (422, _l("Give the equipment a name in at least one language.")),
    "equipment_name_long": (422, lambda n: ngettext("A name has at most %(num)s character.",
                                                    "A name has at most %(num)s characters.", n)),
    "unknown_equipment": (404, _l("This equipment is not on your organization's list.")),
    "equipment_unanswered": (422, _l("Tick each item you are wearing, or mark it as missing.")),
    "already_checked_in": (409, _l("You are already checked in.")),
    "checkin.uuid_conflict": (409, _l("This check-in was already sent with other answers, or for another site or "
                                      "person.")),
    "not_checked_in": (409, _l("You are not checked in here.")),
    "guest_name": (422, _l("Enter your name.")),
    "guest_employer": (422, _l("Enter your employer.")),
    "bad_org_number": (422, _l("Not a valid organisation number (9 digits with a check digit).")),
    "hms_card_too_long": (422, _l("The HMS card number is too long.")),
    "bad_hms_card": (422, _l("An HMS card number has only letters and digits, as on the card.")),
    # Reports
    "bad_kind": (422, _l("Pick what happened.")),
    "no_category": (422, _l("Pick what it is about.")),
    "bad_severity": (422, _l("Pick a severity.")),
    "place_too_long": (422, lambda n: ngettext("The place is too long. Use at most %(num)s character.",
                                               "The place is too long. Use at most %(num)s characters.", n)),
    "bad_absence_days": (422, _l("Give the days of absence as a number from 0 to %(n)s.")),
    "too_many_photos": (422, lambda n: ngettext("At most %(num)s photo per report.",
                                                "At most %(num)s photos per report.", n)),
    "empty": (422, _l("Add a photo or a few words about what you saw.")),
    "report.uuid_conflict": (409, _l("This report was already sent with other content. "
                                     "Make it again as a new report.")),
    "bad_assignee": (422, _l("Choose a person on this site.")),
    "bad_deadline": (422, _l("The deadline must be a date from today on.")),
    "comment_conflict": (409, _l("This form was already used for another comment, which is in the timeline. "
                                 "Check it, then send this one again.")),
    "closed": (409, _l("The report is closed. Reopen it first.")),
    "not_closed": (409, _l("The report is not closed.")),
    "action_required": (422, _l("Write the corrective action before you close the report.")),
    "no_photo": (422, _l("Choose a photo.")),
    "bad_authority": (400, _l("Something in the request was wrong")),
    "not_injury": (409, _l("Only injuries are notified to the authorities.")),
    "bad_notified_at": (422, _l("Give the date and time of the notification.")),
    "notified_out_of_range": (422, _l("The notification is made after the injury and not in the future: check the "
                                      "date and time.")),
    # Photos (fieldapp.photos.STATUS holds the same statuses; a test keeps them equal)
    "empty_file": (422, _l("The photo file is empty. Take it again.")),
    "not_image": (415, _l("That file is not a photo. Use JPEG, PNG or WebP.")),
    "damaged": (422, _l("The photo is damaged or incomplete. Take it again.")),
    "too_many_pixels": (413, _l("The photo has too many pixels. Use at most 50 megapixels.")),
    "too_big": (413, _l("The photo is too large. Use a file of at most 15 MB.")),
    "bad_shape": (422, _l("The photo is too long and narrow. Use a photo at most 20 times as long as it is "
                          "wide.")),
    "too_complex": (422, _l("The photo is saved in a way that takes too long to read. "
                            "Save it as an ordinary JPEG and try again.")),
    "budget": (413, _l("Too many large photos in one report: send this one in a separate report.")),
    # Alerts
    "bad_template": (422, _l("Choose one of the ready-made alerts, or write your own.")),
    "bad_level": (422, _l("Choose the level: information, warning or stop work.")),
    "translation_half": (422, _l("Give both the title and the text in this language, or leave both empty.")),
    "alert.empty": (422, _l("Give the alert a title and a text, or choose a ready-made alert.")),
    "bad_audience": (422, _l("Choose who gets the alert.")),
    "bad_ack": (422, _l("Choose whether it must be acknowledged.")),
    "bad_minutes": (422, _l("Give the time to acknowledge in minutes, from 1 to %(n)s.")),
    "alert.ack_uuid_conflict": (409, _l("This acknowledgement was sent from another form. Reload the page and tap "
                                        "the button again.")),
    "alert.uuid_conflict": (409, _l("This form was already used to send another alert. Check the text and send it "
                                    "again.")),
    "not_stop_work": (409, _l("Only a stop-work order can be lifted.")),
    "not_yours_to_lift": (403, _l("You cannot lift this order. The person who stopped the work lifts it; a "
                                  "verneombud's stop may also be lifted by another verneombud of the site "
                                  "(AML § 6-3).")),
    "reversed_range": (422, _l("The end date is before the start date.")),
    "range_too_long": (422, _l("Choose a shorter period (at most one year).")),
    "implausible_date": (422, _l("Give a date from %(first)s to %(last)s.")),
    "bad_json": (400, _l("The phone sent a subscription the app cannot read. Try again.")),
    "bad_endpoint": (422, _l("This push service address is not allowed.")),
    "bad_keys": (422, _l("The subscription's keys are not valid. Try again.")),
    "endpoint_taken": (409, _l("Notifications on this phone are turned on for someone who is still signed "
                               "in on it. They must sign out on this phone first.")),
    # Sign-in secrets (accounts.service.secret_problem)
    "pin_length": (422, _l("A PIN has 6 to 12 digits.")),
    "pin_trivial": (422, _l("That PIN is too easy to guess. Avoid repeated digits, sequences (123456, 135791, 246810), "
                            "patterns (121212, 112233, 123321) and lines on the keypad (147258, 159357).")),
    "pin_date": (422, _l("That PIN is too easy to guess: it looks like a date (010190, 900101 or 19900101). Choose "
                         "digits that are not a date.")),
    "pin_phone": (422, _l("That PIN is too easy to guess: it is part of your phone number. Choose other digits.")),
    "pin_common": (422, _l("That PIN is too easy to guess: it is one of the most used PINs. Choose other digits.")),
    "password_length": (422, _l("A password has at least 10 characters (or use a PIN of 6 to 12 digits).")),
    "password_repeated": (422, _l("That password is too easy to guess: it is one character or a short part repeated "
                                  "(aaaaaaaaaa, passwordpassword). Choose a longer sentence or other words.")),
    "password_keyboard": (422, _l("That password is too easy to guess: it is a row of keys on the keyboard "
                                  "(qwertyuiop). Choose a sentence or words of your own.")),
    "password_common": (422, _l("That password is too easy to guess: it is one of the most used passwords. Choose a "
                                "sentence or words of your own.")),
    "password_long": (422, _l("A password has at most 200 characters.")),
    # HMS statistics (fieldapp/stats)
    "stats.bad_period": (400, _l("Choose a period: a month, a quarter, a year or two dates.")),
    "stats.bad_year": (400, _l("Write the year with four digits, for example 2026.")),
    "stats.bad_quarter": (400, _l("Choose a quarter from 1 to 4.")),
    "stats.bad_month": (400, _l("Choose a month.")),
    "stats.bad_date": (400, _l("Choose a date.")),
    "stats.too_early": (422, _l("The figures start in %(year)s. Choose a later period.")),
    "stats.reversed_range": (422, _l("The end date is before the start date.")),
    "stats.future_period": (422, _l("That period has not started yet. Choose one up to today.")),
    "stats.bad_scope": (400, _l("Choose this site or all your sites.")),
    "hours.bad_site": (422, _l("No site of yours has that name.")),
    "hours.bad_org_number": (422, _l("Not a valid organisation number (9 digits with a check digit).")),
    "hours.bad_month": (422, _l("Give the month as YYYY-MM, for example 2026-03.")),
    "hours.future_month": (422, _l("Hours cannot be entered for a month that has not ended.")),
    "hours.bad_hours": (422, _l("Give the hours as a number from 0 up.")),
    "hours.absurd_hours": (422, lambda n: ngettext("Over %(num)s hour per person in a month: check the figure.",
                                                   "Over %(num)s hours per person in a month: check the figure.",
                                                   n)),
    "hours.too_many_hours": (422, _l("More hours than one employer can work on a site in a month: check the "
                                     "figure.")),
    "hours.too_large": (413, lambda n: ngettext("The document is too large. Use a file of at most %(num)s MB.",
                                                "The document is too large. Use a file of at most %(num)s MB.", n)),
    "hours.ambiguous_hours": (422, _l("Write the hours without a thousands separator, for example 1500 or "
                                      "1500.5.")),
    "hours.bad_people": (422, _l("Give the number of people as a whole number from 1 up.")),
    "hours.columns": (422, _l("Each line needs four columns: site, employer organisation number, month (YYYY-MM), "
                              "hours.")),
    "hours.encoding": (422, _l("The file could not be read as text. Save it as CSV (UTF-8) and try again.")),
    "hours.empty_file": (422, _l("The file has no lines with hours.")),
    "hours.too_many_rows": (413, lambda n: ngettext("At most %(num)s line per file.",
                                                    "At most %(num)s lines per file.", n)),
    "hours.duplicate": (422, _l("The same site, employer and month is in the file twice.")),
    "injury.bad_date": (422, _l("Give the date the person returned, on or after the day of the injury.")),
    "injury.bad_hours": (422, _l("Give the hours of absence as a number from 0 to %(n)s.")),
    # Site people
    "not_phone": (422, _l("Not a phone number. Use 8 digits, or + and the country code.")),
    "not_mobile": (422, _l("Not a mobile number. Norwegian mobile numbers have 8 digits and start with 4 "
                           "or 9; others need + and the country code.")),
    "already_member": (409, _l("This person is already on the site.")),
    "already_invited": (409, _l("This person is already invited to the site.")),
    "last_manager": (409, _l("A site needs at least one manager. Give someone else the role first.")),
    # Safe job analysis (fieldapp/sja/service.py)
    "title_required": (422, _l("Give the job a title.")),
    "bad_starts_at": (422, _l("Give the start as a date and time.")),
    "bad_responsible": (422, _l("Choose the responsible person from the people on this site.")),
    "bad_participant": (422, _l("Choose participants from the people on this site.")),
    "too_many_participants": (422, lambda n: ngettext("At most %(num)s participant in one SJA.",
                                                      "At most %(num)s participants in one SJA.", n)),
    "sja.bad_equipment": (422, _l("The form lists equipment this organization does not have. Reload the page.")),
    "step_title_required": (422, _l("Give the step a name before its hazards.")),
    "steps_required": (422, _l("Describe at least one step of the job.")),
    "cause_required": (422, _l("Say what the hazard is (its cause).")),
    "bad_grade": (422, _l("Give probability and consequence as numbers from 1 to 5.")),
    "measure_required": (422, _l("This hazard is amber or red: write the measure that makes it safe, and who "
                                 "does it.")),
    "sja.uuid_conflict": (409, _l("This SJA was already sent with other content. Make it again as a new SJA.")),
    "signature_conflict": (409, _l("This form was already used for another signature. Reload the page and sign "
                                   "again.")),
    "not_allowed": (403, _l("Only the person who made it, the responsible person and the site's staff can "
                            "change this SJA.")),
    "decided": (409, _l("The go was given for this SJA: it can no longer be changed or signed.")),
    "changed_since_read": (409, _l("The SJA was changed after you opened it. Read it again, then try again.")),
    "not_participant": (403, _l("Only the participants of this SJA can sign it.")),
    "sja.sign_for_other": (403, _l("Each person signs for themselves: on their own phone, or here with their "
                                   "own PIN.")),
    "not_responsible": (403, _l("Only the person responsible for the job can decide or finish it.")),
    "bad_decision": (422, _l("Choose go or no-go.")),
    "no_go_reason": (422, _l("Say why the job cannot start (no-go).")),
    "unsigned": (409, _l("Every participant must sign this version before the go.")),
    "not_go": (409, _l("Only a job that was given the go can be finished.")),
    "finished": (409, _l("This SJA is already finished.")),
    "lessons_required": (422, _l("Write what was learned, or that nothing new came up.")),
    "template_name": (422, _l("Give the template a name.")),
    # Safety walkarounds (fieldapp/rounds/service.py)
    "round.bad_version": (422, _l("This checklist is not available on this site. Reload the page.")),
    "round.uuid_conflict": (409, _l("This form was already used to start another walkaround. Start it again.")),
    "round.finished": (409, _l("The walkaround is finished: its answers cannot be changed. Add a note instead.")),
    "round.discard_findings": (409, _l("This walkaround has deviations that are already follow-up items. "
                                       "Finish it instead of discarding it.")),
    "round.discard_confirm": (409, lambda n: ngettext(
        "This walkaround has %(num)s answer. Tick the box to discard it too.",
        "This walkaround has %(num)s answers. Tick the box to discard them too.", n)),
    "round.discarded": (409, _l("This walkaround was discarded: the answer was not saved.")),
    "round.signed": (409, _l("The walkaround is signed: it cannot be changed. Add a note instead.")),
    "round.version_changed": (409, _l("The checklist has changed since this page was opened. Reload the page and "
                                      "answer again.")),
    "round.bad_item": (422, _l("This item is not on the walkaround's checklist. Reload the page.")),
    "round.bad_answer": (422, _l("Choose OK, deviation or not applicable.")),
    "round.note_required": (422, _l("Describe the deviation in a note.")),
    "round.too_many_photos": (422, lambda n: ngettext("At most %(num)s photo per item.",
                                                      "At most %(num)s photos per item.", n)),
    "round.answer_conflict": (409, _l("This answer was already sent with other content. Answer the item again.")),
    "round.unanswered": (422, lambda n: ngettext("%(num)s item is not answered yet. Answer every item before you "
                                                 "finish.",
                                                 "%(num)s items are not answered yet. Answer every item before "
                                                 "you finish.", n)),
    "round.bad_participant": (422, _l("Choose participants among the people on this site, or type their names.")),
    "round.not_finished": (409, _l("Finish the walkaround before it is signed.")),
    "round.bad_side": (422, _l("Choose whom you sign for: the safety representative or the employer.")),
    "round.bad_interval": (422, _l("Give the interval as a number of days from 1 to %(n)s.")),
    "round.outline_long": (422, lambda n: ngettext("The checklist is too long. Use at most %(num)s line.",
                                                   "The checklist is too long. Use at most %(num)s lines.", n)),
    "round.outline_empty": (422, _l("Write at least one section (# Title) with items (- Item).")),
    "round.outline_items": (422, _l("Every section needs at least one item (- Item).")),
    # Signatures (fieldapp/signatures.py)
    "signature.bad_signer": (422, _l("Choose the person who signs.")),
    "signature.sign_for_other": (403, _l("You cannot sign for someone else. They sign on their own phone, or type "
                                         "their own PIN here.")),
    "signature.wrong_pin": (422, _l("Wrong PIN for this person.")),
    "signature.own_wrong_pin": (422, _l("No PIN is needed on your own phone, and the PIN you typed is not yours. "
                                        "Leave the PIN empty to sign.")),
    "signature.throttled": (429, lambda n: ngettext("Too many wrong PINs. Try again in %(num)s minute.",
                                                    "Too many wrong PINs. Try again in %(num)s minutes.", n)),
    "signature.signed_twice": (409, _l("Already signed. A person signs once, and each side once.")),
    "person_name_required": (422, _l("Enter the person's name.")),
    "mobile_required": (422, _l("Enter a mobile number.")),
    "bad_role": (422, _l("Choose a role from the list.")),
    "employer_required": (422, _l("Choose the employer, or add a new one.")),
    "new_employer_incomplete": (422, _l("A new employer needs both a name and an organisation number.")),
    "bad_date": (422, _l("Give the date as year-month-day, for example 2027-03-31.")),
    "bad_language": (422, _l("Choose a language from the list.")),
    # Sites
    "site_name_required": (422, _l("Give the site a name.")),
    "site_address_required": (422, _l("Enter the site's address.")),
    # Sign-in and enrollment
    "phone_required": (422, _l("Enter your phone number.")),
    "secret_required": (422, _l("Enter your PIN or password.")),
    "code_required": (422, _l("Enter the code you were given.")),
    "secret_choose": (422, _l("Choose a PIN or password.")),
    "secret_mismatch": (422, _l("The two do not match.")),
    # Competence (fieldapp/competence)
    "unknown_course": (422, _l("Choose a course type from the list.")),
    "date_required": (422, _l("Give the date the course was taken.")),
    "competence.bad_date": (422, _l("Give the date as YYYY-MM-DD or DD.MM.YYYY.")),
    "taken_in_future": (422, _l("The date taken cannot be in the future.")),
    "expiry_before_taken": (422, _l("The expiry date cannot be before the date the course was taken.")),
    "competence.uuid_conflict": (409, _l("This certificate was already sent with other content. "
                                         "Add it again as a new one.")),
    "not_your_org": (403, _l("Only a foreman or manager of the person's own employer may approve or reject "
                             "a certificate.")),
    "own_record": (403, _l("Nobody approves or rejects their own certificate. Ask another foreman or manager "
                           "of your employer.")),
    "not_pending": (409, _l("This certificate has already been approved or rejected.")),
    "reason_required": (422, _l("Write why the certificate is rejected.")),
    "bad_task": (422, _l("Choose a task from the list.")),
    "requirement_exists": (409, _l("The site already has this requirement.")),
    "bad_validity": (422, _l("Give the validity as whole months from 1 to %(n)s, or leave it empty.")),
    "course_name_required": (422, _l("Give the course type a name of at most 120 characters.")),
    "blocks_check_in": (409, _l("You cannot check in: %(what)s is missing, expired or not yet approved. "
                                "Show your foreman a valid certificate.")),
    "csv_unreadable": (422, _l("The file is not a CSV text file. Save it as CSV (UTF-8) and try again.")),
    "csv_invisible": (422, _l("Line %(line)s of the file holds an invisible control character that can hide or "
                              "reorder text. Remove it and try again.")),
    "csv_columns": (422, _l("The file's first row must name the columns: %(columns)s.")),
    "csv_empty": (422, _l("The file has no rows to import.")),
    "csv_too_many": (413, lambda n: ngettext("The file has too many rows. Import at most %(num)s at a time.",
                                             "The file has too many rows. Import at most %(num)s at a time.", n)),
    "csv_unknown_person": (422, _l("No person with this phone number works for your organization or is on "
                                   "this site.")),
    "csv_duplicate": (422, _l("The same person, course and date are in the file more than once.")),
    "csv_has_errors": (422, _l("Nothing was imported: fix the rows with errors and try again.")),
    # Meetings (fieldapp/meetings)
    "meeting.bad_kind": (422, _l("Choose the kind of meeting.")),
    "approved": (409, _l("The minutes are approved and can no longer be changed. Add an amendment instead.")),
    "already_approved": (409, _l("The minutes are already approved.")),
    "not_chair": (403, _l("Only the chair (and for the AMU, a member of each side) approves the minutes.")),
    "not_held_yet": (409, _l("This meeting is dated after today. Approve the minutes once it has been held, or "
                             "correct its date.")),
    "person_or_name": (422, _l("Choose a person from the list or type a name, not both. Add them one at a time.")),
    "nobody_present": (409, _l("Record who was present before the minutes are approved.")),
    "not_approved": (409, _l("Amendments are added to approved minutes. Change the draft instead.")),
    "date_approved": (409, _l("Someone has already approved these minutes with this date, so the date stays.")),
    "bad_item": (422, _l("That item is not on this meeting's agenda. Reload the page.")),
    "item_has_decisions": (409, _l("This item has decisions, so it stays on the agenda.")),
    "vote_positions": (422, _l("When the vote was not unanimous, write both the majority's and the minority's "
                               "view.")),
    "decision_person": (422, _l("Choose who carries out the decision: a person on this site.")),
    "decision_deadline": (422, _l("Give the decision a deadline from today on.")),
    "too_many_names": (422, lambda n: ngettext("Type at most %(num)s name.", "Type at most %(num)s names.", n)),
    "attendance_person": (422, _l("Choose a person on this site, or type the name of someone from outside.")),
    "morning_person": (422, _l("Choose a person on this site.")),
    "already_attending": (409, _l("This person is already on the attendance list.")),
    "bad_side": (422, _l("Choose the side the person attends for.")),
    "bad_topic": (422, _l("Choose topics from the list.")),
    "meeting.uuid_conflict": (409, _l("This proposal was already sent with other content. "
                                      "Write it again as a new proposal.")),
    "not_on_site": (404, _l("You are not on this site, so you cannot propose items for its meetings.")),
    # Duties and the verneombud register (issue 24)
    "duties.bad_period": (422, lambda n: ngettext("Choose a period from 1 to %(num)s day.",
                                                  "Choose a period from 1 to %(num)s days.", n)),
    "duties.bad_scope": (400, _l("Choose this site or the whole organization.")),
    "duties.person": (422, _l("Choose the verneombud: a person on this site.")),
    "duties.bad_role": (422, _l("Choose verneombud or deputy.")),
    "duties.bad_how": (422, _l("Choose how the verneombud was elected.")),
    "duties.from_required": (422, _l("Give the date the term starts.")),
    "duties.to_required": (422, _l("Give the date the term ends.")),
    "duties.to_before_from": (422, _l("The term cannot end before it starts.")),
    "duties.not_two_years": (422, _l("A term is exactly two years: it ends on %(date)s.")),
    "duties.notice_future": (422, _l("The date of the written notice cannot be in the future.")),
    "duties.born_future": (422, _l("The date of birth cannot be in the future.")),
    "duties.agency_number": (422, _l("Give the staffing agency's organisation number: 9 digits.")),
    "duties.agency_name": (422, _l("Give the staffing agency's name.")),
    "duties.agency_is_employer": (422, _l("The staffing agency cannot be the person's own employer. "
                                          "Give the agency's organisation number.")),
    "duties.agency_name_differs": (422, _l("Organisation number %(org_number)s belongs to %(name)s. Check the "
                                           "number, or type that name if it is the agency.")),
    "duties.agency_number_differs": (422, _l("%(name)s has organisation number %(org_number)s. Check the number "
                                             "and the name.")),
    "duties.reference_required": (422, _l("Give the inspector's reference.")),
    "duties.bad_sanction": (422, _l("Choose no sanction, a coercive fine or a stop order.")),
    "duties.held_on_required": (422, _l("Give the date of the inspection.")),
    "duties.held_on_future": (422, _l("The inspection cannot be in the future.")),
    "duties.order_text": (422, _l("Write what the order requires.")),
    "duties.order_deadline": (422, _l("Every order needs a deadline.")),
    "duties.too_many_orders": (422, lambda n: ngettext(
        "At most %(num)s order per inspection. Record the rest as a second inspection.",
        "At most %(num)s orders per inspection. Record the rest as a second inspection.", n)),
    "duties.day_full": (422, lambda n, have: ngettext(
        "At most %(num)s hour in one day. %(have)s are already recorded for that day.",
        "At most %(num)s hours in one day. %(have)s are already recorded for that day.", n, have=have)),
    "duties.response_required": (422, _l("Write the response that closes the order.")),
    "duties.bad_report": (422, _l("Choose a report of this site as evidence.")),
    "duties.order_closed": (409, _l("This order is already closed.")),
    "duties.evidence_none": (422, _l("Choose a photo or a PDF document.")),
    "duties.evidence_empty": (422, _l("The file is empty. Choose it again.")),
    "duties.evidence_type": (415, _l("That file is neither a photo nor a PDF. Use JPEG, PNG, WebP or PDF.")),
    "duties.evidence_too_big": (413, lambda n: ngettext("The document is too large. Use a file of at most "
                                                        "%(num)s MB.",
                                                        "The document is too large. Use a file of at most "
                                                        "%(num)s MB.", n)),
    "duties.too_much_evidence": (422, lambda n: ngettext("At most %(num)s file of evidence per order.",
                                                         "At most %(num)s files of evidence per order.", n)),
    "duties.worked_on": (422, _l("Give the day the work was done, today or earlier.")),
    "duties.bad_hours": (422, lambda n: ngettext("Give the hours as a number from 0.25 to %(num)s.",
                                                 "Give the hours as a number from 0.25 to %(num)s.", n)),
    "meeting.kind_name": (422, lambda n: ngettext(
        "Give the kind a name (at most %(num)s character) in at least one language.",
        "Give the kind a name (at most %(num)s characters) in at least one language.", n)),
    "meeting.bad_interval": (422, lambda n: ngettext(
        "Give the interval as whole days, from 1 to %(num)s day.",
        "Give the interval as whole days, from 1 to %(num)s days.", n)),
    "meeting.amu_person": (422, _l("Choose a person on the organization's sites who is not in another AMU.")),
}


def messages():
    """reason -> (HTTP status, message in the current language): CATALOGUE with each lazy string translated now
    (a template with %(name)s from the error's params), and each plural message still a function of the params."""
    return {reason: (status, text if callable(text) else str(text)) for reason, (status, text) in CATALOGUE.items()}


# What a date or datetime-local field sends: ASCII digits, no zone. Python 3.11's fromisoformat reads more (20261201,
# the week date 2026-W49-2, "2026-12-01T10:30Z"), which no field sends and a person did not mean.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_LOCAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?")


def iso_date(text):
    """datetime.date from exactly YYYY-MM-DD (what <input type="date"> sends), surrounding space ignored.

    Raises ValueError for anything else, a compact 20261201 or a week date 2026-W49-2 included, and for a day
    that does not exist (2026-02-30). Every date a person types goes through here (or FormReader.date)."""
    text = str(text if text is not None else "").strip()
    if not ISO_DATE.fullmatch(text):
        raise ValueError(f"not a YYYY-MM-DD date: {text[:40]!r}")
    return date.fromisoformat(text)


def iso_local_time(text):
    """A naive datetime from YYYY-MM-DDTHH:MM[:SS] (what <input type="datetime-local"> sends: the site's wall
    clock, no zone), surrounding space ignored. Raises ValueError for anything else."""
    text = str(text if text is not None else "").strip()
    if not ISO_LOCAL_TIME.fullmatch(text):
        raise ValueError(f"not a YYYY-MM-DDTHH:MM time: {text[:40]!r}")
    return datetime.fromisoformat(text)


# Letters and symbols that draw nothing: the Hangul fillers and the blank Braille pattern (a "blank" name that
# passes a check for spaces, found by the breaker).
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_text(text):
    """True when `text` holds at least one character a reader can see: not only spaces, line breaks, controls,
    invisible format characters (U+200B zero-width space, U+FEFF, U+202A-U+202E, which str.strip() keeps), marks
    that only change another character (U+034F, the variation selectors U+FE00-U+FE0F: category Mn) or
    BLANK_LETTERS."""
    return any(not char.isspace() and char not in BLANK_LETTERS
               and unicodedata.category(char) not in ("Cc", "Cf", "Zs", "Zl", "Zp", "Mn")
               for char in str(text or ""))


def free_text(raw):
    """What a person wrote in a text field: surrounding space stripped, line breaks as "\n", and "" when nothing
    in it is visible (only U+200B, U+FEFF or other invisible characters): a name, title or note made of those
    alone is missing, not given. Length checks count the text returned."""
    text = str(raw if raw is not None else "").strip().replace("\r\n", "\n")
    return text if has_visible_text(text) else ""


# Control characters (C0, DEL, C1) and the bidi controls that reorder text on screen (U+202A-E, U+2066-9, the
# marks U+200E/F, U+061C): a file's name "photo\u202Egpj.exe" would show as "photoexe.jpg".
_UNSAFE_NAME = dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F,
                              *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def file_name(raw, limit):
    """An uploaded file's name as the phone sent it, fit to store and show: control and bidi characters removed,
    space-trimmed, at most `limit` characters ("" when nothing is left). The person did not type it, so a NUL in
    it (which PostgreSQL refuses in text) is dropped here rather than refusing the upload."""
    return str(raw or "").translate(_UNSAFE_NAME).strip()[:limit]


def date_bounds(today, years_back, years_ahead):
    """(first, last) dates of the range plausible_date accepts: `years_back` years before to `years_ahead` years
    after `today` (a year is 365.25 days). A form puts them in its date input's min and max, so the phone refuses
    an absurd date before it is sent (from the outbox a refused form can only be sent again or dropped)."""
    return (today - timedelta(days=round(365.25 * years_back)), today + timedelta(days=round(365.25 * years_ahead)))


def plausible_date(value, today, field, years_back, years_ahead, error=InputError):
    """`value` (a date, or a datetime: its date counts; None passes) when it lies from `years_back` years before
    to `years_ahead` years after `today` (the site's day: clock.today(site)), both ends included.

    Otherwise raises `error`("implausible_date", field=field, first=..., last=...) -> 422 naming the range.
    Each feature gives the range its field can mean (a meeting held within a few years, an SJA starting soon):
    an absurd date (0001-01-01, 9999-12-31) then never reaches the database, where date arithmetic on it
    overflows and breaks every later page that reads it. Returns value unchanged.
    """
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    first, last = date_bounds(today, years_back, years_ahead)
    if not first <= day <= last:
        raise error("implausible_date", field=field, first=first, last=last)
    return value


def ascii_digits(text):
    """`text` with every decimal digit of any script ("٩", "۹", "９", "९") as the ASCII digit it is (str): for
    what a person types as digits on any keyboard (a phone number, a PIN, a card's number). Numbers read as
    amounts go through whole_number or decimal_number, which take ASCII digits only."""
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def whole_number(raw):
    """A non-negative int from text made of ASCII digits 0-9 only (surrounding space allowed), else None.

    str.isdigit() also accepts "²" or "٣", which int() then refuses or reads (a 500 or a surprise): every
    number from a form or header goes through here instead.
    """
    text = str(raw if raw is not None else "").strip()
    if not text or len(text) > 18 or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


# ASCII digits with at most one decimal comma or point: float() alone also reads "1_000", "١٢" (Arabic-Indic digits),
# "1e3", "inf" and "nan".
DECIMAL = re.compile(r"[0-9]{1,15}(?:[.,][0-9]{1,6})?")


def decimal_number(raw):
    """A non-negative float from text of ASCII digits with at most one decimal comma or point ("7,5", "7.5"),
    surrounding space allowed; None for anything else (the caller's message names the field's range)."""
    text = str(raw if raw is not None else "").strip()
    if not DECIMAL.fullmatch(text):
        return None
    return float(text.replace(",", "."))


class InputErrors(InputError):
    """Every problem found in one posted form at once (a form with several fields): each beside its field.

    problems: InputErrors' parts, at least one; the first gives `reason`, `field` and the HTTP status.
    """

    def __init__(self, problems):
        first = problems[0]
        super().__init__(first.reason, first.field, **first.params)
        self.scope = first.scope
        self.problems = list(problems)


# An HMS card's number as printed: Latin letters and ASCII digits, spaces, "-", "/" or "." between them.
CARD_NUMBER = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z \-/.]*[0-9A-Za-z])?")


class FormReader:
    """Reads one posted form (a MultiDict: request.form) into clean values, keeping each field's first problem.

        fields = FormReader(request.form)
        name = fields.text("name", MAX_NAME, required="site_name_required")
        values = fields.done()  # {name: value}, or raises InputErrors with every field's problem

    Lengths are the callers' constants (the model's max_length), so a message states the rule applied.
    """

    def __init__(self, form):
        self.form = form
        self.values = {}
        self.problems = []

    def fail(self, reason, field, **params):
        """Note a problem with `field` (the first per field is kept: the one the person fixes first)."""
        if field is None or all(p.field != field for p in self.problems):
            self.problems.append(InputError(reason, field=field, **params))

    def text(self, name, max_length, required=None, strip=True):
        """The field's text as free_text reads it ("" when absent or nothing in it is visible), or exactly as
        sent with strip=False (a password).

        Longer than max_length (None: the caller checks) -> "too_long" (n=max_length); empty with
        `required` (a reason) -> that reason. A password made of nothing a reader can see (spaces, line breaks) is
        empty too: it was "wrong number or PIN" and counted as a failed sign-in.
        """
        value = self.form.get(name) or ""
        value = free_text(value) if strip else value
        if required and not has_visible_text(value):
            self.fail(required, name)
        elif max_length is not None and len(value) > max_length:
            self.fail("too_long", name, n=max_length)
        self.values[name] = value
        return value

    def card_number(self, name, max_length, too_long="too_long"):
        """An HMS card's number (HMS-kort, byggenæringsforskriften § 5): "" when not given, else letters and
        digits, with spaces, "-", "/" or "." between them, at most max_length characters. Anything else (an
        emoji, a sentence's punctuation) -> "bad_hms_card"; longer -> `too_long` (n=max_length)."""
        # Copied from a message, the number holds non-breaking spaces; typed on an Arabic keyboard, Arabic digits.
        value = " ".join(ascii_digits(self.text(name, None)).split())
        self.values[name] = value
        if len(value) > max_length:
            self.fail(too_long, name, n=max_length)
        elif value and not CARD_NUMBER.fullmatch(value):
            self.fail("bad_hms_card", name)
        return value

    def choice(self, name, options, reason, default=None):
        """One of `options` (strings), or `default` when the field is absent or empty and a default is given;
        anything else -> `reason`."""
        value = self.form.get(name) or default
        if value not in options:
            self.fail(reason, name)
            value = None
        self.values[name] = value
        return value

    def date(self, name, around=None):
        """An ISO date (YYYY-MM-DD, what <input type="date"> sends) as datetime.date, or None when empty;
        anything else -> "bad_date". around: (today, years back, years ahead): a date outside that range ->
        "implausible_date" naming it (plausible_date)."""
        raw = (self.form.get(name) or "").strip()
        value = None
        if raw:
            try:
                value = iso_date(raw)
            except ValueError:
                value = None
            if value is None:
                self.fail("bad_date", name)
            elif around is not None:
                today, years_back, years_ahead = around
                try:
                    plausible_date(value, today, name, years_back, years_ahead)
                except InputError as exc:
                    self.problems.append(exc)
                    value = None
        self.values[name] = value
        return value

    def done(self):
        """The values read, or InputErrors with every problem noted (nothing may be saved then)."""
        if self.problems:
            raise InputErrors(self.problems)
        return self.values


def problem(exc):
    """(HTTP status, message in the current language) for an InputError.

    The scoped reason ("report.uuid_conflict") is looked up first, then the reason; an unknown one is a 400.
    Params that are dates are formatted in the reader's language (clock.format_date).
    """
    scoped = f"{exc.scope}.{exc.reason}" if getattr(exc, "scope", None) else None
    status, text = CATALOGUE.get(scoped) or CATALOGUE.get(exc.reason, CATALOGUE[UNKNOWN])
    # A date in the message is written as the reader writes dates ("05.03.2026", "05/03/2026"), not as code does.
    params = {name: clock.format_date(value) if isinstance(value, date) else value
              for name, value in (getattr(exc, "params", None) or {}).items()}
    if callable(text):
        return status, text(**params)
    return status, (text % params if params else str(text))


def errors_by_field(*excs):
    """{field name: message} for the errors that name a field; {} when none does."""
    parts = [part for exc in excs for part in getattr(exc, "problems", None) or [exc]]
    return {exc.field: problem(exc)[1] for exc in parts if getattr(exc, "field", None)}


def banner(exc, beside=None):
    """The message to show above the form: None when every problem is shown beside its field instead.

    beside: the names of the fields the page has a place for a message beside (None: every field it names); a
    problem about any other field is told above the form, so that no message is lost."""
    for part in getattr(exc, "problems", None) or [exc]:
        field = getattr(part, "field", None)
        if not field or (beside is not None and field not in beside):
            return problem(part)[1]
    return None


# Line breaks that text pasted from other programs carries, read as the line break a person meant: Word's manual
# line break (Shift+Enter) is a vertical tab U+000B in its plain text, a page break a form feed U+000C, and NEL
# U+0085 comes from text converted between systems. Anywhere else, a control character is refused
# (shell/errors.py): these ones made a foreman's SJA steps pasted from Word a 400 that said to type them again.
# Only characters that were refused before: U+2028 and U+2029 were always taken as sent, so a password or a
# report's content hash made with them before stays the same.
PASTED_LINE_BREAKS = re.compile("[\x0b\x0c\x85]")


class NamedPartsParser(FormDataParser):
    """werkzeug's form parser, refusing a multipart part without a field name ("Content-Disposition: form-data"
    and no name=): werkzeug keeps its value under the key None, and every reader of the form then failed (a 500
    on every POST, sign-in too, before any view). BadRequest (400) instead, as for any other broken body.

    Every form value's PASTED_LINE_BREAKS are read as "\n", so each view and the control-character check see
    the text as the person meant it."""

    def parse(self, *args, **kwargs):
        stream, form, files = super().parse(*args, **kwargs)
        if None in form or None in files:
            raise BadRequest("a form part without a name")
        if any(PASTED_LINE_BREAKS.search(value) for _key, value in form.items(multi=True)):
            form = type(form)((key, PASTED_LINE_BREAKS.sub("\n", value)) for key, value in form.items(multi=True))
        return stream, form, files


class FormRequest(Request):
    """The app's request (Flask.request_class): Flask's, with forms read by NamedPartsParser."""

    form_data_parser_class = NamedPartsParser


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested too deeply to parse ("[" * 100000) is a ValueError like any other
    body that is not JSON: request.get_json answers it as bad input (400) instead of a RecursionError (500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None

