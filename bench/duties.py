"""The responsibilities page of an organization with 40 sites (issue 24).

Prints, for SQLite and/or PostgreSQL, p50/p99 over --requests requests (Flask test client: the app's own time,
no network) of /s/<site>/duties?scope=org for 40 sites of 25 people, 50 reports, 200 check-ins, a round, a
meeting and a required course per site, and a verneombud term on each site; then the same for one site.
Target: the organization's page under 300 ms (p99).
Also prints the number of SQL statements each page runs (--show-queries: the most repeated ones).
Usage: python bench/duties.py [--database sqlite|postgres|both] [--requests 20] [--show-queries]
"""
import argparse
import collections
import logging
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fieldapp import clock, create_app  # noqa: E402
from fieldapp.accounts import service as accounts  # noqa: E402
from fieldapp.db import database, run_migrations  # noqa: E402
from fieldapp.duties import service as duties  # noqa: E402
from fieldapp.models import (CheckIn, Meeting, MeetingAttendance, Membership, Organization, Report,  # noqa: E402
                             SafetyRound, Site, SiteRequirement, User, VerneombudTerm)
from fieldapp.rounds import service as rounds  # noqa: E402

SITES = 40
PEOPLE_PER_SITE = 25
REPORTS_PER_SITE = 50
CHECKINS_PER_SITE = 200
TODAY = date(2026, 11, 30)


def make_data():
    org = Organization.create(name="Fjordbygg AS", org_number="923609016")
    manager = User.create(name="Bench Manager", phone="+4790000000", employer=org, is_org_admin=True)
    sites = []
    now = datetime.combine(TODAY, datetime.min.time())
    with database.atomic():
        version = None
        for i in range(SITES):
            site = Site.create(organization=org, name=f"Site {i:02}", address=f"Gate {i}", qr_token=f"bench-{i}")
            sites.append(site)
            Membership.create(user=manager, site=site, role="manager")
            people = []
            for j in range(PEOPLE_PER_SITE):
                user = User.create(name=f"Worker {i}-{j}", phone=f"+4791{i:03}{j:03}", employer=org)
                Membership.create(user=user, site=site, role="verneombud" if j == 0 else "worker")
                people.append(user)
            SiteRequirement.create(site=site, course="first_aid")  # the competence matrix has cells to count
            VerneombudTerm.create(organization=org, user=people[0], site=site, role="verneombud", how="election",
                                  elected_from=TODAY - timedelta(days=100),
                                  elected_to=duties.term_end(TODAY - timedelta(days=100)))
            for k in range(REPORTS_PER_SITE):
                Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=site, reporter=people[k % 25],
                              kind="hazard", category="falls", severity="low", happened_at=now - timedelta(days=k),
                              deadline=TODAY - timedelta(days=k % 7))
            CheckIn.insert_many([{"uuid": uuid.uuid4(), "site": site, "user": people[k % 25], "name": "W",
                                  "checked_in_at": now - timedelta(days=k % 90, hours=3),
                                  "checked_out_at": now - timedelta(days=k % 90, hours=1), "confirmed": "[]",
                                  "missing": "[]"} for k in range(CHECKINS_PER_SITE)]).execute()
            if version is None:
                version = rounds.current_version(rounds.templates_for(site)[0])
            SafetyRound.create(uuid=uuid.uuid4(), site=site, version=version, started_by=people[0],
                               started_at=now - timedelta(days=5))
            meeting = Meeting.create(organization=org, site=site, kind="hms", held_on=TODAY - timedelta(days=10))
            MeetingAttendance.create(meeting=meeting, user=people[0], name=people[0].name, side="verneombud")
    return manager, sites


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def time_page(client, url, requests):
    """(p50, p99 of wall time, p50 of this process's CPU time) in ms. The CPU time leaves out the database
    server's own work (PostgreSQL) but also the wait for a busy machine's cores, so it is steadier under load."""
    client.get(url)  # warm
    times, cpu = [], []
    for _ in range(requests):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), percentile(times, 0.99), statistics.median(cpu)


class QueryCounter(logging.Handler):
    """Counts the SQL statements peewee runs (it logs each one at DEBUG), grouped by their first words."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.counts = collections.Counter()

    def emit(self, record):
        sql = record.msg[0] if isinstance(record.msg, tuple) else str(record.msg)
        self.counts[" ".join(sql.split()[:12])] += 1


def count_queries(client, url, show):
    """The number of SQL statements one request of `url` runs; with `show`, the most repeated ones and the
    slowest (time in the database driver, cursor included)."""
    counter = QueryCounter()
    logger = logging.getLogger("peewee")
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    timings = []
    real = database.obj  # the Proxy's database
    plain = real.execute_sql

    def timed(sql, params=None, *rest, **named):
        t0 = time.perf_counter()
        try:
            return plain(sql, params, *rest, **named)
        finally:
            timings.append(((time.perf_counter() - t0) * 1000, " ".join(sql.split())[:150]))

    real.execute_sql = timed
    try:
        client.get(url)
    finally:
        del real.execute_sql
        logger.removeHandler(counter)
        logger.setLevel(level)
    if show:
        for sql, n in counter.counts.most_common(5):
            print(f"    {n:4} x {sql[:110]}")
        for ms, sql in sorted(timings, reverse=True)[:6]:
            print(f"    {ms:6.1f} ms {sql}")
        print(f"    {sum(ms for ms, _sql in timings):6.1f} ms in all {len(timings)} statements")
    return sum(counter.counts.values())


def run(kind, args):
    folder = tempfile.mkdtemp(prefix="fieldapp-bench-duties-")
    server = None
    if kind == "postgres":
        from pg_server import PostgresServer

        server = PostgresServer()
        server.start()
        server.create_database("bench")
        url = server.url("bench")
    else:
        url = f"sqlite:///{folder}/bench.db"
    try:
        app = create_app({"INSTANCE_PATH": f"{folder}/instance", "DATABASE_URL": url, "SESSION_COOKIE_SECURE": False,
                          "ARGON2_PROFILE": "test", "TESTING": True})
        clock.freeze(datetime.combine(TODAY, datetime.min.time()) + timedelta(hours=11))
        with app.app_context():
            run_migrations()
            manager, sites = make_data()
        database.execute_sql("ANALYZE")
        client = app.test_client()
        with app.test_request_context():
            token = accounts.start_device_session(manager, "bench")
        with client.session_transaction() as flask_session:
            flask_session["sid"] = token
        org_url, site_url = f"/s/{sites[0].id}/duties?scope=org", f"/s/{sites[0].id}/duties"
        p50, p99, cpu = time_page(client, org_url, args.requests)
        queries = count_queries(client, org_url, args.show_queries)
        print(f"{kind}: responsibilities page, {SITES} sites: p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
              f"app CPU p50 {cpu:.0f} ms, {queries} queries (target p99 < 300 ms)")
        p50, p99, cpu = time_page(client, site_url, args.requests)
        queries = count_queries(client, site_url, args.show_queries)
        print(f"{kind}: responsibilities page, one site: p50 {p50:.0f} ms, p99 {p99:.0f} ms, app CPU p50 {cpu:.0f} ms, "
              f"{queries} queries")
    finally:
        clock.freeze(None)
        if not database.is_closed():
            database.close()
        if server is not None:
            server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--show-queries", action="store_true", help="print the most repeated SQL statements")
    args = parser.parse_args()
    for kind in (("sqlite", "postgres") if args.database == "both" else (args.database,)):
        run(kind, args)


if __name__ == "__main__":
    main()
