"""Which language a request is answered in: the person's choice first, Norwegian bokmål by default."""
from flask import current_app, g, request, session
from flask_babel import get_locale

# Many Norwegian phones send 'no' or 'nn'; Werkzeug's best_match would then pick English.
ALIASES = {"no": "nb", "nn": "nb"}


def browser_language():
    """The first language of the browser's Accept-Language that the app speaks ("pl-PL" -> "pl"), or None."""
    supported = current_app.config["LANGUAGES"]
    for lang, _quality in request.accept_languages:
        base = lang.split("-")[0].lower()
        base = ALIASES.get(base, base)
        if base in supported:
            return base
    return None


def select_locale():
    supported = current_app.config["LANGUAGES"]
    user = g.get("user")
    if user is not None and user.language in supported:
        return user.language
    if session.get("lang") in supported:
        return session["lang"]
    return browser_language() or current_app.config["BABEL_DEFAULT_LOCALE"]


def proposed_language(chosen_on_phone, user):
    """The language a first sign-in offers to confirm with one tap: the one picked on this phone before signing
    in (the sign-in page's language links), else the browser's preference, else the person's (as their manager
    registered it). Returns a code of LANGUAGES."""
    supported = current_app.config["LANGUAGES"]
    for code in (chosen_on_phone, browser_language(), user.language):
        if code in supported:
            return code
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# The locale dates and times are written in, per language code, where it is not the language's own default:
# Babel's "en" is American (11/30/26, 2:05 PM); workers on Norwegian sites who read English expect the day
# first and a 24-hour clock (30/11/2026, 30 Nov 2026, 14:05). The code a person chooses stays "en".
FORMAT_LOCALES = {"en": "en_GB"}


def formatting_locale(language=None):
    """The Babel locale name dates and times are formatted in for `language` (default: the request's, or the
    one force_locale set): "en" -> "en_GB", any other code itself. Returns a str such as "nb" or "en_GB"."""
    if language is None:
        current = get_locale()
        language = str(current) if current is not None else "nb"
    return FORMAT_LOCALES.get(language, language)


# The order in which content an organization names itself falls back when the reader's language is missing.
FALLBACK = ("nb", "en")


def localized(names, language):
    """The text for `language` from a {language code: text} dict (an organization's own content: equipment,
    templates, course types, meeting kinds), falling back to bokmål, then English, then any language given.

    names: dict of str -> str (empty texts count as missing), or None. language: a code such as "pl".
    Returns "" when there is no text at all. Never raises for an unknown language.
    """
    if not names:
        return ""
    for code in (language, *FALLBACK):
        text = names.get(code)
        if text:
            return text
    return next((text for text in names.values() if text), "")


def missing_languages(names, languages):
    """The codes in `languages` (an iterable, in order) that `names` has no text for: what a manager is shown
    as still to translate. Returns a list of str."""
    names = names or {}
    return [code for code in languages if not names.get(code)]
