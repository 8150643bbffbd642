"""Run `warehouse ARGS` as user nobody, for tests of real permission errors (root ignores them).

The interpreter and its modules live where nobody may not read (under /root), so this script,
started as root, imports everything an ingest or a query loads first, then drops to nobody and
runs the command. Paths the command touches must be reachable by nobody (see `nobody_dir`).
"""

from __future__ import annotations

import os
import pwd
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__)
_PRELOAD = (
    "importlib.readers",
    "importlib.resources.readers",
    "json",
    "tomllib",
    "gzip",
    "zlib",
    "secrets",
    "subprocess",
    "threading",
    "duckdb",
    "pyarrow",
    "orjson",
    "concurrent.futures",
    "warehouse.cli",
    "ingest.run",
    "ingest.fast",
    "ingest.lake",
    "warehouse.store.db",
    "warehouse.store.snapshot",
    "warehouse.store.spare",
    "warehouse.cli.look_cmd",
    "warehouse.cli.ingest_cmd",
    "warehouse.store.migrate",
    "ingest.manifest",
    "ingest.load",
    "ingest.lines",
    "encodings.ascii",
    "encodings.latin_1",
    "csv",
    "warehouse.core.models",
    "warehouse.core.logformat",
    "warehouse.store.checksums",
    "ingest.attribution",
    "ingest.bounds",
    "ingest.transcripts",
    "ingest.importers",
    "mmap",
    "ingest.bulk",
    "ingest.precheck",
    "ingest.nochange",
    "ingest.digests",
    "warehouse.store.reflink",
)


def nobody_dir() -> Path:
    """A fresh folder under /tmp that nobody can reach (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="nobody-"))
    path.chmod(0o777)
    return path


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`warehouse *args` as nobody when this process is root; as this user otherwise. Its home
    (and so its cache) is a folder of its own."""
    home = Path(tempfile.gettempdir()) / "as-nobody-home"
    home.mkdir(exist_ok=True)
    home.chmod(0o777)
    env = {**env, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    return subprocess.run(
        [sys.executable, str(HERE), *args], capture_output=True, text=True, env=env, timeout=300, cwd="/"
    )


def _main() -> None:
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    sys.argv = ["warehouse", *sys.argv[1:]]
    runpy.run_module("warehouse", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _main()
