"""What the report's codes are called in the person's language."""
from flask_babel import gettext as _


def kinds():
    return {
        "hazard": _("Hazardous condition"),
        "near_miss": _("Near miss"),
        "injury": _("Injury"),
        "property_damage": _("Property damage"),
        "environment": _("Environment"),
    }


def categories():
    return {
        "falls": _("Falls"),
        "falling_objects": _("Falling objects"),
        "electrical": _("Electrical"),
        "machines_tools": _("Machines and tools"),
        "vehicles_traffic": _("Vehicles and traffic"),
        "lifting": _("Lifting"),
        "chemicals_dust": _("Chemicals and dust"),
        "fire": _("Fire"),
        "order_tidiness": _("Order and tidiness"),
        "protective_equipment": _("Protective equipment"),
        "other": _("Other"),
    }


def severities():
    return {"low": _("Low"), "medium": _("Medium"), "high": _("High")}


def statuses():
    return {"open": _("Open"), "in_progress": _("In progress"), "closed": _("Closed")}


def messages():
    """ReportError and PhotoError reasons -> (status, message)."""
    return {
        "bad_kind": (422, _("Pick what happened.")),
        "no_category": (422, _("Pick what it is about.")),
        "bad_severity": (422, _("Pick a severity.")),
        "too_long": (422, _("The text is too long. Keep it under %(n)s characters.", n=1000)),
        "place_too_long": (422, _("The place is too long. Keep it under %(n)s characters.", n=200)),
        "bad_absence_days": (422, _("Give the days of absence as a number from 0 to 366.")),
        "too_many_photos": (422, _("At most %(n)s photos per report.", n=6)),
        "empty": (422, _("Add a photo or a few words about what you saw.")),
        "uuid_conflict": (409, _("This report was already sent with other content. Make it again as a new report.")),
        "bad_uuid": (400, _("The form was damaged. Reload the page and try again.")),
        "text_required": (422, _("Write something first.")),
        "bad_assignee": (422, _("Choose a person on this site.")),
        "bad_deadline": (422, _("The deadline must be a date from today on.")),
        "closed": (409, _("The report is closed. Reopen it first.")),
        "not_closed": (409, _("The report is not closed.")),
        "action_required": (422, _("Write the corrective action before you close the report.")),
        "no_photo": (422, _("Choose a photo.")),
        "bad_authority": (400, _("Something in the request was wrong")),
        "not_injury": (409, _("Only injuries are notified to the authorities.")),
        "bad_notified_at": (422, _("Give the date and time of the notification.")),
        # photos.PhotoError
        "empty_file": (422, _("The photo file is empty. Take it again.")),
        "not_image": (415, _("That file is not a photo. Use JPEG, PNG or WebP.")),
        "damaged": (422, _("The photo is damaged or incomplete. Take it again.")),
        "too_many_pixels": (413, _("The photo has too many pixels. Use at most 50 megapixels.")),
        "too_big": (413, _("The photo is too large. Use a file of at most 15 MB.")),
        "bad_shape": (422, _("The photo is too long and narrow. Use a photo at most 20 times as long as it is wide.")),
        "too_complex": (422, _("The photo is saved in a way that takes too long to read. "
                               "Save it as an ordinary JPEG and try again.")),
        "budget": (413, _("Too many large photos in one report: send this one in a separate report.")),
    }
