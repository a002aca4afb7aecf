"""What templates may call: the current language and device names (dates: fieldapp/clock.py; role names:
fieldapp/sites/views.py; the alert count: fieldapp/alerts/views.py, so this module imports no feature)."""
import functools

from babel import Locale
from pathlib import Path

from flask import current_app
from flask_babel import format_decimal, get_locale, get_translations
from jinja2 import FileSystemBytecodeCache, pass_context
from jinja2.utils import htmlsafe_json_dumps
from flask_babel import gettext as _
from flask_babel import ngettext

from . import clock
from .config import LANGUAGE_NAMES


def device_name(user_agent):
    """A short, readable name for a session's device, from its User-Agent."""
    ua = user_agent or ""
    if "iPhone" in ua:
        device = "iPhone"
    elif "iPad" in ua:
        device = "iPad"
    elif "Android" in ua:
        device = _("Android phone") if "Mobile" in ua else _("Android tablet")
    elif "Windows" in ua:
        device = "Windows"
    elif "Mac OS" in ua:
        device = "Mac"
    elif "Linux" in ua:
        device = "Linux"
    else:
        device = _("Unknown device")
    for browser in ("Edg", "Firefox", "Chrome", "Safari"):
        if browser in ua:
            return f"{device} · {'Edge' if browser == 'Edg' else browser}"
    return device


# Integers tried for a sample of each plural category: CLDR integer rules look at n % 100, so 0..199 has them all.
PLURAL_SAMPLES = range(0, 200)


@functools.lru_cache(maxsize=None)
def plural_samples(locale):
    """{CLDR plural category: the smallest integer of it} for a locale ("pl" -> {"many": 0, "one": 1, "few": 2}).

    Pure CLDR data, so kept per locale: finding them costs ~10 ms for Polish (bench/languages.py), each page.
    """
    rule = Locale.parse(locale).plural_form
    samples = {}
    for n in PLURAL_SAMPLES:  # bounded
        samples.setdefault(rule(n), n)
    return samples


def plural_forms(make):
    """Every plural form of a counted text in the current language, for a script that counts on the phone:
    {CLDR category ("one", "few", "many", "other"): make(n)} with a sample n of each category (Polish: 1, 2,
    0). make(n) calls ngettext with count="{count}"; the page's script picks the form with Intl.PluralRules
    (static/js/outbox.js plural()). A hand-built "one"/"other" pair is wrong for pl, lt and uk."""
    return {category: make(n) for category, n in plural_samples(str(get_locale())).items()}


def outbox_counts():
    """The outbox bar's counted texts (templates/base.html), each as plural_forms(), in the current language.

    They depend on nothing but the language (the catalogues are loaded once per process), so they are made
    once per language: ~15 ngettext calls cost about 0.2 ms, on every page (bench/pages.py).
    """
    return _outbox_counts_in(str(get_locale()))


def outbox_counts_json():
    """outbox_counts() as base.html's data- attributes hold it: {name: the JSON text of its forms}, as the
    tojson filter writes it (Flask's JSON, sorted keys, HTML-safe). Made once per language too: five JSON
    dumps on every page cost 2% of a list page's CPU (bench/pages.py)."""
    return _outbox_counts_json_in(str(get_locale()))


@functools.lru_cache(maxsize=16)  # bounded: one entry per interface language
def _outbox_counts_json_in(locale):
    """outbox_counts_json() for `locale`, in a context whose locale is `locale` (see _outbox_counts_in)."""
    return {name: htmlsafe_json_dumps(forms, dumps=current_app.json.dumps, sort_keys=True)
            for name, forms in _outbox_counts_in(locale).items()}


@functools.lru_cache(maxsize=16)  # bounded: one entry per interface language
def _outbox_counts_in(locale):
    """outbox_counts() for `locale` (a code of config.LANGUAGE_NAMES): {name: {category: text}}. The caller is
    in a request (or app) context whose locale is `locale`, so ngettext answers in it."""
    return {
        "waiting": plural_forms(lambda n: ngettext("%(count)s waiting to be sent", "%(count)s waiting to be sent",
                                                   n, count="{count}")),
        "failed": plural_forms(lambda n: ngettext("%(count)s needs attention", "%(count)s need attention",
                                                  n, count="{count}")),
        "signin": plural_forms(lambda n: ngettext("Sign in to send %(count)s waiting",
                                                  "Sign in to send %(count)s waiting", n, count="{count}")),
        "other": plural_forms(lambda n: ngettext("%(count)s waiting for %(name)s to sign in",
                                                 "%(count)s waiting for %(name)s to sign in",
                                                 n, count="{count}", name="{name}")),
        "signout": plural_forms(lambda n: ngettext("%(count)s item not sent yet will wait on this phone.",
                                                   "%(count)s items not sent yet will wait on this phone.",
                                                   n, count="{count}")),
    }


# The render context's key for Flask-Babel's translations of the render (see translations_of).
TRANSLATIONS = "fieldapp_translations"


def translations_of(context):
    """The gettext catalogue a template's _(), ngettext() and {% trans %} read: Flask-Babel's own
    get_translations(), asked once per render_template (the context processor below puts it in the render's
    context) rather than at each of a page's 15-40 calls, each of which looked up the request context, the
    domain and the locale again (~7% of a list page's CPU, bench/pages.py). Still Flask-Babel's translations
    for the locale of the moment: a render cannot change the locale while it runs, and each render (after a
    force_locale, or a new language chosen mid-request) asks again. A template rendered without the context
    processors (a bare Template.render, a macro imported without context) asks Flask-Babel at each call."""
    translations = context.get(TRANSLATIONS)
    return translations if translations is not None else get_translations()


def install_gettext(env):
    """The templates' gettext callables (new-style, as Flask-Babel installs them), reading translations_of()."""
    env.install_gettext_callables(
        gettext=pass_context(lambda context, s: translations_of(context).ugettext(s)),
        ngettext=pass_context(lambda context, s, p, n: translations_of(context).ungettext(s, p, n)),
        pgettext=pass_context(lambda context, c, s: translations_of(context).upgettext(c, s)),
        npgettext=pass_context(lambda context, c, s, p, n: translations_of(context).unpgettext(c, s, p, n)),
        newstyle=True,
    )


def init_app(app):
    # After Flask-Babel's init_app, whose callables these replace (the same catalogue, looked up once a render).
    install_gettext(app.jinja_env)
    # As in production: templates are not re-read from disk on each render outside debug (Flask's default,
    # said here so that no setting turns it on by accident), and their compiled code is kept in the
    # instance folder, so a new worker (gunicorn restarts them) does not compile every template again
    # on its first requests. Jinja keys the cache by the template's source: an edited template is recompiled.
    app.jinja_env.auto_reload = app.debug
    if not app.debug:
        cache = Path(app.instance_path, "jinja-cache")
        cache.mkdir(parents=True, exist_ok=True)
        app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(cache))
    # Template indentation is for people reading the templates, not for phones downloading pages.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["device_name"] = device_name
    # "pl" -> "Polski": a language by its own name (fieldapp/config.py LANGUAGE_NAMES).
    app.jinja_env.filters["language_name"] = lambda code: LANGUAGE_NAMES.get(code, code)
    # Hours with one decimal in the reader's language ("7,5" in bokmål, "7.5" in English).
    app.jinja_env.filters["decimal1"] = lambda value: format_decimal(value, format="#,##0.0")
    # Any figure in the reader's language, up to two decimals ("4 125" and "203,05" in bokmål).
    app.jinja_env.filters["number"] = lambda value: format_decimal(value, format="#,##0.##")

    @app.context_processor
    def helpers():
        return {
            TRANSLATIONS: get_translations(),
            "current_lang": lambda: str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]),
            # The IANA zone the page's times are in (the site's on a site page, else the setting): base.html
            # puts it in <meta name="fieldapp-time-zone">, for times written by JavaScript (the outbox list).
            "time_zone": clock.zone_name,
            # {code: the language's own name}, in menu order (fieldapp/config.py).
            "language_names": LANGUAGE_NAMES,
            "outbox_counts": outbox_counts_json,
        }
