"""The same warehouse on both backends: embedded file and DuckLake (PostgreSQL + local or S3).

Real services on 127.0.0.1 started by tests/lake_support.py; the lake is driven through the
`warehouse` CLI in subprocesses, the embedded file through the library.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lake_support import (
    Lake,
    Services,
    assert_same,
    new_lake,
    require_services,
    snapshot,
)
from synth import Design, write_corpus

from warehouse.core.config import load_config
from warehouse.core.errors import DataError, SchemaVersionError, UsageError

pytestmark = pytest.mark.lake
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def svc() -> Services:
    return require_services()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic runs with known effects plus generator logs with bad lines and old eras."""
    root = tmp_path_factory.mktemp("lake-corpus") / "runs"
    design = Design(
        base={"m-a": 0.65, "m-b": 0.45, "m-c": 0.3},
        grid={"q_min": (1, 2), "best_of_n": (0, 3)},
        runs=2,
        steps=8,
    )
    write_corpus(root / "synth", design, 5)
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "gen_corpus.py"),
            str(root / "gen"),
            "--files",
            "12",
            "--steps",
            "6",
            "--seed",
            "2",
            "--jobs",
            "1",
            "--dirty-frac",
            "0.3",
        ],
        check=True,
        capture_output=True,
    )
    return root


@pytest.fixture(scope="module")
def embedded(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest import ingest_runs

    db = tmp_path_factory.mktemp("embedded") / "runs.duckdb"
    ingest_runs(str(corpus), str(db), config=load_config(None))
    return db


def warehouse(lake: Lake, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        env=lake.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert not check or done.returncode == 0, f"warehouse {' '.join(args[:2])}: {done.stderr}"
    return done


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_same_tables_and_views_on_both_backends(
    svc: Services, corpus: Path, embedded: Path, tmp_path: Path, storage: str
) -> None:
    lake = new_lake(svc, tmp_path, s3=storage == "s3")
    out = warehouse(lake, "lake", "ingest", str(corpus), "--db", lake.url, "--json", "-q")
    summary = json.loads(out.stdout)
    assert summary["lines_quarantined"] > 0 and summary["files_busy"] == 0
    assert_same(snapshot(str(embedded)), snapshot(lake.url, lake))
    again = json.loads(
        warehouse(lake, "lake", "ingest", str(corpus), "--db", lake.url, "--json", "-q").stdout
    )
    assert again["lines_good"] == 0 and again["files_unchanged"] == summary["files_new"]
    # any command reads the lake through --db: the views answer from a plain CLI query
    ranked = warehouse(lake, "query", "select model from model_ranking order by 1", "--db", lake.url, "--csv")
    assert "m-a" in ranked.stdout


def test_push_ships_an_embedded_warehouse(
    svc: Services, corpus: Path, embedded: Path, tmp_path: Path
) -> None:
    lake = new_lake(svc, tmp_path, s3=False)
    first = json.loads(
        warehouse(lake, "lake", "push", "--from", str(embedded), "--db", lake.url, "--json").stdout
    )
    assert first["files_copied"] > 0 and first["records"] > 0 and first["quarantine"] > 0
    assert_same(snapshot(str(embedded)), snapshot(lake.url, lake))
    second = json.loads(
        warehouse(lake, "lake", "push", "--from", str(embedded), "--db", lake.url, "--json").stdout
    )
    assert second["files_copied"] == second["files_replaced"] == second["records"] == 0
    assert second["files_skipped"] == first["files_copied"]
    # ingesting the same logs afterwards finds them all already there
    again = json.loads(
        warehouse(lake, "lake", "ingest", str(corpus), "--db", lake.url, "--json", "-q").stdout
    )
    assert again["files_new"] == 0 and again["lines_good"] == 0


def test_readers_are_locked_down_and_writers_need_the_lake_commands(svc: Services, tmp_path: Path) -> None:
    lake = new_lake(svc, tmp_path, s3=False)
    leak = warehouse(lake, "query", "select * from read_text('/etc/passwd')", "--db", lake.url, check=False)
    assert leak.returncode != 0 and "root:" not in leak.stdout
    # the plain commands route a ducklake: URL to the lake's claim-based ingest and migrate
    plain = warehouse(lake, "ingest", str(tmp_path), "--db", lake.url, "--json", "-q", check=False)
    assert plain.returncode == 0, plain.stderr
    assert "batches" in json.loads(plain.stdout)
    assert warehouse(lake, "migrate", "--db", lake.url, check=False).returncode == 0


def test_connecting_never_migrates_and_schema_mismatch_is_refused(svc: Services, tmp_path: Path) -> None:
    from warehouse.store.lake.connection import connect, open_reader, open_writer
    from warehouse.store.lake.settings import settings_for
    from warehouse.store.migrate import available, code_version

    lake = new_lake(svc, tmp_path, s3=False, migrate=False)
    config = load_config(str(lake.config_path))
    first = available()[0]  # a lake made by an older release: only the core tables
    con = connect(settings_for(lake.url, config), read_only=False, create=True)
    try:
        con.execute(
            "CREATE TABLE _migrations (id INTEGER NOT NULL, name VARCHAR NOT NULL,"
            " checksum VARCHAR NOT NULL, applied_at TIMESTAMP)"
        )
        con.execute(first.sql)
        con.execute(
            "INSERT INTO _migrations VALUES (?, ?, ?, now())", [first.number, first.name, first.checksum]
        )
    finally:
        con.close()
    for _ in range(2):  # connecting (reader or writer) does not upgrade it
        with pytest.raises(SchemaVersionError, match="warehouse lake migrate"):
            open_reader(lake.url, config=config)
    with (
        pytest.raises(SchemaVersionError, match="warehouse lake migrate"),
        open_writer(lake.url, config=config),
    ):
        pass
    done = warehouse(lake, "lake", "migrate", "--db", lake.url)
    assert len(done.stdout.split()) == code_version() - 1
    with open_writer(lake.url, config=config) as con:
        con.execute("INSERT INTO _migrations VALUES (9999, 'from_the_future', 'x', now())")
    with pytest.raises(SchemaVersionError, match="newer"):
        open_reader(lake.url, config=config)


def test_clear_errors(svc: Services, tmp_path: Path) -> None:
    from warehouse.store.lake.connection import migrate_lake, open_reader, wheel_extension
    from warehouse.store.lake.settings import settings_for

    config = load_config(None)
    empty = f"ducklake:postgres:{svc.pg.new_database()}"
    with pytest.raises(UsageError, match="warehouse lake migrate"):
        open_reader(empty, config=config)
    with pytest.raises(UsageError, match="data path"):
        migrate_lake(empty, config=config)
    with pytest.raises(UsageError, match="PostgreSQL catalog"):
        settings_for("ducklake:/tmp/catalog.ducklake", config)
    with pytest.raises(DataError, match="cannot reach"):
        open_reader("ducklake:postgres:dbname=x host=127.0.0.1 port=1 user=postgres", config=config)
    with pytest.raises(UsageError, match=r"runs-warehouse\[lake\]"):
        wheel_extension("not_shipped", "v1.5.5")
