"""Hours worked: check-in hours summed per site, employer and local day, replaced by entered hours where those exist.

Check-ins: each closed check-in counts from in to out (real elapsed time, computed on UTC moments, so a day
when summer time starts or ends has 23 or 25 hours), per site and employer (the organisation number on the
check-in, as it was that day). The hours after local midnight on the site's wall clock belong to the next day
(the "spill" of the day the check-in began), so a month or any period starts and ends at local midnight.
Open check-ins are not counted: they have no end yet, and the periodic task closes each at the site's end of
day (marked automatic), after which they count to that time.

The sums per day (HoursDay) are derived data. Database triggers (migrations/015_stats.py) mark every day whose
check-ins are inserted, changed or deleted (HoursDirty), whatever code wrote them; `refresh(sites)` sums those
days again before the figures are read (and the periodic task in tasks.py does it for every site), so the
figures are always those of the check-ins as they are. The statistics then read some 40,000 day rows for a
year of 40 sites instead of 400,000 check-ins.

Entered hours (EnteredHours: per site, employer and month) replace the check-in hours of the same site,
employer and month entirely: the page lists where both existed. A period that covers part of a month counts
that month's entered hours in proportion to its days.

Assumption: a check-in's spill (after the midnight following its start) is counted in the next day, even
beyond it; check-ins are closed at each day's end, so this never matters in practice.
"""
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from peewee import fn

from .. import clock, isolate
from ..db import database, is_sqlite
from ..models import CheckIn, EnteredHours, HoursDay, HoursDirty, Site

def _param(value):
    # SQLite stores peewee's DateTimeField as text "YYYY-MM-DD HH:MM:SS[.ffffff]" (and dates as "YYYY-MM-DD"):
    # compare like with like.
    return value.isoformat(" ") if is_sqlite() and isinstance(value, datetime) else (
        value.isoformat() if is_sqlite() else value)


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


# --- the day sums (HoursDay), kept up to date from the marks the triggers leave (HoursDirty) -----------------

def refresh(sites):
    """Sum again the local days of `sites` whose check-ins changed (HoursDirty marks), in one transaction.

    A mark names a check-in's UTC date; the local days around it (the day before, the day, the day after) are
    summed again from the check-ins that began on them. Marks written while this runs have higher ids and are
    kept for the next refresh. Returns how many (site, day) sums were made.
    """
    by_id = {s.id: s for s in sites}
    if not by_id:
        return 0
    with database.atomic():
        if not is_sqlite():
            database.execute_sql("SELECT pg_advisory_xact_lock(20015)")  # one refresher at a time
        marks = (HoursDirty.select(HoursDirty.site_id, HoursDirty.utc_day, fn.MAX(HoursDirty.id))
                 .where(HoursDirty.site_id.in_(list(by_id)))
                 .group_by(HoursDirty.site_id, HoursDirty.utc_day).tuples())
        days, top = defaultdict(set), 0
        for site_id, utc_day, mark_id in marks:
            top = max(top, mark_id)
            for shift in (-1, 0, 1):
                days[site_id].add(utc_day + timedelta(days=shift))
        made, failed = 0, set()
        for site_id, wanted in days.items():
            # One site's unexpected error is logged and rolled back to its savepoint; its marks are kept for
            # the next refresh, and the other sites are summed (fieldapp/isolate.py).
            ok, n = isolate.attempt("hours refresh", site_id, _sum_site, by_id[site_id], wanted)
            if ok:
                made += n
            else:
                failed.add(site_id)
        if top:
            HoursDirty.delete().where(HoursDirty.site_id.in_([i for i in by_id if i not in failed])
                                      & (HoursDirty.id <= top)).execute()
    return made


def _sum_site(site, wanted):
    """Sum again one site's local days `wanted` (a set of dates), run by consecutive run. Returns rows written."""
    return sum(_sum_days(site, run[0], run[-1]) for run in _runs(sorted(wanted)))


def _runs(days):
    """Consecutive dates grouped: [[d1, d2, d3], [d7], ...] (bounded by the dates given)."""
    runs = []
    for day in days:
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _sum_days(site, first, last):
    """HoursDay rows of `site` for local days first..last, made anew from the closed check-ins that began on
    them (read in one query by the (site, checked_in_at) index). Returns the number of rows written."""
    tz = clock.zone(site)
    ends = {}
    day = first
    while day <= last:
        ends[day] = clock.day_bounds(day, day, site)[1]
        day += timedelta(days=1)
    start, end = clock.day_bounds(first, last, site)
    sums = defaultdict(lambda: [0.0, 0.0, 0, 0])
    rows = (CheckIn.select(CheckIn.employer_org_number, CheckIn.checked_in_at, CheckIn.checked_out_at,
                           CheckIn.missing)
            .where((CheckIn.site == site) & (CheckIn.checked_in_at >= start) & (CheckIn.checked_in_at < end)
                   & CheckIn.checked_out_at.is_null(False))
            .tuples().iterator())
    for org, checked_in, checked_out, missing in rows:
        local_day = checked_in.replace(tzinfo=timezone.utc).astimezone(tz).date()
        total = sums[(org, local_day)]
        total[0] += max(0.0, (checked_out - checked_in).total_seconds() / 3600)
        total[1] += max(0.0, (checked_out - max(checked_in, ends[local_day])).total_seconds() / 3600)
        total[2] += 1
        total[3] += 0 if missing else 1
    HoursDay.delete().where((HoursDay.site == site) & (HoursDay.day >= first) & (HoursDay.day <= last)).execute()
    if sums:
        HoursDay.insert_many([(site.id, org, d, h, spill, n, ok) for (org, d), (h, spill, n, ok) in sums.items()],
                             fields=[HoursDay.site, HoursDay.employer_org_number, HoursDay.day, HoursDay.hours,
                                     HoursDay.spill, HoursDay.checkins, HoursDay.complete]).execute()
    return len(sums)


def checkin_hours(site_ids, bounds):
    """{(month index, site id, employer org number or None): [hours, check-ins, check-ins with nothing missing]}.

    bounds: month_bounds(...) (contiguous). The database sums the day rows per month; a day's spill (hours after
    its midnight) moves to the next day, so the last day of a month gives its spill to the next month and the
    day before the period gives its spill to the first. Call refresh() first.
    """
    if not site_ids or not bounds:
        return {}
    p = database.param
    lasts = [b[1] for b in bounds]
    first_day, last_day = bounds[0][0], bounds[-1][1]
    sites_sql = ", ".join([p] * len(site_ids))
    bucket = "CASE " + " ".join(f"WHEN day <= {p} THEN {i}" for i in range(len(lasts))) + " END"
    sql = (f"SELECT {bucket}, site_id, employer_org_number, SUM(hours), SUM(checkins), SUM(complete) "
           f"FROM hours_day WHERE site_id IN ({sites_sql}) AND day >= {p} AND day <= {p} GROUP BY 1, 2, 3")
    params = [_param(d) for d in lasts] + list(site_ids) + [_param(first_day), _param(last_day)]
    out = defaultdict(lambda: [0.0, 0, 0])
    for b, site_id, org, hours, count, complete in database.execute_sql(sql, params).fetchall():
        out[(b, site_id, org)] = [float(hours or 0), int(count or 0), int(complete or 0)]
    # The spills that cross a month's or the period's start.
    edges = {first_day - timedelta(days=1): 0}
    for i, last in enumerate(lasts):
        edges[last] = i + 1
    spills = (HoursDay.select(HoursDay.day, HoursDay.site, HoursDay.employer_org_number, HoursDay.spill)
              .where(HoursDay.site.in_(list(site_ids)) & HoursDay.day.in_(list(edges)) & (HoursDay.spill > 0))
              .tuples())
    for day, site_id, org, spill in spills:
        to = edges[day]
        if to > 0:
            out[(to - 1, site_id, org)][0] -= spill
        if to < len(bounds):
            out[(to, site_id, org)][0] += spill
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
    from_checkins = checkin_hours(site_ids, bounds)  # refresh() first
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


def drop_orphan_marks():
    """Delete the marks of sites that no longer exist (their check-ins went with them); returns how many."""
    return HoursDirty.delete().where(HoursDirty.site_id.not_in(Site.select(Site.id))).execute()
