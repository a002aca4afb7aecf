"""Serve the app with gunicorn and load a signed-in home page and a 50-row list page with wrk,
beside a hello-world Flask app in the same run. Prints requests/s, p50/p99 latency and the ratio.

Target: the list page reaches at least 15% of hello-world's requests/s, with p99 under 60 ms.
A bare peewee + Jinja page of 50 rows (bench/bare.py) runs beside them as the floor to compare with.
The on-site list's 15-second poll (htmx fragment, ON_SITE people checked in) is measured twice: sent
whole, and answered 304 to the If-None-Match of the fragment the phone already has (the ETag is made
before rendering, from what the fragment shows: fieldapp/htmx.py render_polled). So is the sender's
5-second poll of an alert's status (RECIPIENTS people, none has acknowledged yet).
Usage: python bench/pages.py [--seconds 5] [--rounds 3] [--connections 16]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As the Procfile serves the app (4 processes of 1 thread each).
GUNICORN = [sys.executable, "-m", "gunicorn", "--workers", os.environ.get("BENCH_WORKERS", "4"), "--threads", os.environ.get("BENCH_THREADS", "1"), "--worker-class", "gthread",
            "--log-level", "warning"]
ROWS = 50
ON_SITE = 20
RECIPIENTS = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def prepare(instance):
    """Migrate, make a site with ROWS people, and sign the manager in: returns (cookie, site id)."""
    os.environ["FIELDAPP_INSTANCE"] = instance
    os.environ["FIELDAPP_LOCAL_DEV"] = "1"
    sys.path.insert(0, str(ROOT))
    from fieldapp import create_app
    from fieldapp.accounts import service as accounts
    from fieldapp.db import database, run_migrations
    import uuid

    from fieldapp.models import CheckIn, Membership, Organization, Site, User, utcnow

    app = create_app()
    with app.app_context(), database.connection_context():
        run_migrations()
        org = Organization.create(name="Fjordbygg AS", org_number="923609016")
        site = Site.create(organization=org, name="Bench site", address="Benkveien 1", qr_token="bench")
        manager = User.create(name="Mona Leder", phone="+4790000001", employer=org,
                              password_hash=accounts.hash_secret("482913"))
        Membership.create(user=manager, site=site, role="manager")
        for i in range(ROWS - 1):
            user = User.create(name=f"Arbeider {i:02d}", phone=f"+47400{i:05d}", employer=org,
                               hms_card_number=f"HMS{i:06d}")
            Membership.create(user=user, site=site, role="worker")
            if i < ON_SITE:
                CheckIn.create(uuid=uuid.uuid4(), site=site, user=user, checked_in_at=utcnow(), name=user.name,
                               employer_name=org.name, hms_card_number=user.hms_card_number)
        site_id = site.id
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/sign-in", data={"phone": "+4790000001", "secret": "482913", "csrf_token": token})
    assert response.status_code == 303, response.status_code
    # A browser follows the redirect and keeps the cookie that page sets (it adds the CSRF token);
    # wrk replays one cookie, so take it as the browser holds it, or every request re-signs it.
    assert client.get("/").status_code == 200
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return f"{cookie.key}={cookie.value}", site_id


def prepare_alert(site_id):
    """After prepare(): an alert from the site's manager to RECIPIENTS of its people, none acknowledged yet
    (so the sender's status page polls). Returns the alert's id."""
    from fieldapp import create_app
    from fieldapp.db import database
    import uuid

    from fieldapp.models import Alert, AlertRecipient, Membership, User

    with create_app().app_context(), database.connection_context():
        manager = Membership.get((Membership.site == site_id) & (Membership.role == "manager")).user
        alert = Alert.create(uuid=uuid.uuid4(), site=site_id, sender=manager, level="warning", title="Kranløft",
                             body="Hold avstand fra kranen")
        for user in (User.select().join(Membership, on=(Membership.user == User.id))
                     .where((Membership.site == site_id) & (Membership.role == "worker"))
                     .order_by(User.id).limit(RECIPIENTS)):
            AlertRecipient.create(alert=alert, user=user, role="worker")
        return alert.id


def serve(target, port, env):
    return subprocess.Popen([*GUNICORN, "--bind", f"127.0.0.1:{port}", target], cwd=ROOT, env=env,
                            start_new_session=True)


def stop(process):
    os.killpg(process.pid, signal.SIGTERM)  # only the server this script started
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cpu_seconds(process):
    """CPU time (user + system) used so far by a server: its master and every worker (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in [process.pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def to_ms(value):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def fetch(url, headers):
    """(status, headers, body text) of a GET; a 304 is an answer here, not an error."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        if error.code != 304:
            raise
        return error.code, error.headers, error.read().decode()


def load(url, seconds, connections, headers=None, check=None):
    """wrk on one URL with the given request headers; check(status, body) is asserted first."""
    headers = headers or {}
    if check:
        status, _headers, body = fetch(url, headers)
        assert check(status, body), f"unexpected answer {status} at {url}"
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors}


def median_run(runs):
    """The run with the median requests/s (its latencies and errors come with it)."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["errors"] = sum(r["errors"] for r in runs)
    chosen["spread"] = (ordered[0]["rps"], ordered[-1]["rps"])
    chosen["cpu_ms"] = sorted(r["cpu_ms"] for r in runs)[len(runs) // 2]
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=8, help="seconds of load on each page before measuring")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench does it)")

    instance = tempfile.mkdtemp(prefix="fieldapp-bench-")
    cookie, site_id = prepare(instance)
    alert_id = prepare_alert(site_id)
    env = {**os.environ, "FIELDAPP_INSTANCE": instance, "FIELDAPP_LOCAL_DEV": "1",
           "PYTHONPATH": str(ROOT)}
    app_port, hello_port, bare_port = free_port(), free_port(), free_port()
    app_server = serve("fieldapp:create_app()", app_port, env)
    hello_server = serve("bench.hello:app", hello_port, env)
    bare_server = serve("bench.bare:app", bare_port, env)
    results = {}
    try:
        wait_up(f"http://127.0.0.1:{app_port}/healthz")
        wait_up(f"http://127.0.0.1:{hello_port}/")
        wait_up(f"http://127.0.0.1:{bare_port}/")
        base = f"http://127.0.0.1:{app_port}"
        signed_in = {"Cookie": cookie}
        on_site = f"{base}/s/{site_id}/on-site"
        poll = {**signed_in, "HX-Request": "true", "HX-Target": "on-site"}
        etag = fetch(on_site, poll)[1]["ETag"]
        alert_status = f"{base}/s/{site_id}/alerts/{alert_id}/status"
        status_poll = {**signed_in, "HX-Request": "true", "HX-Target": "alert-status"}
        status_etag = fetch(alert_status, status_poll)[1]["ETag"]
        targets = {
            "hello world": (f"http://127.0.0.1:{hello_port}/", None, None, hello_server),
            "bare 50 rows": (f"http://127.0.0.1:{bare_port}/", None,
                             lambda s, b: b.count('class="row person"') == ROWS, bare_server),
            "home page": (f"{base}/", signed_in, lambda s, b: "Hei, Mona" in b, app_server),
            f"list page ({ROWS} rows)": (f"{base}/s/{site_id}/people", signed_in,
                                         lambda s, b: b.count('class="row person"') == ROWS, app_server),
            f"on-site poll ({ON_SITE}) 200": (on_site, poll,
                                              lambda s, b: s == 200 and b.count('class="row"') == ON_SITE,
                                              app_server),
            "on-site poll 304": (on_site, {**poll, "If-None-Match": etag}, lambda s, b: s == 304 and not b,
                                 app_server),
            f"alert status ({RECIPIENTS}) 200": (alert_status, status_poll,
                                                 lambda s, b: s == 200 and b.count('class="recipient') == RECIPIENTS,
                                                 app_server),
            "alert status 304": (alert_status, {**status_poll, "If-None-Match": status_etag},
                                 lambda s, b: s == 304 and not b, app_server),
        }
        for url, jar, _check, _server in targets.values():  # warm every worker up
            load(url, args.warmup, args.connections, jar)
        # Interleaved rounds, median per page: this machine's speed drifts from minute to minute.
        # Server CPU time per request is the steadier figure of the two.
        runs = {name: [] for name in targets}
        for _round in range(args.rounds):
            for name, (url, jar, check, server) in targets.items():
                before = cpu_seconds(server)
                run = load(url, args.seconds, args.connections, jar, check)
                run["cpu_ms"] = (cpu_seconds(server) - before) / max(1, run["rps"] * args.seconds) * 1000
                runs[name].append(run)
        results = {name: median_run(rs) for name, rs in runs.items()}
    finally:
        for server in (app_server, hello_server, bare_server):
            stop(server)
        shutil.rmtree(instance, ignore_errors=True)

    hello = results["hello world"]["rps"]
    print(f"\n{args.connections} connections, {args.rounds} interleaved rounds of {args.seconds} s, median round; "
          f"gunicorn {GUNICORN[GUNICORN.index('--workers') + 1]} workers x {GUNICORN[GUNICORN.index('--threads') + 1]} thread, {os.cpu_count()} cores, loopback\n")
    print(f"{'page':<24}{'req/s':>8}{'(min-max)':>14}{'p50 ms':>9}{'p99 ms':>9}{'vs hello':>10}"
          f"{'cpu ms/req':>12}{'errors':>8}")
    for name, r in results.items():
        spread = f"{r['spread'][0]:.0f}-{r['spread'][1]:.0f}"
        print(f"{name:<24}{r['rps']:>8.0f}{spread:>14}{r['p50']:>9.1f}{r['p99']:>9.1f}"
              f"{r['rps'] / hello:>9.1%}{r['cpu_ms']:>12.2f}{r['errors']:>8}")
    listing = results[f"list page ({ROWS} rows)"]
    ok = listing["rps"] / hello >= 0.15 and listing["p99"] < 60 and listing["errors"] == 0
    print(f"\ntarget (list page >= 15% of hello world, p99 < 60 ms): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
