"""Which language a request is answered in: the person's choice first, Norwegian bokmål by default."""
from flask import current_app, g, request, session

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
