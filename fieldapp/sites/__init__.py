"""Sites and the people on them: create and edit sites, add people, give each a role per site."""
from flask import Blueprint

bp = Blueprint("sites", __name__)

from . import views  # noqa: E402,F401
