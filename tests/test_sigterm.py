"""A run stopped with SIGTERM tears its fixtures down: no server it started is left running (found when `make test`
was stopped: its PostgreSQL and SeaweedFS servers, in sessions of their own, ran on)."""
import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import poll

ROOT = Path(__file__).resolve().parent.parent


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child already ended but not yet reaped by its parent is a zombie: ended.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_ends_the_servers_a_run_started(tmp_path):
    pid_file, server = tmp_path / "server.pid", None
    env = {**os.environ, "SIGTERM_TARGET_PID_FILE": str(pid_file)}
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                            "tests/sigterm_target.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    try:
        poll(lambda: run.poll() is not None or (pid_file.exists() and pid_file.read_text()), timeout=60)
        assert run.poll() is None, run.communicate()[0].decode()
        server = int(pid_file.read_text())
        assert alive(server)
        run.send_signal(signal.SIGTERM)
        output = run.communicate(timeout=30)[0].decode()
        assert run.returncode != 0, output  # the run says it was stopped, not that it passed
        assert poll(lambda: not alive(server), timeout=10), f"the server {server} outlived the run\n{output}"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=10)
        if server and alive(server):  # the run's server, left by a failure here: ended by its pid
            os.kill(server, signal.SIGKILL)
