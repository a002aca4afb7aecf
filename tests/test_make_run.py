"""`make run` survives a killed worker: honcho stops every process when one ends, so Procfile.dev's worker line
restarts the consumer itself (bounded), and the web process keeps answering.

Runs make run's own command (honcho with Procfile.dev) on this helper's port 5760, on a database and huey file
in tmp; kills the huey consumer by its PID (found under the honcho process this test started), then checks the
web still answers and a new consumer runs. Every wait is bounded; only processes this test started are ended.
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORT = 5760


def procfile(name):
    """{process name: command} of a Procfile (comments and blank lines skipped)."""
    lines = (ROOT / name).read_text().splitlines()
    return dict(re.match(r"^([a-z]+):\s*(.+)$", line).groups() for line in lines if line and not line.startswith("#"))


def test_the_dev_procfile_runs_the_production_commands():
    production, dev = procfile("Procfile"), procfile("Procfile.dev")
    assert dev["web"] == production["web"]
    assert production["worker"] in dev["worker"] and "while [ $n -lt 50 ]" in dev["worker"]
    assert "Procfile.dev" in (ROOT / "Makefile").read_text()


def descendants(pid):
    """{pid: command line} of every process under `pid` (read from /proc; bounded by the process table)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append((int(entry.name), cmdline))
    found, todo = {}, [pid]
    while todo and len(found) < 1000:
        for child, cmdline in children.get(todo.pop(), []):
            found[child] = cmdline
            todo.append(child)
    return found


def consumers(pid):
    return {p for p, cmd in descendants(pid).items() if "huey_consumer" in cmd and "while" not in cmd}


def answers():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/sign-in", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def make_run(app, tmp_path, database_url):
    """make run's honcho command on PORT with one small gunicorn worker; ended (by its PID) at the end."""
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(FIELDAPP_INSTANCE=str(tmp_path / "instance"), DATABASE_URL=database_url, PYTHONPATH=str(ROOT),
               FIELDAPP_LOCAL_DEV="1", HOST="127.0.0.1", WEB_CONCURRENCY="1", WEB_THREADS="2",
               PATH=f"{bin_dir}:{env.get('PATH', '')}")
    log = open(tmp_path / "honcho.log", "wb")
    process = subprocess.Popen([f"{bin_dir}/honcho", "start", "-f", "Procfile.dev", "-p", str(PORT)], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log = tmp_path / "honcho.log"
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # honcho ends its own process groups
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
    log.close()


def test_a_killed_worker_comes_back_and_the_web_keeps_answering(make_run):
    assert wait_until(answers, 90), make_run.log.read_text(errors="replace")
    assert wait_until(lambda: consumers(make_run.pid), 30), make_run.log.read_text(errors="replace")
    first = consumers(make_run.pid)
    for pid in first:
        os.kill(pid, signal.SIGKILL)  # the consumer this test's honcho started
    assert wait_until(lambda: consumers(make_run.pid) - first, 30), make_run.log.read_text(errors="replace")
    assert make_run.poll() is None  # honcho, and so the web process, still runs
    assert answers()
    assert "restarting in 2 s" in make_run.log.read_text(errors="replace")
