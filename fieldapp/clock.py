"""One clock: "now" and "today" on a site, in the site's time zone; stored times shown in local time.

Times are stored as naive UTC (``utcnow``). A day (attendance lists, deadlines, "expired", "overdue") is a
day on the site's wall clock: ``Site.time_zone`` (an IANA name), or the ``BABEL_DEFAULT_TIMEZONE`` setting
(Europe/Oslo) for a site without one and outside a site. The server's own time zone is never used, so a
server on UTC does not show yesterday between 23:00 and 24:00 UTC (00:00-01:00 in Oslo, winter).

Tests control time in one place: ``freeze(moment)`` makes ``utcnow`` (and so every default, "now" and
"today") return that moment until ``freeze(None)``.

Templates format with the filters ``|date``, ``|time`` and ``|datetime`` (Babel's formatting in the
reader's language, after converting to the site's time zone), never with ``strftime``; Python code calls
``format_date`` and friends here, never Flask-Babel's, so that English reads day-month-year
(``i18n.formatting_locale``: en_GB, "30/11/2026", "30 Nov 2026", "14:05").
"""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import current_app, g, has_app_context, has_request_context

from .i18n import formatting_locale

DEFAULT_ZONE = "Europe/Oslo"

_frozen = None


def freeze(moment):
    """Make ``utcnow`` return ``moment`` (naive UTC, or aware: converted) until ``freeze(None)``; for tests."""
    global _frozen
    if moment is not None and moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    _frozen = moment


def utcnow():
    """Now as naive UTC (stored the same way in SQLite and PostgreSQL): the one source of the time."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None)


def zone_name(site=None):
    """The IANA time zone name of ``site`` (a Site or None: the request's ``g.site``, else the setting)."""
    if site is None and has_request_context():
        site = g.get("site")
    name = getattr(site, "time_zone", None)
    if not name and has_app_context():
        name = current_app.config.get("BABEL_DEFAULT_TIMEZONE")
    return name or DEFAULT_ZONE


def zone(site=None):
    """The ZoneInfo of ``site`` (see ``zone_name``)."""
    return ZoneInfo(zone_name(site))


def now(site=None):
    """Now on the site's wall clock, as an aware datetime in its zone."""
    return utcnow().replace(tzinfo=timezone.utc).astimezone(zone(site))


def today(site=None):
    """Today's date on the site's wall clock."""
    return now(site).date()


def local(moment, site=None):
    """A stored moment (naive UTC; aware is converted) as an aware datetime in the site's zone, or None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone(site))


def to_utc(moment, site=None):
    """A moment as naive UTC: aware is converted; naive is read as the site's wall-clock time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(site))
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def at(day, wall, site=None):
    """Naive UTC of wall-clock time ``wall`` (a time) on local date ``day`` at the site.

    On the night summer time starts a wall time in the skipped hour is read with the offset before the change
    (02:30 is 03:30 summer time); on the night it ends, the first of the two 02:30s (PEP 495 ``fold=0``).
    """
    return to_utc(datetime.combine(day, wall), site)


def day_bounds(start_day, end_day, site=None):
    """(start, end) naive UTC of the local days start_day..end_day inclusive: start <= t < end.

    A day is 23 or 25 hours long when summer time starts or ends.
    """
    return at(start_day, time(0), site), at(end_day + timedelta(days=1), time(0), site)


def format_date(value, format="short", site=None):
    """A date (or ISO date text), or a stored moment's local date, in the reader's language ("05.03.2026" /
    "05/03/2026"); "" for None. Raises TypeError for anything else, ValueError for text that is no ISO date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, site).date()
    elif isinstance(value, str):
        value = date.fromisoformat(value)  # a date kept as ISO text in a record's JSON (a timeline entry)
    elif not isinstance(value, date):
        raise TypeError(f"not a date: {value!r}")
    return babel_dates.format_date(value, format, locale=formatting_locale())


def format_time(value, format="short", site=None):
    """A stored moment's local time of day in the reader's language ("14:05" in nb and en); "" for None."""
    if value is None:
        return ""
    return babel_dates.format_time(local(value, site), format, locale=formatting_locale())


def format_datetime(value, format="short", site=None):
    """A stored moment's local date and time in the reader's language ("05.03.2026, 14:05"); "" for None."""
    if value is None:
        return ""
    return babel_dates.format_datetime(local(value, site), format, locale=formatting_locale())


def format_month(value):
    """A date's month and year in the reader's language, the month written out: "desember 2025" (nb),
    "December 2025" (en), "grudzień 2025" (pl), "2025 m. gruodis" (lt); "" for None. The short form (Babel's
    "yMMM") is digits in Lithuanian ("2025-12"). Raises TypeError for anything but a date."""
    if value is None:
        return ""
    if not isinstance(value, date):
        raise TypeError(f"not a date: {value!r}")
    return babel_dates.format_skeleton("yMMMM", value, locale=formatting_locale())


def format_month_short(value):
    """A date's month, abbreviated as it stands alone in the reader's language (CLDR's "LLL"): "des" (nb), "Dec"
    (en), "gru" (pl), "gruod." (lt), "груд." (uk); "" for None. Raises TypeError for anything but a date. A chart's
    bar label: month_labels puts the year beside it where the year starts."""
    if value is None:
        return ""
    if not isinstance(value, date):
        raise TypeError(f"not a date: {value!r}")
    return babel_dates.format_date(value, "LLL", locale=formatting_locale())


def month_labels(firsts, every=1):
    """[(short month, year or "")] for consecutive months given by their first days: the year ("2025") beside the
    first month and each January, so that twelve bars "des jan feb" read as December 2025 to February 2026.
    every: only every k-th month is labelled (a long chart): the year goes beside the first labelled month of
    each year, and the months between get ("", "")."""
    out, shown = [], None
    for i, first in enumerate(firsts):
        if i % every:
            out.append(("", ""))
            continue
        out.append((format_month_short(first), str(first.year) if first.year != shown else ""))
        shown = first.year
    return out


def init_app(app):
    """Templates get the filters ``date``, ``time``, ``datetime``, ``month`` and the global ``today()`` (the
    site's)."""
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.filters["time"] = format_time
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.globals["today"] = today
