"""The app shell: home screen, manifest, service worker, offline page, health check, error pages."""
from flask import Blueprint

bp = Blueprint("shell", __name__)

from . import views  # noqa: E402,F401
