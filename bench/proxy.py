"""Start Caddy from deploy/Caddyfile.pilot on 127.0.0.1 in front of an app port (for the benches' --proxy).

caddy(app_port, https_port, folder) -> (process, "https://127.0.0.1:<https_port>"); stop it with bench.pages.stop.
"""
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def caddy(app_port, https_port, folder):
    # The release's hashed static names, as deploy/static_export.py writes them for Caddy after a deploy.
    subprocess.run([sys.executable, "deploy/static_export.py", f"{folder}/static-hashed"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    env = {**os.environ, "HOME": str(folder), "XDG_DATA_HOME": f"{folder}/data", "XDG_CONFIG_HOME": f"{folder}/config",
           "FIELDAPP_STATIC_HASHED": f"{folder}/static-hashed",
           "FIELDAPP_SITE": f"https://127.0.0.1:{https_port}", "FIELDAPP_UPSTREAM": f"127.0.0.1:{app_port}",
           "FIELDAPP_STATIC": str(ROOT / "static"), "FIELDAPP_HTTP_PORT": str(https_port + 1),
           "FIELDAPP_HTTPS_PORT": str(https_port), "FIELDAPP_CADDY_ADMIN": f"127.0.0.1:{https_port + 2}",
           "FIELDAPP_BIND": "127.0.0.1"}
    process = subprocess.Popen([shutil.which("caddy"), "run", "--config", "deploy/Caddyfile.pilot", "--adapter",
                                "caddyfile"], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"https://127.0.0.1:{https_port}"
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2, context=context)
            return process, url
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
