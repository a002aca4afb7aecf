"""Security headers on every response: a strict Content-Security-Policy and the usual others."""
from flask import request

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


def init_app(app):
    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
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
