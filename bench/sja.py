"""The largest SJA the form allows (20 steps x 10 hazards, 60 participants who have all signed): how long the
server takes to save it from the phone's form, to show its page and to make its PDF. In-process (Flask's test
client, SQLite in a temporary folder), so the figures are the app's own work without the network.

The texts are ordinary words (about 220 characters per cause and per measure). There is no target in issue 18
for these; they show that the caps (service.MAX_STEPS, MAX_HAZARDS,
MAX_PARTICIPANTS) keep one SJA's cost small. Usage: python bench/sja.py [--repeat 30]
"""
import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fieldapp import create_app  # noqa: E402
from fieldapp.accounts import service as accounts  # noqa: E402
from fieldapp.db import database  # noqa: E402
from fieldapp.models import SjaParticipant, SjaSignature  # noqa: E402
from fieldapp.sja import service  # noqa: E402
from helpers import PIN, CsrfClient, World, migrate_fresh, test_config  # noqa: E402


def figures(label, samples):
    """samples: [(wall seconds, CPU seconds of this process)]. CPU time is what the request itself cost; the
    wall time also holds the waits of a machine shared with other work."""
    ordered = sorted(wall for wall, _cpu in samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    cpu = statistics.median(cpu for _wall, cpu in samples)
    print(f"{label:<30} wall p50 {statistics.median(ordered) * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  "
          f"CPU p50 {cpu * 1000:7.1f} ms  (n={len(ordered)})")


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.sample = (time.perf_counter() - self.wall, time.process_time() - self.cpu)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(test_config(Path(tmp)))
        app.test_client_class = CsrfClient
        migrate_fresh(app)
        world = World(accounts.HASHERS["test"].hash(PIN))
        foreman = world.people["foreman"]
        people = [world.person(f"+4792{n:06d}", f"Person {n}", "worker", world.site)
                  for n in range(service.MAX_PARTICIPANTS - 1)]
        client = app.test_client()
        with app.test_request_context():
            token = accounts.start_device_session(foreman, "bench")
        with client.session_transaction() as flask_session:
            flask_session["sid"] = token
        form = {"title": "Stor jobb", "place": "Tak", "responsible": str(foreman.id),
                "participants": [str(p.id) for p in people], "step-0-title": "x"}
        for i in range(service.MAX_STEPS):
            form[f"step-{i}-title"] = f"Trinn {i + 1}"
            for j in range(service.MAX_HAZARDS):
                prefix = f"step-{i}-hazard-{j}"
                form.update({f"{prefix}-cause": f"Fare {i}.{j}: " + "gnister fra sveising kan tenne isolasjonen " * 5, f"{prefix}-probability": "4",
                             f"{prefix}-severity": "5", f"{prefix}-measure": "Tiltak: " + "brannvakt med slokkeapparat i en time etter arbeidet " * 4,
                             f"{prefix}-measure_by": "Bas"})
        saves = []
        for _ in range(max(3, args.repeat // 5)):
            with Timer() as timer:
                response = client.post(f"/s/{world.site.id}/sja/new", data={**form, "uuid": str(uuid.uuid4())},
                                       headers={"X-Outbox": "1"})
            saves.append(timer.sample)
            assert response.status_code == 201, response.get_data(as_text=True)
        sja = service.Sja.select().order_by(service.Sja.id.desc()).get()
        for person in [p.user for p in SjaParticipant.select().where(SjaParticipant.sja == sja)]:
            SjaSignature.create(uuid=uuid.uuid4(), sja=sja, user=person, revision=1, method="session", language="nb",
                                device_user=person, signed_at=service.utcnow())
        pages, pdfs = [], []
        for _ in range(args.repeat):
            with Timer() as timer:
                assert client.get(f"/s/{world.site.id}/sja/{sja.id}").status_code == 200
            pages.append(timer.sample)
            with Timer() as timer:
                pdf = client.get(f"/s/{world.site.id}/sja/{sja.id}.pdf")
            pdfs.append(timer.sample)
        print(f"SJA: {service.MAX_STEPS} steps x {service.MAX_HAZARDS} hazards, "
              f"{SjaParticipant.select().where(SjaParticipant.sja == sja).count()} participants, all signed")
        figures("save from the outbox (201)", saves)
        figures("page (HTML)", pages)
        figures(f"PDF ({len(pdf.data) // 1024} kB)", pdfs)
        if not database.is_closed():
            database.close()


if __name__ == "__main__":
    main()
