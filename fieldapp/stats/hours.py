"""Hours worked: summed by the database from check-ins, replaced by entered hours where those exist.

Check-ins: each closed check-in counts from in to out (real elapsed time, computed on UTC moments, so a day
when summer time starts or ends has 23 or 25 hours), per site and employer (the organisation number on the
check-in, as it was that day). A check-in is split where a period or month begins and ends, at local midnight
on the site's wall clock (the bounds come from clock.day_bounds); the hours of a month are therefore the sum
of its days' split hours. Open check-ins are not counted: they have no end yet, and the periodic task closes
each at the site's end of day (marked automatic), after which they count to that time.

Entered hours (EnteredHours: per site, employer and month) replace the check-in hours of the same site,
employer and month entirely: the page lists where both existed. A period that covers part of a month counts
that month's entered hours in proportion to its days.

Assumption, bounded: a check-in lasts less than LONGEST_CHECK_IN (they are closed at each day's end); rows
that began longer before the period are not read.
"""
from collections import defaultdict
from datetime import timedelta

from .. import clock
from ..db import database, is_sqlite
from ..models import EnteredHours

LONGEST_CHECK_IN = timedelta(days=31)


def _sql_parts():
    """Dialect pieces: the hours between two timestamps, and the two-argument min/max."""
    if is_sqlite():
        return ("((julianday({a}) - julianday({b})) * 24.0)", "MIN", "MAX")
    return ("(EXTRACT(EPOCH FROM ({a} - {b})) / 3600.0)", "LEAST", "GREATEST")


def _param(value):
    # SQLite stores peewee's DateTimeField as text "YYYY-MM-DD HH:MM:SS[.ffffff]": compare like with like.
    return value.isoformat(" ") if is_sqlite() else value


def month_bounds(sites, period):
    """For each month of period (definitions.Period): (first local day, last local day, start UTC, end UTC).

    The UTC bounds are local midnights of `sites[0]`'s zone (a period over several sites uses the first site's
    wall clock; every site of one organization is in Norway today)."""
    site = sites[0] if sites else None
    out = []
    for first, last in period.months():
        start, end = clock.day_bounds(first, last, site)
        out.append((first, last, start, end))
    return out


def checkin_hours(site_ids, bounds):
    """{(month index, site id, employer org number or None): [hours, check-ins, check-ins with nothing missing]}.

    bounds: month_bounds(...) (contiguous). One query: the database sums each check-in clipped to the period,
    and the part past its month's end is moved to the next month.
    """
    if not site_ids or not bounds:
        return {}
    hours, least, greatest = _sql_parts()
    p = database.param
    period_start, period_end = bounds[0][2], bounds[-1][3]
    ends = [b[3] for b in bounds]
    bucket = "CASE " + " ".join(f"WHEN checked_in_at < {p} THEN {i}" for i in range(len(ends))) + " END"
    bucket_end = "CASE " + " ".join(f"WHEN checked_in_at < {p} THEN {p}" for _ in ends) + " END"
    clipped_end = f"{least}(checked_out_at, {p})"
    whole = hours.format(a=clipped_end, b=f"{greatest}(checked_in_at, {p})")
    overflow = f"{greatest}(0, {hours.format(a=clipped_end, b=bucket_end)})"
    sql = (f"SELECT {bucket} AS b, site_id, employer_org_number, SUM({whole}), SUM({overflow}), COUNT(*), "
           f"SUM(CASE WHEN missing IS NULL OR missing IN ('[]', '') THEN 1 ELSE 0 END) "
           f"FROM check_in WHERE site_id IN ({', '.join([p] * len(site_ids))}) "
           f"AND checked_in_at >= {p} AND checked_in_at < {p} AND checked_out_at > {p} "
           f"GROUP BY 1, 2, 3")
    # The SELECT's parameters in order: bucket CASE, whole (end, start), overflow (end, bucket_end CASE).
    params = ([_param(e) for e in ends]  # bucket
              + [_param(period_end), _param(period_start)]  # whole
              + [_param(period_end)] + [x for e in ends for x in (_param(e), _param(e))]  # overflow
              + list(site_ids)
              + [_param(period_start - LONGEST_CHECK_IN), _param(period_end), _param(period_start)])
    out = defaultdict(lambda: [0.0, 0, 0])
    for b, site_id, org, total, spill, count, complete in database.execute_sql(sql, params).fetchall():
        total, spill = float(total or 0), float(spill or 0)
        row = out[(b, site_id, org)]
        row[0] += total - spill
        row[1] += count
        row[2] += int(complete or 0)
        if spill and b + 1 < len(bounds):
            out[(b + 1, site_id, org)][0] += spill
    return dict(out)


def count_by_month(table, column, site_ids, bounds):
    """{month index: rows of `table` (a trusted name) whose `column` falls in that month}, one query."""
    if not site_ids or not bounds:
        return {}
    p = database.param
    ends = [b[3] for b in bounds]
    bucket = "CASE " + " ".join(f"WHEN {column} < {p} THEN {i}" for i in range(len(ends))) + " END"
    sql = (f"SELECT {bucket}, COUNT(*) FROM {table} WHERE site_id IN ({', '.join([p] * len(site_ids))}) "
           f"AND {column} >= {p} AND {column} < {p} GROUP BY 1")
    params = [_param(e) for e in ends] + list(site_ids) + [_param(bounds[0][2]), _param(bounds[-1][3])]
    return {b: n for b, n in database.execute_sql(sql, params).fetchall()}


def entered_hours(site_ids, bounds):
    """{(month index, site id, org number): hours} from EnteredHours, prorated by the days of a partial month."""
    if not site_ids or not bounds:
        return {}
    firsts = {b[0].replace(day=1): i for i, b in enumerate(bounds)}
    rows = (EnteredHours.select(EnteredHours.site, EnteredHours.employer_org_number, EnteredHours.month,
                                EnteredHours.hours)
            .where(EnteredHours.site.in_(list(site_ids)) & EnteredHours.month.in_(list(firsts))).tuples())
    out = {}
    for site_id, org, month, value in rows:
        i = firsts[month]
        first, last = bounds[i][0], bounds[i][1]
        month_days = (_next_month(month) - month).days
        out[(i, site_id, org)] = value * ((last - first).days + 1) / month_days
    return out


def _next_month(first):
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def combined(site_ids, bounds):
    """(hours {(month index, site id, org): hours}, equipment {month index: (check-ins, complete)},
    replaced [(month index, site id, org)] where entered hours replaced check-in hours)."""
    from_checkins = checkin_hours(site_ids, bounds)
    entered = entered_hours(site_ids, bounds)
    hours, equipment, replaced = {}, defaultdict(lambda: [0, 0]), []
    for key, (value, count, complete) in from_checkins.items():
        hours[key] = value
        equipment[key[0]][0] += count
        equipment[key[0]][1] += complete
    for key, value in entered.items():
        if hours.get(key):
            replaced.append(key)
        hours[key] = value
    return hours, dict(equipment), sorted(replaced, key=lambda k: (k[0], k[1], k[2] or ""))
