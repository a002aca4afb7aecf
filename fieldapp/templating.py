"""What templates may call: the current language and device names (dates: fieldapp/clock.py; role names:
fieldapp/sites/views.py; the alert count: fieldapp/alerts/views.py, so this module imports no feature)."""
from pathlib import Path

from flask_babel import format_decimal, get_locale
from jinja2 import FileSystemBytecodeCache
from flask_babel import gettext as _


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


def init_app(app):
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
    # Hours with one decimal in the reader's language ("7,5" in bokmål, "7.5" in English).
    app.jinja_env.filters["decimal1"] = lambda value: format_decimal(value, format="#,##0.0")

    @app.context_processor
    def helpers():
        return {
            "current_lang": lambda: str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]),
        }
