"""One URL, two answers: the whole page for a normal request, the fragment for a targeted htmx swap."""
from flask import make_response, render_template, request
from flask_htmx import HTMX

htmx = HTMX()


def wants_fragment():
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page, fragment, status=200, **ctx):
    """Fragment for a targeted htmx swap, else the whole page."""
    return render_template(fragment if wants_fragment() else page, **ctx), status


def render_polled(page, fragment, **ctx):
    """render() for a page that polls itself (hx-trigger="every Ns"): 304 Not Modified when nothing changed.

    The ETag is a hash of the body this request would send (Werkzeug's add_etag), so a 304 is given only
    when the client already holds exactly that body: never stale, for any viewer or language, whatever the
    templates come to show. It saves the phone's download and the radio, not the server's rendering.
    The fragment is 'private, no-cache' so the browser keeps the last one and revalidates each poll with
    If-None-Match (htmx's XHR gets the kept body back as a 200); whole pages stay no-store (headers.py).
    Not htmx's 286: that stops the polling for good. A fragment holding a CSRF token (signed with the
    time) differs each second and so is always sent whole.
    Returns a Response: 200 with ETag, or 304 without a body.
    """
    response = make_response(render(page, fragment, **ctx))
    if wants_fragment():
        response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


def init_app(app):
    htmx.init_app(app)

    @app.after_request
    def vary_on_htmx(response):
        # A cached fragment must never be served as a page (or the other way round).
        response.vary.add("HX-Request")
        return response
