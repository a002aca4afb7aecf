"""Alerts from the verneombud, foremen and managers: web push, inbox, acknowledgement and escalation."""
from flask import Blueprint

bp = Blueprint("alerts", __name__)

from . import service, views  # noqa: E402,F401

# At start: warn when push would fail quietly (default VAPID subject, subscriptions made with a lost key).
bp.record_once(lambda state: service.warn_about_push_setup(state.app))
