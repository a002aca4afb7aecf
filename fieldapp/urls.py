"""URL converters: an id in a path is a row id, so it fits the database's 64-bit integer or names nothing.

Werkzeug's own `int` converter reads any run of digits ("99999999999999999999999"), which then overflows in
the database driver (OverflowError: a 500) on every `<int:...>` route. `BoundedInt` replaces it app-wide
(`init_app`, before any blueprint adds its rules): ASCII digits only, at most MAX_ID, else no route matches
(404).
"""
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1  # BIGINT / SQLite INTEGER


class BoundedInt(IntegerConverter):
    """`<int:name>`: an id from 0 to MAX_ID written in ASCII digits; anything else is a 404."""

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=min_of(max), signed=signed)


def min_of(value):
    """The smaller of value and MAX_ID (a route may bound its id lower, never higher)."""
    return MAX_ID if value is None else min(value, MAX_ID)


def init_app(app):
    """Make BoundedInt the app's `int` converter; call before the blueprints are registered."""
    app.url_map.converters["int"] = BoundedInt
