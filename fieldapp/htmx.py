"""One URL, two answers: the whole page for a normal request, the fragment for a targeted htmx swap."""
from flask import render_template
from flask_htmx import HTMX

htmx = HTMX()


def wants_fragment():
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page, fragment, status=200, **ctx):
    """Fragment for a targeted htmx swap, else the whole page."""
    return render_template(fragment if wants_fragment() else page, **ctx), status


def init_app(app):
    htmx.init_app(app)

    @app.after_request
    def vary_on_htmx(response):
        # A cached fragment must never be served as a page (or the other way round).
        response.vary.add("HX-Request")
        return response
