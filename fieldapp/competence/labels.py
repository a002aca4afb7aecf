"""Words for the competence codes, in the current language (store codes, render words)."""
from flask_babel import gettext as _


def status_labels():
    """status code (service.STATUSES) -> its label."""
    return {
        "valid": _("valid"),
        "expires_90": _("expires within 90 days"),
        "expires_60": _("expires within 60 days"),
        "expires_30": _("expires within 30 days"),
        "waiting": _("waiting for approval"),
        "expired": _("expired"),
        "missing": _("missing"),
    }


def record_status_labels():
    return {"pending": _("waiting for approval"), "approved": _("approved"), "rejected": _("rejected")}
