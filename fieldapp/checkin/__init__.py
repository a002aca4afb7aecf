"""Check-in and check-out with protective equipment, the site poster, and the attendance list."""
from flask import Blueprint

bp = Blueprint("checkin", __name__)

from . import views  # noqa: E402,F401
