"""Run only by tests/test_sigterm.py (its name is not collected otherwise): a fixture starts a server-like process
in a session of its own, as the suite's PostgreSQL and SeaweedFS fixtures do, and the test waits to be stopped."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def server():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    yield process
    process.kill()
    process.wait(timeout=10)


def test_waits_to_be_stopped(server):
    Path(os.environ["SIGTERM_TARGET_PID_FILE"]).write_text(str(server.pid))
    deadline = time.monotonic() + 60  # bounded: test_sigterm sends SIGTERM long before
    while time.monotonic() < deadline:
        time.sleep(0.05)
