"""Alerts from the verneombud, foremen and managers: web push, inbox, acknowledgement and escalation."""
from flask import Blueprint

bp = Blueprint("alerts", __name__)

from . import views  # noqa: E402,F401
