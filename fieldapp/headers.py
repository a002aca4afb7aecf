"""Security headers on every response: a strict Content-Security-Policy and the usual others."""
from urllib.parse import urlsplit

from flask import request

from . import storage

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",  # no inline script, no eval: htmx runs with allowEval off
    "style-src 'self'",  # htmx's indicator styles are in our stylesheet, not injected
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])


def policy(app):
    """The CSP for this app: CSP, and with PHOTO_SERVING "presigned" (fieldapp/storage.py) img-src also names
    the photo store's origin, where the photos' 302 answers send the browser."""
    url = storage.for_app(app).url("0" * 64) if app.config.get("PHOTO_SERVING") == "presigned" else None
    if not url:
        return CSP
    parts = urlsplit(url)
    return CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {parts.scheme}://{parts.netloc}")


def init_app(app):
    csp = policy(app)

    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", csp)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
        if app.config["HSTS"]:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static" and response.mimetype == "text/html":
            # Pages carry personal data: never kept in a shared cache or the back-forward cache.
            h.setdefault("Cache-Control", "no-store")
        return response
