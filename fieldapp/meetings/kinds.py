"""The meeting kinds: built-in ones (names translated in code) and an organization's own or renamed ones."""
from flask_babel import lazy_gettext as _l

from .. import i18n

# code -> (name, level, default interval in days or None). AML § 7-1: the AMU meets about four times a year;
# a site's HMS meeting every 4 weeks is the usual rhythm on building sites.
BUILTIN = {
    "hms": (_l("Site HMS meeting"), "site", 28),
    "amu": (_l("AMU (working environment committee)"), "organization", 91),
    "startup": (_l("Start-up meeting for a new contractor"), "site", None),
    "morning": (_l("Morning meeting"), "site", None),
}

# The short list of topics a morning meeting ticks (toolbox talk).
MORNING_TOPICS = {
    "todays_work": _l("Today's work and its risks"),
    "weather": _l("Weather and ground"),
    "lifting": _l("Lifting and cranes"),
    "heights": _l("Work at height"),
    "tidiness": _l("Order and tidiness"),
    "equipment": _l("Protective equipment"),
    "reports": _l("Recent reports (RUH)"),
}


def kind_names(own_kinds, language):
    """{code: (name in `language`, level)} for the built-in kinds plus an organization's rows (MeetingKind),
    whose names (a {language: text} dict) replace a built-in name with the same code."""
    out = {code: (str(name), level) for code, (name, level, _days) in BUILTIN.items()}
    for row in own_kinds:
        name = i18n.localized(row.names, language)
        if name:
            out[row.code] = (name, row.level)
    return out


def default_interval(code):
    return BUILTIN.get(code, (None, None, None))[2]
