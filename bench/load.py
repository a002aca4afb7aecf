"""Requests/s and p99 per action on the cluster (issue 23), with one and with two web nodes behind Caddy.

Starts the cluster of `make cluster` (deploy/cluster.py: PostgreSQL, Redis, SeaweedFS, two gunicorn nodes, two
consumers, Caddy) in a temporary folder, plus a second Caddy that sends everything to the first node only. For
each action, CLIENTS signed-in phones (threads with their own HTTP session) send back to back for SECONDS:

    check-in     check-in / check-out posts from the outbox (X-Outbox, a UUID each)
    report       a hazard report with one 800 x 600 JPEG (as the phone sends it after shrinking)
    list page    the site's report list
    alert ack    acknowledging an alert (each phone a different alert each time)

Prints requests/s, p50 and p99 of 2xx answers, the errors, and the ratio two nodes / one node. Every answer
other than 2xx is counted as an error. The load generator runs on the same machine as the whole cluster:
read the figures with the machine's core count beside them (printed).
Usage: python bench/load.py [--seconds 10] [--clients 16] [--port 5682] [--web-workers 2] [--web-threads 8]
"""
import argparse
import io
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from PIL import Image  # noqa: E402

from deploy.cluster import Cluster  # noqa: E402
from fieldapp import clock  # noqa: E402
from fieldapp.accounts.service import HASHERS  # noqa: E402
from fieldapp.db import database, make_database  # noqa: E402
from fieldapp.demo import DEMO_PIN  # noqa: E402
from fieldapp.models import Membership, Site, User  # noqa: E402

SITE = "Bjørvika kontorbygg"
VERNEOMBUD = "+4790000003"
ACTIONS = ("check-in", "report", "list page", "alert ack")


def photos(count=8):
    out = []
    for n in range(count):
        rng = random.Random(n)
        image = Image.new("RGB", (800, 600), tuple(rng.randrange(256) for _ in range(3)))
        for _ in range(12):
            x, y = rng.randrange(700), rng.randrange(500)
            image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 100, y + 100))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


def csrf_from(html):
    return re.search(r'name="csrf[-_]token"[^>]*(?:value|content)="([^"]+)"', html).group(1)


def signed_in(base, phone):
    http = requests.Session()
    page = http.get(base + "/sign-in", timeout=30)
    response = http.post(base + "/sign-in", data={"phone": phone, "secret": DEMO_PIN,
                                                  "csrf_token": csrf_from(page.text)}, timeout=30)
    response.raise_for_status()
    who = http.get(base + "/whoami", timeout=30).json()
    http.headers["X-Outbox-Maker"] = f"{who['user']}.{who['session']}"
    http.csrf = csrf_from(http.get(base + "/", timeout=30).text)
    return http


def seed(clients):
    """`clients` workers on the demo site, with the demo PIN (hashed cheaply: verified from the hash itself)."""
    pin_hash = HASHERS["test"].hash(DEMO_PIN)
    site = Site.get(Site.name == SITE)
    with database.atomic():
        User.insert_many([dict(name=f"Last {i:02d}", phone=f"+479300{i:04d}", language="nb", password_hash=pin_hash,
                               language_confirmed_at=clock.utcnow()) for i in range(clients)]).execute()
        ids = [uid for (uid,) in User.select(User.id).where(User.phone.startswith("+4793")).tuples()]
        Membership.insert_many([{"user": uid, "site": site.id, "role": "worker"} for uid in ids]).execute()
    database.close()
    return site.id


def make_alerts(base, site_id, count):
    """`count` warnings from the verneombud to everyone on the site (each phone acknowledges each once)."""
    http = signed_in(base, VERNEOMBUD)
    ids = []
    for n in range(count):
        page = http.get(f"{base}/s/{site_id}/alerts/new", timeout=30)
        response = http.post(f"{base}/s/{site_id}/alerts/new", allow_redirects=False, timeout=30, data={
            "csrf_token": csrf_from(page.text), "uuid": str(uuid.uuid4()), "level": "info", "ack": "yes",
            "title": f"Melding {n}", "body": "Les og kvitter.", "audience": "all"})
        assert response.status_code == 303, response.status_code
        ids.append(int(re.search(r"/alerts/(\d+)", response.headers["Location"]).group(1)))
    return ids


def one_request(action, http, base, site_id, state):
    """Send one request of `action`; returns the response."""
    outbox = {"X-Outbox": "1"}
    if action == "check-in":
        path = "checkout" if state.get("in") else "checkin"
        response = http.post(f"{base}/s/{site_id}/{path}", data={"uuid": str(uuid.uuid4()), "all_worn": "y"},
                             headers=outbox, timeout=60)
        if response.ok:
            state["in"] = not state.get("in")
        return response
    if action == "report":
        blob = state["photos"][state.setdefault("n", 0) % len(state["photos"])]
        state["n"] += 1
        return http.post(f"{base}/s/{site_id}/reports/new", headers=outbox, timeout=60, data={
            "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls", "description": "Løst rekkverk"},
            files={"photos": ("IMG.jpg", blob, "image/jpeg")})
    if action == "list page":
        return http.get(f"{base}/s/{site_id}/reports", timeout=60)
    alert_id = state["alerts"].pop()
    return http.post(f"{base}/s/{site_id}/alerts/{alert_id}/ack", data={"uuid": str(uuid.uuid4())},
                     headers=outbox, timeout=60)


def measure(action, sessions, base, site_id, seconds, alerts, blobs):
    latencies, errors = [], []
    lock = threading.Lock()
    start = threading.Barrier(len(sessions) + 1)
    end_at = [0.0]

    def client(http):
        state = {"photos": blobs, "alerts": list(alerts)}
        mine, bad = [], []
        start.wait()
        while time.monotonic() < end_at[0]:
            if action == "alert ack" and not state["alerts"]:
                break
            began = time.perf_counter()
            try:
                response = one_request(action, http, base, site_id, state)
                ok = 200 <= response.status_code < 300
                reason = response.status_code
            except requests.RequestException as exc:
                ok, reason = False, type(exc).__name__
            if ok:
                mine.append(time.perf_counter() - began)
            else:
                bad.append(reason)
        if action == "check-in" and state.get("in"):
            one_request(action, http, base, site_id, state)  # checked out again for the next run (not timed)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(http,)) for http in sessions]
    for thread in threads:
        thread.start()
    end_at[0] = time.monotonic() + seconds
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join()
    took = time.monotonic() - began
    latencies.sort()
    p = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else (lambda q: 0)
    return {"rps": len(latencies) / took, "p50": p(0.50), "p99": p(0.99), "n": len(latencies), "errors": errors}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--port", type=int, default=5682, help="base port: the cluster takes it to +15")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes per node")
    parser.add_argument("--web-threads", type=int, default=8, help="threads per gunicorn process")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="fieldapp-load-")
    cluster = Cluster(folder, args.port, web_workers=args.web_workers, web_threads=args.web_threads,
                      log=lambda *a: print(*a, file=sys.stderr, flush=True))
    try:
        cluster.start()
        one_node = cluster.start_caddy(name="caddy-one", port=args.port + 14, nodes=("node1",),
                                       admin_port=args.port + 15)
        database.initialize(make_database(cluster.database_url))
        site_id = seed(args.clients)
        blobs = photos()
        print(f"{os.cpu_count()} cores on this machine, shared by the load generator (Python threads), PostgreSQL, "
              f"Redis, SeaweedFS, Caddy and the nodes; {args.clients} clients, {args.seconds:.0f} s per action, "
              f"each node {args.web_workers} gunicorn processes x {args.web_threads} threads.")
        results = {}
        for label, base in (("1 node", one_node), ("2 nodes", cluster.url)):
            sessions = [signed_in(base, f"+479300{i:04d}") for i in range(args.clients)]
            # Enough alerts that no phone runs out within the time: a phone acknowledges each once.
            alerts = make_alerts(base, site_id, int(args.seconds * 8) + 10)
            for action in ACTIONS:
                results[label, action] = r = measure(action, sessions, base, site_id, args.seconds, alerts, blobs)
                errors = f", {len(r['errors'])} errors ({sorted(set(map(str, r['errors'])))[:3]})" if r["errors"] else ""
                print(f"{label:8} {action:10} {r['rps']:7.1f} req/s  p50 {r['p50']:6.0f} ms  p99 {r['p99']:6.0f} ms"
                      f"  ({r['n']} ok{errors})", flush=True)
        print("two nodes / one node:")
        for action in ACTIONS:
            one, two = results["1 node", action], results["2 nodes", action]
            ratio = two["rps"] / one["rps"] if one["rps"] else float("nan")
            print(f"  {action:10} requests/s x{ratio:.2f}, p99 {one['p99']:.0f} -> {two['p99']:.0f} ms")
    finally:
        if database.obj is not None and not database.is_closed():
            database.close()
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
