"""Hazard and incident reports (RUH): report in seconds with photos, offline too; follow them up."""
from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import views  # noqa: E402,F401
