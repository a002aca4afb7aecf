"""Walkaround figures (issue 18), against gunicorn as the Procfile serves the app, on 127.0.0.1 only:

1. A 120-item round sent from the outbox at once: the round, then 120 answers one after another (as the
   phone's outbox sends them, each its own post with a UUID), 20 of them with a 1600 px photo as the browser
   sends it. Prints the wall time, the answers per second and the server's CPU per item (all its processes,
   /proc), and checks that exactly 120 answers and 20 photos were saved.
2. The round list of a site with 500 rounds (each with answers and findings): REQUESTS sequential GETs,
   p50/p99 latency. Target: p99 under 100 ms.

Usage: python -m bench.rounds [--requests 300] [--port 5440]
"""
import argparse
import io
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from PIL import Image

from bench.pages import cpu_seconds, serve, stop, wait_up

ROOT = Path(__file__).resolve().parent.parent
ITEMS, PHOTOS, ROUNDS = 120, 20, 500


def photo_bytes(n):
    """A 1600x1200 JPEG with some texture, as the browser's shrink step sends it (~0.3-0.6 MB)."""
    image = Image.effect_noise((1600, 1200), 40 + n).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def prepare(instance):
    """Migrate; a site with a 120-item checklist, a verneombud, and a second site with 500 rounds.
    Returns (cookie, site id, version id, list site id)."""
    os.environ["FIELDAPP_INSTANCE"] = instance
    os.environ["FIELDAPP_LOCAL_DEV"] = "1"
    sys.path.insert(0, str(ROOT))
    from fieldapp import create_app
    from fieldapp.accounts import service as accounts
    from fieldapp.db import database, run_migrations
    from fieldapp.models import (ChecklistTemplate, ChecklistVersion, Membership, Organization, Report,
                                 RoundAnswer, SafetyRound, Site, User, utcnow)

    app = create_app()
    with app.app_context(), database.connection_context():
        run_migrations()
        org = Organization.create(name="Fjordbygg AS", org_number="923609016")
        site = Site.create(organization=org, name="Bench site", address="Benkveien 1", qr_token="bench")
        busy = Site.create(organization=org, name="Busy site", address="Benkveien 2", qr_token="busy")
        vo = User.create(name="Vera Verneombud", phone="+4790000001", employer=org,
                         password_hash=accounts.hash_secret("482913"))
        Membership.create(user=vo, site=site, role="verneombud")
        Membership.create(user=vo, site=busy, role="verneombud")
        sections = [{"key": f"s{s}", "category": "other", "title": {"en": f"Section {s}"},
                     "items": [{"key": f"s{s}i{i}", "text": {"en": f"Item {s}.{i}"}} for i in range(12)]}
                    for s in range(ITEMS // 12)]
        template = ChecklistTemplate.create(organization=org, names={"en": "Bench"}, current=1)
        version = ChecklistVersion.create(template=template, number=1, sections=sections)
        now = utcnow()
        with database.atomic():
            for n in range(ROUNDS):
                r = SafetyRound.create(uuid=uuid.uuid4(), site=busy, version=version, started_by=vo,
                                       started_at=now, received_at=now, finished_at=now)
                for i in range(5):
                    finding = None
                    if i < 2:
                        finding = Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=busy, reporter=vo,
                                                kind="finding", category="other", severity="medium",
                                                description=f"Finding {n}.{i}", happened_at=now,
                                                status="closed" if (n + i) % 3 else "open")
                    RoundAnswer.create(uuid=uuid.uuid4(), round=r, item_key=f"s0i{i}",
                                       answer="deviation" if finding else "ok", answered_by=vo, answered_at=now,
                                       finding=finding)
        ids = (site.id, version.id, busy.id)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/sign-in", data={"phone": "+4790000001", "secret": "482913", "csrf_token": token})
    assert response.status_code == 303, response.status_code
    assert client.get("/").status_code == 200
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    who = client.get("/whoami").get_json()
    return cookie, f"{who['user']}.{who['session']}", ids


def count_saved(round_uuid):
    """(answers, photos) saved for the round, read from the database the server wrote."""
    from fieldapp import create_app
    from fieldapp.db import database
    from fieldapp.models import RoundAnswer, RoundPhoto, SafetyRound

    app = create_app()
    with app.app_context(), database.connection_context():
        answers = RoundAnswer.select().join(SafetyRound).where(SafetyRound.uuid == round_uuid)
        return answers.count(), RoundPhoto.select().where(RoundPhoto.answer.in_(answers)).count()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--port", type=int, default=5440)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        cookie, maker, (site_id, version_id, busy_id) = prepare(instance)
        env = {**os.environ, "FIELDAPP_INSTANCE": instance, "FIELDAPP_LOCAL_DEV": "1"}
        server = serve("fieldapp:create_app()", args.port, env)
        base = f"http://127.0.0.1:{args.port}"
        try:
            wait_up(base + "/healthz")
            session = requests.Session()
            session.cookies.set(cookie.key, cookie.value, domain="127.0.0.1")
            headers = {"X-Outbox": "1", "X-Outbox-Maker": maker}
            photos = [photo_bytes(n) for n in range(PHOTOS)]
            round_uuid = str(uuid.uuid4())
            cpu0, t0 = cpu_seconds(server), time.perf_counter()
            made = session.post(f"{base}/s/{site_id}/rounds/new", data={"uuid": round_uuid, "version": version_id},
                                headers=headers, timeout=30)
            assert made.status_code == 201, made.text
            statuses = []
            for n in range(ITEMS):
                section, item = divmod(n, 12)
                data = {"uuid": str(uuid.uuid4()), "version": version_id, "item": f"s{section}i{item}",
                        "answer": "deviation" if n % 6 == 0 else "ok", "note": "Bench finding" if n % 6 == 0 else ""}
                files = [("photos", (f"{n}.jpg", photos[n // 6], "image/jpeg"))] if n % 6 == 0 else None
                statuses.append(session.post(f"{base}/s/{site_id}/rounds/{round_uuid}/answers", data=data,
                                             files=files, headers=headers, timeout=60).status_code)
            wall, cpu = time.perf_counter() - t0, cpu_seconds(server) - cpu0
            answers, saved_photos = count_saved(round_uuid)
            print(f"round of {ITEMS} items, {PHOTOS} with a photo, sent one after another: {wall:.2f} s "
                  f"({ITEMS / wall:.1f} answers/s); server CPU {cpu:.2f} s = {1000 * cpu / ITEMS:.1f} ms per item; "
                  f"statuses {sorted(set(statuses))}; saved {answers} answers, {saved_photos} photos")
            assert answers == ITEMS and saved_photos == PHOTOS

            url = f"{base}/s/{busy_id}/rounds"
            assert session.get(url, timeout=10).status_code == 200
            times = []
            cpu0 = cpu_seconds(server)
            for _ in range(args.requests):
                start = time.perf_counter()
                response = session.get(url, timeout=10)
                times.append(1000 * (time.perf_counter() - start))
                assert response.status_code == 200
            list_cpu = 1000 * (cpu_seconds(server) - cpu0) / args.requests
            times.sort()
            p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
            print(f"round list of a site with {ROUNDS} rounds: {args.requests} GETs, p50 {statistics.median(times):.1f} ms, "
                  f"p99 {p99:.1f} ms (target < 100 ms): {'OK' if p99 < 100 else 'OVER'}; "
                  f"server CPU {list_cpu:.1f} ms per request")
            # Latency on a shared machine is mostly waiting for a core: say how busy it was.
            print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        finally:
            stop(server)


if __name__ == "__main__":
    main()
