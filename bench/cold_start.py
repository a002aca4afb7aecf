"""A new worker's first pages, with and without the Jinja bytecode cache in the instance folder.

gunicorn starts and restarts workers; each compiles every template it renders on its first requests unless
the compiled code is kept (fieldapp/templating.py). Each run is a fresh Python process that creates the app
and loads the home page, the people list (50 rows), the on-site list and the profile once.
Prints the median time of those first four requests, with an empty and with a filled cache.
Usage: python bench/cold_start.py [--runs 5]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from fieldapp import create_app
app = create_app()
client = app.test_client()
name, value = {cookie!r}.split("=", 1)
client.set_cookie(name, value)
start = time.perf_counter()
for url in ["/", "/s/{site}/people", "/s/{site}/on-site", "/me"]:
    assert client.get(url).status_code == 200, url
print((time.perf_counter() - start) * 1000)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from bench.pages import prepare

    instance = tempfile.mkdtemp(prefix="fieldapp-cold-")
    try:
        cookie, site_id = prepare(instance)
        env = {**os.environ, "FIELDAPP_INSTANCE": instance, "FIELDAPP_LOCAL_DEV": "1"}
        code = CHILD.format(root=str(ROOT), cookie=cookie, site=site_id)
        cache = Path(instance, "jinja-cache")
        times = {"empty cache": [], "filled cache": []}
        for _run in range(args.runs):
            shutil.rmtree(cache, ignore_errors=True)
            for label in times:  # empty first (it fills the cache), then filled
                out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True, timeout=60).stdout
                times[label].append(float(out.split()[-1]))
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    for label, values in times.items():
        print(f"{label:<14} first 4 requests of a new worker: median {statistics.median(values):6.1f} ms "
              f"(min {min(values):.1f}, max {max(values):.1f}, {len(values)} runs)")


if __name__ == "__main__":
    main()
