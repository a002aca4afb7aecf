"""What the SJA's codes are called in the reader's language."""
from flask_babel import gettext as _


def levels():
    """Risk level -> its words (shown beside its colour: never colour alone)."""
    return {"green": _("Low risk (green)"), "amber": _("Medium risk (amber)"), "red": _("High risk (red)")}


def grades():
    """1-5 -> words for probability and consequence."""
    return {1: _("1 very low"), 2: _("2 low"), 3: _("3 medium"), 4: _("4 high"), 5: _("5 very high")}


def decisions():
    return {"go": _("Go: the job may start"), "no_go": _("No-go: the job must not start")}


def methods():
    return {"session": _("on their own phone"), "pin": _("with their PIN on another phone")}
