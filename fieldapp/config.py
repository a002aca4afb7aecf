"""Configuration: safe defaults in code, overridden by environment variables."""
import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_path():
    """The folder that holds everything made on first run (keys, database, uploads)."""
    return os.environ.get("FIELDAPP_INSTANCE", str(PROJECT_ROOT / "instance"))


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class Defaults:
    # Set per installation: FLASK_SECRET_KEY, or the instance/secret_key file made on first run.
    SECRET_KEY = None
    DEBUG = False
    # Local development over plain http (make run) turns this off; production is behind HTTPS.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=180)
    # The cookie only carries the device-session token, which expires server-side: re-signing it
    # on every response would cost every page for nothing.
    SESSION_REFRESH_EACH_REQUEST = False
    # A device session (server-side, revocable) lasts this long, and ends sooner when unused.
    DEVICE_SESSION_DAYS = 180
    DEVICE_SESSION_IDLE_DAYS = 45
    ENROLLMENT_CODE_MINUTES = 30
    # Failed sign-ins from devices the person has not signed in on before, per phone number: at most 5
    # per 15-minute window and 20 per day (README "Sign-in throttling": the guessing rate per year).
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_DAY = 20
    # Per client address (untrusted devices only): a whole crew often shares one (carrier NAT, site wi-fi).
    LOGIN_MAX_FAILURES_PER_IP = 50
    # A device with the person's device cookie counts only its own failures: per window, and per day
    # LOGIN_MAX_FAILURES_PER_DAY like a number.
    LOGIN_MAX_FAILURES_PER_DEVICE = 10
    DEVICE_COOKIE_DAYS = 365
    # argon2 cost for PINs and passwords (fieldapp/accounts/service.py HASHERS); "test" only with TESTING.
    ARGON2_PROFILE = "default"
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (werkzeug ProxyFix); 0 trusts
    # none, so a client cannot choose its own address for the per-address limit.
    TRUSTED_PROXIES = 0
    # Tokens live as long as the session: an outbox may replay a form hours later.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_DEFAULT_TIMEZONE = "Europe/Oslo"
    LANGUAGES = ("nb", "en")
    VAPID_SUBJECT = "mailto:hms@fieldapp.invalid"
    # Push messages in flight at once when an alert is delivered.
    PUSH_WORKERS = 64
    # Push endpoints must be public https; the tests' fake push service is on http://127.0.0.1.
    PUSH_ALLOW_LOCAL_ENDPOINTS = False
    # Push service hosts beyond the browsers' own (fieldapp.push.DEFAULT_ALLOWED_HOSTS): "host" or "*.suffix".
    PUSH_ALLOWED_HOSTS = ()
    # byggherreforskriften § 15: the attendance list is kept six months after the work ends.
    ATTENDANCE_RETENTION_DAYS = 183
    # Lists and exports mark a record whose phone time and receipt differ by more than this (fieldapp/phone_time.py).
    PHONE_CLOCK_MARK_MINUTES = 5
    # Set to serve the Strict-Transport-Security header (only behind HTTPS).
    HSTS = False


def from_environment():
    """Settings read from the environment (the README's configuration table)."""
    values = {}
    if "DATABASE_URL" in os.environ:
        values["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if "REDIS_URL" in os.environ:
        values["REDIS_URL"] = os.environ["REDIS_URL"]
    if env_flag("FIELDAPP_LOCAL_DEV"):
        values["SESSION_COOKIE_SECURE"] = False
    if env_flag("FIELDAPP_HSTS"):
        values["HSTS"] = True
    if "PUSH_ALLOWED_HOSTS" in os.environ:
        values["PUSH_ALLOWED_HOSTS"] = tuple(h.strip() for h in os.environ["PUSH_ALLOWED_HOSTS"].split(",") if h.strip())
    if os.environ.get("FIELDAPP_TRUSTED_PROXIES", "").strip():
        values["TRUSTED_PROXIES"] = int(os.environ["FIELDAPP_TRUSTED_PROXIES"])
    if "FIELDAPP_VAPID_SUBJECT" in os.environ:
        values["VAPID_SUBJECT"] = os.environ["FIELDAPP_VAPID_SUBJECT"]
    return values
