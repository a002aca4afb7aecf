"""The HMS figures' definitions, in one place: what counts as a lost-time injury, H1, H2, F, and the periods.

Sources (see /work/shared/notes/law-and-stats.md): EBA and BNL (H-verdi per million hours, rolling 12 months),
Norsk Industri's injury statistics (H2 counts medical treatment and restricted or alternative work; first aid
alone is not counted; an absence on a day off still makes a lost-time injury).

- Lost-time injury: a fatality, or an absence of at least ``min_days`` full days after the day of injury
  (the STATS_LOST_TIME_DAYS setting, default 1). When STATS_LOST_TIME_HOURS is set, the absence in hours is
  compared with it instead (for reporting another threshold).
- H1 = lost-time injuries x 1,000,000 / hours worked.
- H2 = (lost-time injuries + injuries with medical treatment or alternative work and no lost time)
  x 1,000,000 / hours worked.
- F = days of absence x 1,000,000 / hours worked. An injury's days of absence all belong to the period of
  the injury's date (the day on the site's wall clock), even when the absence runs into the next period.
- No hours: no figure (None), never a division by zero. Fewer hours than STATS_FEW_HOURS (default 100,000):
  the figure is shown with a note that it says little.

This module is pure: no database, no Flask. The service module feeds it.
"""
from dataclasses import dataclass
from datetime import date, timedelta

PER_HOURS = 1_000_000
DEFAULT_LOST_TIME_DAYS = 1
DEFAULT_FEW_HOURS = 100_000


@dataclass(frozen=True)
class Injury:
    """What the figures need of one injury report.

    day: the local date of the injury; absence_days: whole days of absence after the day of injury (None:
    not recorded); absence_hours: the absence in hours, or None; the flags as recorded by a manager.
    """

    day: date
    fatal: bool = False
    absence_beyond_day: bool = False
    absence_days: int | None = None
    absence_hours: float | None = None
    medical_treatment: bool = False
    alternative_work: bool = False
    site_id: int | None = None
    employer: str | None = None  # organisation number


def is_lost_time(injury, min_days=DEFAULT_LOST_TIME_DAYS, min_hours=None):
    """True for a fatality, or an absence of at least min_days full days after the day of injury.

    With min_hours (a number), the absence in hours is compared instead. An injury marked "absence beyond
    the day of injury" with no day count is a lost-time injury for the default threshold of one day.
    """
    if injury.fatal:
        return True
    if min_hours is not None:
        return (injury.absence_hours or 0) >= min_hours
    if injury.absence_days is not None:
        return injury.absence_days >= min_days
    return injury.absence_beyond_day and min_days <= 1


def is_recordable(injury, min_days=DEFAULT_LOST_TIME_DAYS, min_hours=None):
    """Counted in H2: a lost-time injury, or one with medical treatment or alternative work (not first aid)."""
    return (is_lost_time(injury, min_days, min_hours) or injury.medical_treatment or injury.alternative_work)


def rate(count, hours):
    """count x 1,000,000 / hours, or None when there are no hours (zero or less)."""
    if not hours or hours <= 0:
        return None
    return count * PER_HOURS / hours


@dataclass(frozen=True)
class Figures:
    """One period's figures. h1, h2, f: per million hours (None without hours); too_few: hours < the setting."""

    hours: float
    injuries: int
    lost_time: int
    recordable: int
    absence_days: int
    h1: float | None
    h2: float | None
    f: float | None
    too_few: bool


def figures(hours, injuries, min_days=DEFAULT_LOST_TIME_DAYS, min_hours=None, few_hours=DEFAULT_FEW_HOURS):
    """H1, H2 and F for hours (a number) and the injuries of the same period (Injury values)."""
    injuries = list(injuries)
    lost = sum(1 for i in injuries if is_lost_time(i, min_days, min_hours))
    recordable = sum(1 for i in injuries if is_recordable(i, min_days, min_hours))
    days = sum(i.absence_days or 0 for i in injuries)
    return Figures(hours=hours, injuries=len(injuries), lost_time=lost, recordable=recordable, absence_days=days,
                   h1=rate(lost, hours), h2=rate(recordable, hours), f=rate(days, hours),
                   too_few=hours < few_hours)


# --- periods ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Local dates start..end inclusive, with a kind ("rolling", "year", "quarter", "month", "range")."""

    start: date
    end: date
    kind: str = "range"

    def months(self):
        """The calendar months the period touches, as (first day, last day) clipped to the period."""
        out = []
        first = self.start.replace(day=1)
        while first <= self.end:
            following = next_month(first)
            out.append((max(first, self.start), min(following - timedelta(days=1), self.end)))
            first = following
        return out


def next_month(first):
    """The first day of the month after the month of `first`."""
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def month(year, number):
    return Period(date(year, number, 1), next_month(date(year, number, 1)) - timedelta(days=1), "month")


def quarter(year, number):
    """Quarter 1..4 of a year."""
    start = date(year, 3 * number - 2, 1)
    return Period(start, next_month(date(year, 3 * number, 1)) - timedelta(days=1), "quarter")


def year(number):
    return Period(date(number, 1, 1), date(number, 12, 31), "year")


def rolling_12(today):
    """The twelve months ending with `today`: from the day after the same date a year earlier."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return Period(year_ago + timedelta(days=1), today, "rolling")
