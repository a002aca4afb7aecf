"""A throwaway PostgreSQL server for the test session: its own cluster in a temporary folder, on loopback."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or ([shutil.which(name)] if shutil.which(name) else [])
    if not found:
        raise RuntimeError("PostgreSQL server binaries are missing: `make test` installs them (apt-get install postgresql)")
    return found[-1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="fieldapp-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = _free_port()
        self.user = "fieldapp"
        self.dbname = "fieldapp_test"
        # PostgreSQL refuses to run as root: run it as the postgres account then.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(self.folder, "postgres")

    def _run(self, *args):
        subprocess.run([*self.prefix, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        self._run(_bin("initdb"), "-D", self.data, "-U", self.user, "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8")
        self._run(_bin("pg_ctl"), "-D", self.data, "-l", os.path.join(self.folder, "log"), "-w", "-t", "30",
                  "-o", f"-h 127.0.0.1 -p {self.port} -k {self.folder} -F", "start")
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {self.dbname}")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return self

    def url(self, dbname=None):
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname or self.dbname}"

    def _admin(self, *statements):
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def create_database(self, name):
        """A new empty database; returns its name."""
        self._admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
        return name

    def copy_of(self, template, name=None):
        """A database (the test database unless `name` is given), replaced by a copy of the template database
        (faster than migrating); its name.

        WITH (FORCE) (PostgreSQL 13+) ends connections a previous test left open to the old copy.
        """
        name = name or self.dbname
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name} TEMPLATE {template}")
        return name

    def stop(self):
        try:
            self._run(_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
