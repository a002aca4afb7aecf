"""Which language a request is answered in: the person's choice first, Norwegian bokmål by default."""
from flask import current_app, g, request, session
from flask_babel import get_translations

# Many Norwegian phones send 'no' or 'nn'; Werkzeug's best_match would then pick English.
ALIASES = {"no": "nb", "nn": "nb"}


def select_locale():
    supported = current_app.config["LANGUAGES"]
    user = g.get("user")
    if user is not None and user.language in supported:
        return user.language
    if session.get("lang") in supported:
        return session["lang"]
    for lang, _quality in request.accept_languages:
        base = lang.split("-")[0].lower()
        base = ALIASES.get(base, base)
        if base in supported:
            return base
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def request_translations():
    """The translations for this request's language, looked up once per request.

    Flask-Babel resolves the context, the domain and the locale again on every call (some 40 µs);
    a page calls gettext a few dozen times.
    """
    translations = g.get("_translations")
    if translations is None:
        translations = g._translations = get_translations()
    return translations


def init_app(app):
    """Point the templates' gettext at the per-request translations (after Babel is set up)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
