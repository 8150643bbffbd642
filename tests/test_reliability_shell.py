"""`warehouse shell` (the pip duckdb shell, read-only) and the notebook API `warehouse.connect()`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from reliability_support import cli, write_corpus

import warehouse
from warehouse.cli import cli as cli_group
from warehouse.cli.shell_cmd import SHELL_PACKAGE, find_duckdb_shell, shell_argv
from warehouse.core.errors import ExitCode, UsageError


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = tmp_path_factory.mktemp("shell")
    lines = write_corpus(root / "runs", 3, 8, "nb")
    done = cli("ingest", str(root / "runs"), "--db", str(root / "runs" / "runs.duckdb"), "-q")
    assert done.returncode == 0, done.stderr
    return root / "runs" / "runs.duckdb", lines


def test_shell_runs_the_pinned_duckdb_read_only(published: tuple[Path, int]) -> None:
    db, lines = published
    out = cli(
        "shell", "--db", str(db), "--", "-json", "-c", "select count(*) AS n, version() AS v FROM records"
    )
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["n"] == lines and row["v"] == "v1.5.5"
    tags = cli(
        "shell",
        "--db",
        str(db),
        "--",
        "-json",
        "-c",
        "select tags['storage_version'] AS s from duckdb_databases() where not internal",
    )
    assert json.loads(tags.stdout)[0]["s"].startswith("v1.5.0")  # what the pinned shell reads
    write = cli("shell", "--db", str(db), "--", "-c", "insert into settings values ('x', 'y')")
    assert write.returncode != 0 and "read-only" in (write.stdout + write.stderr)


def test_shell_finds_duckdb_next_to_python_then_on_path(tmp_path: Path) -> None:
    assert find_duckdb_shell() == str(Path(sys.executable).parent / "duckdb")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    assert find_duckdb_shell(str(tmp_path / "python"), search_path=str(bindir)) is None
    fake = bindir / "duckdb"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_duckdb_shell(str(tmp_path / "python"), search_path=str(bindir)) == str(fake)


def test_shell_missing_says_what_to_install(
    published: tuple[Path, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = published
    missing = cli("shell", "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == ExitCode.USAGE and missing.stderr.count("\n") == 1
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(cli_group, ["shell", "--db", str(db)])
    assert isinstance(result.exception, UsageError)
    assert f"pip install {SHELL_PACKAGE}" in str(result.exception)
    assert SHELL_PACKAGE == "duckdb-cli==1.5.5"
    with pytest.raises(UsageError, match="no database"):
        shell_argv(str(tmp_path / "none.duckdb"), ())
    with pytest.raises(UsageError, match="DuckLake"):
        shell_argv("ducklake:postgres:dbname=x", ())


def test_connect_arrow_and_dataframes(published: tuple[Path, int]) -> None:
    db, lines = published
    con = warehouse.connect(str(db))
    try:
        reader = con.sql("SELECT kind, count(*) AS n FROM records GROUP BY kind ORDER BY kind").arrow()
        table = reader.read_all() if isinstance(reader, pa.RecordBatchReader) else reader
        assert sum(table.column("n").to_pylist()) == lines
        assert table.column("kind").to_pylist() == ["header", "run_end", "step"]
        steps = con.execute("SELECT * FROM steps").to_arrow_table()
        assert steps.num_rows == 3 * 8
        assert con.execute("SELECT current_database()").fetchone() == ("runs",)
        with pytest.raises(Exception, match="read-only"):
            con.execute("DELETE FROM records")
    finally:
        con.close()


@pytest.mark.parametrize(("module", "method"), [("polars", "pl"), ("pandas", "df")])
def test_connect_dataframe_libraries(published: tuple[Path, int], module: str, method: str) -> None:
    pytest.importorskip(module, reason=f"{module} is not installed (optional for notebooks)")
    db, _ = published
    con = warehouse.connect(str(db))
    try:
        frame = getattr(con.sql("SELECT run_key, steps_logged FROM runs ORDER BY run_key"), method)()
        assert len(frame) == 3 and list(frame.columns) == ["run_key", "steps_logged"]
    finally:
        con.close()


def test_connect_defaults_to_the_configured_database(
    published: tuple[Path, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, lines = published
    (tmp_path / "warehouse.toml").write_text(f'[paths]\ndb = "{db}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    con = warehouse.connect()
    try:
        assert con.execute("SELECT count(*) FROM records").fetchone() == (lines,)
    finally:
        con.close()
    monkeypatch.chdir(tmp_path / "..")
    with pytest.raises(UsageError, match="no database"):
        warehouse.connect(str(tmp_path / "absent.duckdb"))


def test_connect_outside_the_project_names_the_python_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook has no --db flag: the message names warehouse.connect(db=...)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as caught:
        warehouse.connect()
    assert "warehouse.connect(db=" in str(caught.value) and "--db" not in str(caught.value)


def test_notebook_extra_installs_the_dataframe_libraries() -> None:
    """.df() needs pandas and .pl() polars: the `notebook` extra names both, and the docs say so."""
    import tomllib

    root = Path(__file__).parent.parent
    extras = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {req.split(">")[0].split("=")[0].strip() for req in extras["optional-dependencies"]["notebook"]}
    assert {"pandas", "polars"} <= names
    for doc in ("README.md", "docs/notebooks.md"):
        assert ".[notebook]" in (root / doc).read_text(encoding="utf-8"), doc
