"""One URL, two answers: the whole page for a normal request, the fragment for a targeted htmx swap."""
import datetime
import decimal
import hashlib
import uuid
from pathlib import Path

from flask import current_app, g, make_response, render_template, request, session
from flask_babel import get_locale
from flask_htmx import HTMX
from flask_wtf.csrf import generate_csrf

from . import clock
from .config import PROJECT_ROOT

htmx = HTMX()

CODE_VERSION = "fieldapp.code_version"


def wants_fragment():
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page, fragment, status=200, **ctx):
    """Fragment for a targeted htmx swap, else the whole page."""
    return render_template(fragment if wants_fragment() else page, **ctx), status


def render_polled(page, fragment, **ctx):
    """render() for a page that polls itself (hx-trigger="every Ns"): 304 Not Modified when nothing changed.

    The fragment's ETag is computed BEFORE rendering, from everything the fragment is made of (context_etag):
    the context the view gives it, which must be plain data (namedtuples, dicts, lists, str, numbers, dates:
    TypeError otherwise, so that a model object, whose fields a digest could miss, fails loudly), and what the
    templates take from the request (the viewer, their role, site, language, time zone and day, the path
    prefix, the session's CSRF secret) and the code that renders it (code_version). So a poll that already
    holds the fragment gets its 304 without the fragment being rendered, and any change to what it shows
    gives a new ETag at once. Where templates are re-read from disk (auto_reload, in development) the
    code is not fixed for the process, and the ETag is the hash of the rendered body instead.
    The fragment is 'private, no-cache' so the browser keeps the last one and revalidates each poll with
    If-None-Match (htmx's XHR gets the kept body back as a 200); whole pages stay no-store (headers.py)
    and carry the body's hash. Not htmx's 286: that stops the polling for good.
    The fragment carries its own ETag as data-etag (poll_etag), in the page and in each answer: static/js/app.js
    does not swap an answer with the ETag the page shows already (the browser hands htmx the kept body as a 200
    after the server's 304), so an unchanged poll leaves focus, a half-typed field and a tap in progress alone.
    Returns a Response: 200 with ETag, or 304 without a body.
    """
    # The page makes the session's CSRF secret as it renders its first form; made first here, the page's
    # data-etag and the polls' ETags are taken from the same secret.
    generate_csrf()
    etag = None if current_app.jinja_env.auto_reload else context_etag(fragment, ctx)
    if not wants_fragment():
        response = make_response(render(page, fragment, poll_etag=etag, **ctx))
        response.add_etag()
        return response.make_conditional(request)
    if etag is not None and etag in request.if_none_match:
        response = current_app.response_class(status=304)
    else:
        response = make_response(render_template(fragment, poll_etag=etag, **ctx))
    response.headers["Cache-Control"] = "private, no-cache"
    if etag is None:
        response.add_etag()
    else:
        response.set_etag(etag)
    return response.make_conditional(request)


def context_etag(template, ctx):
    """The ETag of `template` rendered with `ctx` in this request: a SHA-1 of code_version(), the template's
    name, fingerprint(ctx) and the request's parts templates read (see render_polled). TypeError if ctx holds
    anything but plain data."""
    user, site, membership = g.get("user"), g.get("site"), g.get("membership")
    device_session = g.get("device_session")
    parts = (
        current_app.extensions[CODE_VERSION], template, request.script_root,
        str(get_locale()), clock.zone_name(), clock.today(),
        getattr(user, "id", None), getattr(device_session, "id", None),
        getattr(site, "id", None), getattr(membership, "role", None),
        session.get("csrf_token"),  # a form in the fragment carries a token made from it
        ctx,
    )
    return hashlib.sha1(fingerprint(parts).encode()).hexdigest()


PLAIN = (str, int, float, bool, decimal.Decimal, datetime.date, datetime.time, uuid.UUID, type(None))


def fingerprint(value):
    """A text that differs whenever plain data differs: str, numbers, bools, None, dates, times, UUIDs,
    and tuples (namedtuples), lists and dicts of them. TypeError for anything else (a model object, a set)."""
    if isinstance(value, PLAIN):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(fingerprint(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{fingerprint(k)}={fingerprint(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"a polled fragment's context must be plain data, not {type(value).__name__}")


def code_version():
    """A SHA-1 of the files that make a page (templates, fieldapp's Python modules and compiled
    translations), read when the app starts: the same on every process of one release, another after
    a change. Feeds the polled fragments' ETags, so a new release never answers 304 with old markup."""
    digest = hashlib.sha1()
    for folder, patterns in ((PROJECT_ROOT / "templates", ("**/*.html",)),
                             (PROJECT_ROOT / "fieldapp", ("**/*.py", "**/*.mo"))):
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):  # bounded: the project's own files
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def init_app(app):
    htmx.init_app(app)
    app.extensions[CODE_VERSION] = code_version()

    @app.after_request
    def vary_on_htmx(response):
        # A cached fragment must never be served as a page (or the other way round).
        response.vary.add("HX-Request")
        return response
