"""Accounts: sign-in with phone and PIN/password, enrollment codes, device sessions, the profile."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

from . import views  # noqa: E402,F401
