"""User mistakes, made for real: each gives one clear line on stderr and its documented exit code
(warehouse.core.errors.ExitCode), never a traceback; `--debug` adds the traceback, same code.

Real inputs only: a database built by ingest, the writer lock held by another process, a TOML
file that does not parse, an unset key variable, a port nobody listens on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import as_nobody
import pytest

from warehouse.core.errors import ExitCode

FIXTURES = Path(__file__).parent / "fixtures" / "runs"
KEY_VARS = ("OPENAI_API_KEY", "DEEPINFRA_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_API_KEY", "LOCAL_API_KEY")


def warehouse(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in KEY_VARS and not k.startswith("WAREHOUSE_")}
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=base | (env or {}),
        timeout=300,
    )


def error_line(done: subprocess.CompletedProcess[str], code: ExitCode) -> str:
    """The one error line of a failed command (progress lines before it are allowed)."""
    assert done.returncode == int(code), f"exit {done.returncode}, wanted {int(code)}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith(("error:", "internal error:"))]
    assert len(errors) == 1 and done.stderr.rstrip("\n").splitlines()[-1] == errors[0], done.stderr
    assert not errors[0].startswith("internal error"), done.stderr
    return errors[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(runs dir, database) made by a real ingest of the fixture corpus."""
    root = tmp_path_factory.mktemp("errors")
    runs = root / "runs"
    shutil.copytree(FIXTURES, runs)
    db = root / "runs.duckdb"
    done = warehouse("ingest", str(runs), "--db", str(db), "-q")
    assert done.returncode == 0, done.stderr
    return runs, db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------- bad path


def test_missing_database(tmp_path: Path) -> None:
    line = error_line(warehouse("status", "--db", str(tmp_path / "nope.duckdb")), ExitCode.USAGE)
    assert "no database at" in line and "warehouse ingest" in line


def test_missing_runs_directory(tmp_path: Path) -> None:
    line = error_line(
        warehouse("ingest", str(tmp_path / "missing"), "--db", str(tmp_path / "x.duckdb")), ExitCode.USAGE
    )
    assert "does not exist" in line
    assert not (tmp_path / "x.duckdb").exists()


def test_database_path_is_a_directory(tmp_path: Path, built: tuple[Path, Path]) -> None:
    line = error_line(warehouse("ingest", str(built[0]), "--db", str(tmp_path)), ExitCode.USAGE)
    assert "is a directory" in line
    out = tmp_path / "out"
    line = error_line(warehouse("export", "--db", str(tmp_path), "--out-dir", str(out)), ExitCode.USAGE)
    assert "is a directory" in line and not out.exists()


@pytest.mark.parametrize("name", [":memory:", "md:x", "motherduck:x", ":memory:x"])
def test_database_names_duckdb_would_not_read_as_a_file_are_refused(
    tmp_path: Path, built: tuple[Path, Path], name: str
) -> None:
    """DuckDB reads these as its in-memory database or a MotherDuck target, not as a file."""
    line = error_line(warehouse("ingest", str(built[0]), "--db", name, cwd=tmp_path), ExitCode.USAGE)
    assert name in line and "./" + name in line  # says how to name such a file if it is meant
    assert list(tmp_path.iterdir()) == []  # nothing written
    line = error_line(warehouse("status", "--db", name, cwd=tmp_path), ExitCode.USAGE)
    assert name in line


def test_read_only_database_folder(built: tuple[Path, Path]) -> None:
    """A folder the writer cannot create files in: a typed error saying what to do, not a bug.
    (Tests run as root, which ignores permissions: the ingest runs as user nobody.)"""
    top = as_nobody.nobody_dir()
    try:
        runs, folder = top / "runs", top / "ro"
        shutil.copytree(built[0], runs)
        folder.mkdir()
        folder.chmod(0o555)
        env = {k: v for k, v in os.environ.items() if k not in KEY_VARS and not k.startswith("WAREHOUSE_")}
        done = as_nobody.run("ingest", str(runs), "--db", str(folder / "runs.duckdb"), env=env)
        line = error_line(done, ExitCode.DATA)
        assert str(folder) in line and "not writable" in line and "--db" in line
        done = as_nobody.run("ingest", str(runs), "--db", str(folder / "sub" / "runs.duckdb"), env=env)
        assert "cannot create the database folder" in error_line(done, ExitCode.DATA)
    finally:
        shutil.rmtree(top)


# --------------------------------------------------------------------- locked database


@pytest.fixture
def held_lock(built: tuple[Path, Path]) -> Iterator[int]:
    """Another process holds the writer lock of the database until the test ends."""
    script = (
        "import sys\nfrom warehouse.store.db import open_writer\n"
        "with open_writer(sys.argv[1], 'nightly ingest'):\n"
        "    print('held', flush=True)\n    sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(built[1])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=120)


def test_locked_database_names_the_holder(built: tuple[Path, Path], held_lock: int) -> None:
    runs, db = built
    line = error_line(warehouse("ingest", str(runs), "--db", str(db)), ExitCode.LOCKED)
    assert f"pid {held_lock} (nightly ingest)" in line and "wait for it to finish" in line
    assert error_line(warehouse("migrate", "--db", str(db)), ExitCode.LOCKED) == line
    reader = warehouse("status", "--db", str(db), "--json")  # readers are never blocked
    assert reader.returncode == 0, reader.stderr


# --------------------------------------------------------------------- queries


def test_unknown_view(built: tuple[Path, Path]) -> None:
    line = error_line(warehouse("query", "select * from no_such_view", "--db", str(built[1])), ExitCode.QUERY)
    assert "no_such_view" in line


def test_query_error_keeps_duckdbs_hint(built: tuple[Path, Path]) -> None:
    """The hint line (the most useful one) stays in the one-line error; the SQL echo does not."""
    db = str(built[1])
    line = error_line(warehouse("query", "select * from model_rankin", "--db", db), ExitCode.QUERY)
    assert "model_rankin does not exist" in line and 'Did you mean "model_ranking"' in line
    line = error_line(warehouse("query", "select no_such_col from model_ranking", "--db", db), ExitCode.QUERY)
    assert "no_such_col" in line and "— Candidate bindings: " in line and "LINE 1" not in line


def test_debug_shows_the_traceback_with_the_same_code(built: tuple[Path, Path]) -> None:
    done = warehouse("--debug", "query", "select * from no_such_view", "--db", str(built[1]))
    assert done.returncode == int(ExitCode.QUERY)
    assert "Traceback (most recent call last)" in done.stderr and "QueryError" in done.stderr
    assert done.stderr.rstrip("\n").splitlines()[-1].startswith("error: query failed")


# --------------------------------------------------------------------- configuration


def test_bad_toml(tmp_path: Path, built: tuple[Path, Path]) -> None:
    bad = tmp_path / "warehouse.toml"
    bad.write_text('[paths]\ndb = "runs/runs.duckdb\n', encoding="utf-8")
    line = error_line(warehouse("status", "--config", str(bad)), ExitCode.USAGE)
    assert str(bad) in line and "invalid TOML" in line
    in_cwd = error_line(warehouse("ingest", str(built[0]), cwd=tmp_path), ExitCode.USAGE)  # ./warehouse.toml
    assert "invalid TOML" in in_cwd


def test_bad_option() -> None:
    line = error_line(warehouse("query", "select 1", "--bogus"), ExitCode.USAGE)
    assert "No such option" in line and "warehouse query --help" in line
    line = error_line(warehouse("run", "--student", "llm", "--steps", "many"), ExitCode.USAGE)
    assert "'--steps'" in line and "warehouse run --help" in line
    assert "warehouse --help" in error_line(warehouse("no-such-command"), ExitCode.USAGE)
    line = error_line(warehouse("query", "select 1", "--json", "--csv"), ExitCode.USAGE)
    assert "one of --json, --csv and --table" in line


# --------------------------------------------------------------------- endpoints


def test_missing_key(tmp_path: Path) -> None:
    log = tmp_path / "mixtral.jsonl"
    done = warehouse(
        "run",
        "--student",
        "llm",
        "--provider",
        "deepinfra",
        "--model",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "--steps",
        "1",
        "--log",
        str(log),
    )
    line = error_line(done, ExitCode.USAGE)
    assert "$DEEPINFRA_API_KEY" in line
    assert not log.exists()  # nothing was written


def test_endpoint_down(tmp_path: Path) -> None:
    log = tmp_path / "down.jsonl"
    done = warehouse(
        "run",
        "--student",
        "llm",
        "--provider",
        "local",
        "--base-url",
        f"http://127.0.0.1:{closed_port()}/v1",
        "--model",
        "m",
        "--steps",
        "1",
        "--max-retries",
        "0",
        "--timeout",
        "10",
        "--log",
        str(log),
    )
    line = error_line(done, ExitCode.ENDPOINT)
    assert "Connection error" in line and str(log) in line
    assert '"status": "aborted"' in log.read_text(encoding="utf-8")  # the run is closed, resumable
