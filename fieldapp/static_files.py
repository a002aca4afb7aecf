"""Static files under content-hashed names, compressed once, cached for a year (issue 22).

At startup every file under static/ is read once: its SHA-256 gives it a second name, `css/app.css` ->
`css/app.<10 hex>.css`; a text file is gzip- and brotli-compressed in memory the first time a browser asks
for it (images are not: PNG is already compressed), so a process that serves no static file (a huey consumer,
a CLI command, a web node behind Caddy, which serves the exported files itself) never pays for it. `url_for('static', filename='css/app.css')` gives the hashed name everywhere (a
url_defaults hook, so templates keep calling url_for as before); a hashed name is answered with
`Cache-Control: public, max-age=31536000, immutable`, so a deploy never serves stale JavaScript. The plain
name still works (no-cache, with an ETag) for the service worker's old copies and bookmarks; any other name
is a clean 404.

The scripts every page loads (`BASE_SCRIPTS`) and the service worker's shell (`SHELL_FILES`) are defined here
once: base.html and /sw.js both read them.
"""
import functools
import gzip
import hashlib
import mimetypes
from pathlib import Path

import brotli
from flask import abort, request

# Every page, signed in or not. htmx only where someone is signed in (`SIGNED_IN_SCRIPTS`): the sign-in, enrol,
# offline and outbox pages use none of it, and on a first visit it would be a third of the bytes.
BASE_SCRIPTS = ("js/app.js", "js/outbox-core.js", "js/outbox.js", "js/push.js")
SIGNED_IN_SCRIPTS = ("vendor/htmx-2.0.11/htmx.min.js",)
STYLESHEET = "css/app.css"
# What the service worker installs ahead: what the offline and outbox pages need. Scripts of other pages
# (htmx, sja.js, rounds.js) are kept by the worker the first time a page loads them (static/sw.js).
SHELL_FILES = (STYLESHEET,) + BASE_SCRIPTS + ("js/clock.js", "icons/icon-any-192.png")

YEAR = 365 * 24 * 3600
COMPRESSIBLE = {".css", ".js", ".json", ".svg", ".txt", ".webmanifest", ".html"}
MIN_COMPRESS = 500  # bytes: below this the headers cost more than they save


class StaticFile:
    """One file of static/: its name, hashed name, SHA-256 (hex), MIME type and bytes (`raw`). `compressible`
    says whether it is sent compressed; `encoded(encoding)` gives the bytes in "gzip" or "br"."""
    __slots__ = ("name", "hashed", "digest", "mimetype", "raw", "compressible")

    def __init__(self, name, data):
        self.name = name
        self.digest = hashlib.sha256(data).hexdigest()
        stem, dot, suffix = name.rpartition(".")
        self.hashed = f"{stem}.{self.digest[:10]}.{suffix}" if dot and "/" not in suffix else f"{name}.{self.digest[:10]}"
        self.mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.raw = data
        self.compressible = Path(name).suffix in COMPRESSIBLE and len(data) >= MIN_COMPRESS

    def encoded(self, encoding):
        """The bytes compressed with `encoding` ("gzip" or "br"); only for a compressible file."""
        return compressed(self.raw, encoding)


@functools.lru_cache(maxsize=128)
def compressed(data, encoding):
    """`data` compressed with "gzip" (level 9) or "br" (brotli, quality 11): a pure function of the bytes, so
    kept per process, made on the first request that asks for it.

    Brotli at quality 11 costs about 0.2 s of CPU for the whole of static/: at start-up every process paid it,
    the huey consumers and CLI commands too. An app made again in the same process (the tests make several)
    reuses the result for files whose bytes are unchanged, and a changed file is compressed anew.
    """
    if encoding == "br":
        return brotli.compress(data, quality=11)
    return gzip.compress(data, 9, mtime=0)


class Manifest:
    """name -> StaticFile for every file under `folder`, and hashed name -> StaticFile."""

    def __init__(self, folder):
        self.by_name, self.by_hashed = {}, {}
        root = Path(folder)
        for path in sorted(root.rglob("*")):
            if path.is_file():
                item = StaticFile(path.relative_to(root).as_posix(), path.read_bytes())
                self.by_name[item.name] = item
                self.by_hashed[item.hashed] = item

    def url_name(self, name):
        """The hashed name of `name`, or `name` itself when there is no such file."""
        item = self.by_name.get(name)
        return item.hashed if item else name

    def version(self, names):
        """12 hex digits that change whenever one of `names` changes (the service worker's version)."""
        digest = hashlib.sha256()
        for name in names:
            digest.update(self.by_name[name].digest.encode())
        return digest.hexdigest()[:12]


def export_hashed(source, target):
    """Write every file of `source` (the static/ folder) under its hashed name into `target`/static/, the
    folder mirroring the URLs: `target`/static/css/app.<10 hex>.css. What a proxy serves as immutable
    (deploy/fieldapp-edge.caddy): only names that exist there, so a made-up hash is never answered with the
    current file. Files already there are kept (a phone on the previous release still gets its files);
    each is written beside its name and renamed, mode 0644. Returns the number of files written.
    """
    written = 0
    root = Path(target, "static")
    for item in Manifest(source).by_hashed.values():
        path = root / item.hashed
        if path.exists():
            continue  # named by content: the same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(item.raw)
        partial.chmod(0o644)
        partial.replace(path)
        written += 1
    return written


def manifest(app):
    return app.extensions["fieldapp.static"]


def _respond(app, item, immutable):
    accepted = request.accept_encodings
    body, encoding = item.raw, None
    if item.compressible:
        encoding = "br" if accepted["br"] else "gzip" if accepted["gzip"] else None
    if encoding:
        body = item.encoded(encoding)
    response = app.response_class(body, mimetype=item.mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    if item.compressible:
        response.vary.add("Accept-Encoding")
    response.set_etag(item.digest[:20] + (f"-{encoding}" if encoding else ""))
    if immutable:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def init_app(app):
    """Reads static/ into memory, points url_for('static') at hashed names and serves them."""
    files = app.extensions["fieldapp.static"] = Manifest(app.static_folder)

    @app.url_defaults
    def hashed_static(endpoint, values):
        if endpoint == "static" and "filename" in values:
            values["filename"] = files.url_name(values["filename"])

    def static(filename):
        item = files.by_hashed.get(filename)
        if item is not None:
            return _respond(app, item, immutable=True)
        item = files.by_name.get(filename)
        if item is None:
            abort(404)
        return _respond(app, item, immutable=False)

    app.view_functions["static"] = static

    @app.context_processor
    def page_scripts():
        return {"base_scripts": BASE_SCRIPTS, "signed_in_scripts": SIGNED_IN_SCRIPTS, "stylesheet": STYLESHEET}
