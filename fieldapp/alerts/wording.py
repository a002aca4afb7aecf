"""What an alert says, in a reader's language: the ready-made alerts (templates) and the report alerts' codes.

Ready-made alerts store only their key and the area; each recipient reads them in their own language, on the
page and in the push message (fieldapp/alerts/delivery.py).
"""
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from ..config import LANGUAGE_NAMES, Defaults

from ..reports.labels import categories, kinds

def templates():
    """key -> (level, title(area), text(area)), in the current language. Every UI language has them all."""
    def where(area):
        return area or _("the marked area")

    return {
        "stop_work": ("stop_work", lambda a: _("STOP WORK: immediate danger"),
                      lambda a: _("Stop work at once at %(area)s and move to a safe place. Work may only start "
                                  "again when the safety representative or the foreman says so (AML § 6-3).",
                                  area=where(a))),
        "crane_lift": ("warning", lambda a: _("Crane lift: keep out from under the load"),
                       lambda a: _("A crane lift is going on at %(area)s. Keep outside the cordon and never "
                                   "stand under the load.", area=where(a))),
        "evacuation": ("stop_work", lambda a: _("EVACUATE the site"),
                       lambda a: _("Leave the site now by the nearest safe way out and go to the assembly "
                                   "point. Do not go back for tools. Report to your foreman at %(area)s.",
                                   area=where(a))),
        "weather": ("warning", lambda a: _("Weather warning: strong wind"),
                    lambda a: _("Strong wind expected. Secure loose material, stop crane lifts and work at "
                                "height at %(area)s until the foreman says otherwise.", area=where(a))),
        "gas_leak": ("stop_work", lambda a: _("Gas or chemical leak"),
                     lambda a: _("A gas or chemical leak at %(area)s. Move away against the wind, do not use "
                                 "open flames or switches, and wait for the all-clear.", area=where(a))),
        "area_closed": ("warning", lambda a: _("Area closed"),
                        lambda a: _("%(area)s is closed until further notice. Do not enter.",
                                    area=where(a).capitalize())),
        # Made by the app itself:
        "work_resumed": ("info", lambda a: _("Work may start again"),
                         lambda a: _("The stop-work order at %(area)s is lifted. Work may start again; follow the "
                                     "foreman's instructions.", area=where(a))),
        "report_high": ("warning", lambda a: _("New serious hazard reported"),
                        lambda a: _("A hazard with high severity was reported: %(area)s. Open it and follow "
                                    "it up.", area=a)),
        "report_injury": ("warning", lambda a: _("Injury reported"),
                          lambda a: _("An injury was reported: %(area)s. Open it and follow it up.", area=a)),
        "report_serious_injury": ("warning", lambda a: _("Serious injury reported"),
                                  lambda a: _("A serious injury was reported: %(area)s. The employer must notify "
                                              "Arbeidstilsynet and the police at once (AML § 5-2). Open the report "
                                              "to record when they were told.", area=a)),
        "report_closed": ("info", lambda a: _("Your report was closed"),
                          lambda a: _("Your report (%(area)s) has been dealt with. See what was done.", area=a)),
        # The walkaround reminder (fieldapp/rounds/tasks.py); area: the site's name.
        "round_due": ("info", lambda a: _("Safety walkaround due"),
                      lambda a: _("The safety walkaround at %(area)s is due. Start it from the home screen.",
                                  area=a)),
    }


COMPOSE_TEMPLATES = ("stop_work", "crane_lift", "evacuation", "weather", "gas_leak", "area_closed")
REPORT_TEMPLATES = ("report_high", "report_injury", "report_serious_injury", "report_closed")


def report_codes(report, with_kind=True):
    """What a report alert stores in `area`: "category/kind" (with_kind) or "category"; codes, not words."""
    return f"{report.category}/{report.kind}" if with_kind else report.category


def report_words(codes):
    """ "electrical/hazard" -> "Electrical (Hazardous condition)" in the current language; "falls" -> "Falls".

    An unknown code is shown as stored: alerts made before codes were stored hold words (migration 010
    turns those whose report still exists into codes).
    """
    category, _slash, kind = codes.partition("/")
    if category not in categories() or (kind and kind not in kinds()):
        return codes
    return f"{categories()[category]} ({kinds()[kind]})" if kind else str(categories()[category])


def own_words(alert, language):
    """(title, text) the sender wrote, in `language` if they gave it (alert.texts), else as written, with a note
    in the reader's language naming the language it is written in (issue 17). Call in the reader's locale."""
    given = (alert.texts or {}).get(language)
    if given:
        return given.get("title") or alert.title, given.get("body") or alert.body
    if not alert.body or not alert.language or alert.language == language:
        return alert.title, alert.body
    note = _("Written in %(language)s: no text in your language was given.",
             language=LANGUAGE_NAMES.get(alert.language, alert.language))
    return alert.title, f"({note})\n\n{alert.body}"


def wording(alert, language=None):
    """(title, text) of an alert in a language (the current one by default): a ready-made alert in the
    catalogue's words (with the sender's added text, as own_words), a free-text one as own_words."""
    def build():
        code = str(get_locale() or Defaults.BABEL_DEFAULT_LOCALE)
        title, body = own_words(alert, code)
        if not alert.template:
            return title, body
        level, title, text = templates()[alert.template]
        area = report_words(alert.area) if alert.template in REPORT_TEMPLATES else alert.area
        extra = f"\n\n{body}" if body else ""
        return str(title(area)), str(text(area)) + extra

    if language:
        with force_locale(language):
            return build()
    return build()
