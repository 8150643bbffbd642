"""Real lake services on 127.0.0.1 for the lake tests and the lake benchmark.

A throwaway PostgreSQL cluster (initdb into a temp dir, a free port, trust auth, fsync off) and
an S3-compatible server (`moto[server]`, a free port, one bucket). Started once per process on
first use, stopped at exit by their own handles. `unavailable()` says why they cannot start
(binaries or Python packages missing), so tests can skip with that reason.

initdb refuses to run as root: as root we run the PostgreSQL binaries as the `postgres` user via
`runuser` (the Debian package creates that user), in a temp dir opened to it (mode 0777).
"""

from __future__ import annotations

import atexit
import glob
import importlib.util
import math
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()
_STARTED: dict[str, object] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


def unavailable() -> str | None:
    """Why the lake services cannot run here, or None when they can."""
    for module, extra in (
        ("duckdb_extension_ducklake", "runs-warehouse[lake]"),
        ("psycopg", "runs-warehouse[lake]"),
        ("moto", "moto[server]"),
    ):
        if importlib.util.find_spec(module) is None:
            return f"python package {module} missing: pip install '{extra}'"
    if pg_bindir() is None:
        return "PostgreSQL server binaries (initdb) not found: apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no 'postgres' user to run initdb as"
    return None


def _as_pg_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _wait_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


@dataclass
class Postgres:
    root: Path
    port: int
    bindir: Path
    _databases: list[str] = field(default_factory=list)

    @property
    def datadir(self) -> Path:
        return self.root / "pg"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user=postgres"

    def start(self) -> None:
        self.root.chmod(0o777)
        subprocess.run(
            _as_pg_user(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.datadir),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
            cwd=self.root,
        )
        sock = self.root / "sock"
        sock.mkdir()
        sock.chmod(0o777)
        opts = (
            f"-h 127.0.0.1 -p {self.port} -k {sock} -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_pg_user(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.root / "pg.log"),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            cwd=self.root,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_pg_user(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
            cwd=self.root,
        )

    def new_database(self, prefix: str = "lake") -> str:
        """A fresh, empty database; returns its libpq connection string."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.dsn(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return self.dsn(name)


@dataclass
class S3:
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, logdir: Path) -> None:
        log = open(logdir / "moto.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait_port(self.port)

    def new_bucket(self, prefix: str = "lake") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        request = urllib.request.Request(f"http://{self.endpoint}/{name}", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        return name

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Services:
    root: Path
    pg: Postgres
    s3: S3

    def warehouse_toml(self, path: Path, data_path: str, *, s3: bool) -> Path:
        """Write a warehouse.toml with a [lake] table for this lake."""
        lines = ["[lake]", f'data_path = "{data_path}"']
        if s3:
            lines += [
                f's3_endpoint = "{self.s3.endpoint}"',
                's3_region = "us-east-1"',
                's3_url_style = "path"',
                "s3_use_ssl = false",
                's3_key_id = "test"',
                's3_secret = "test"',
            ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def services() -> Services:
    """Start (once per process) and return the services; raise if they cannot run."""
    with _LOCK:
        if "services" in _STARTED:
            return _STARTED["services"]  # type: ignore[return-value]
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        bindir = pg_bindir()
        assert bindir is not None
        root = Path(tempfile.mkdtemp(prefix="wh-lake-"))
        svc = Services(root, Postgres(root, free_port(), bindir), S3(free_port()))
        atexit.register(_stop, svc)
        svc.pg.start()
        svc.s3.start(root)
        _watchdog(svc)
        _STARTED["services"] = svc
        return svc


def _watchdog(svc: Services) -> None:
    """Stop both servers and remove the temp dir if this process dies without atexit (SIGKILL)."""
    stop_pg = " ".join(
        _as_pg_user(
            [str(svc.pg.bindir / "pg_ctl"), "-D", str(svc.pg.datadir), "-m", "immediate", "-w", "stop"]
        )
    )
    moto = svc.s3.proc.pid if svc.s3.proc is not None else 0
    script = (
        f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
        f"[ -d {svc.pg.datadir} ] && {stop_pg} >/dev/null 2>&1; "
        f"grep -qs moto.server /proc/{moto}/cmdline && kill {moto}; rm -rf {svc.root}"
    )
    subprocess.Popen(
        ["sh", "-c", script],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(svc: Services) -> None:
    svc.s3.stop()
    svc.pg.stop()
    shutil.rmtree(svc.root, ignore_errors=True)


# ---------------------------------------------------------------- per-test lakes


@dataclass
class Lake:
    url: str
    config_path: Path
    data_path: str
    conninfo: str

    def env(self) -> dict[str, str]:
        """Environment for a `warehouse` subprocess using this lake's warehouse.toml."""
        return {**os.environ, "WAREHOUSE_CONFIG": str(self.config_path)}


def new_lake(svc: Services, directory: Path, *, s3: bool, migrate: bool = True) -> Lake:
    """A new catalog database (+ bucket or folder), its warehouse.toml, migrated by default."""
    conninfo = svc.pg.new_database()
    if s3:
        data_path = f"s3://{svc.s3.new_bucket()}/lake/"
    else:
        folder = directory / "lake-data"
        folder.mkdir(parents=True, exist_ok=True)
        data_path = f"{folder}/"
    directory.mkdir(parents=True, exist_ok=True)
    config_path = svc.warehouse_toml(directory / "warehouse.toml", data_path, s3=s3)
    lake = Lake(f"ducklake:postgres:{conninfo}", config_path, data_path, conninfo)
    if migrate:
        from warehouse.core.config import load_config
        from warehouse.store.lake.connection import migrate_lake

        migrate_lake(lake.url, config=load_config(str(config_path)))
    return lake


def require_services() -> Services:
    """The services, or a skip with the reason (a failure when CI demands the lake tests)."""
    import pytest

    reason = unavailable()
    if reason:
        if os.environ.get("WAREHOUSE_REQUIRE_LAKE"):
            pytest.fail(f"lake tests required but services unavailable: {reason}")
        pytest.skip(f"lake services unavailable: {reason}")
    return services()


# ---------------------------------------------------------------- comparing backends

VIEWS = ("model_ranking", "best_settings", "runs_summary")


def _norm(value: Any) -> Any:
    if isinstance(value, float):
        # summation order: last bits, and +-3e-9 where a square root takes a variance of 1e-17
        return value if math.isnan(value) else float(f"{round(value, 6):.10g}")
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _norm(v)) for k, v in value.items()))
    return value


QUERIES = {
    "records": "SELECT f.path, r.* EXCLUDE (file_id, load_id) FROM records r JOIN files f USING (file_id)",
    "quarantine": "SELECT f.path, q.* EXCLUDE (file_id, load_id) FROM quarantine q"
    " JOIN files f USING (file_id)",
    "files": "SELECT * EXCLUDE (file_id, first_load_id, last_load_id, first_seen, last_ingested) FROM files",
    **{view: f"SELECT * FROM {view}" for view in VIEWS},
}


def snapshot(db: str, lake: Lake | None = None) -> dict[str, list[Any]]:
    """Every table and view of interest, rows normalised and sorted."""
    from warehouse.store.db import open_reader

    if lake is not None:
        from warehouse.core.config import load_config
        from warehouse.store.lake.connection import open_reader as open_lake

        con = open_lake(lake.url, config=load_config(str(lake.config_path)))
    else:
        con = open_reader(db)
    try:
        return {
            name: sorted((_norm(tuple(r)) for r in con.execute(sql).fetchall()), key=repr)
            for name, sql in QUERIES.items()
        }
    finally:
        con.close()


def assert_same(expected: dict[str, list[Any]], got: dict[str, list[Any]]) -> None:
    differ = []
    for name, rows in expected.items():
        assert rows or name == "quarantine", f"{name} is empty on the embedded backend: corpus too small"
        if got[name] != rows:
            diff = [(a, b) for a, b in zip(rows, got[name], strict=False) if a != b][:2]
            differ.append(f"{name} differs between the embedded file and the lake: {diff}")
    assert not differ, "\n".join(differ)
