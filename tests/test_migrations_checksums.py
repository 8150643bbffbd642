"""Released migrations are immutable: their normalised checksums are frozen here, every open
compares the recorded checksums with the code's, and `warehouse migrate --repair` records the
code's only after checking the database really is what the code builds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import ingest_runs
from warehouse.core.errors import ExitCode, SchemaVersionError
from warehouse.store.checksums import HISTORICAL, checksum, normalise, normalised_checksum
from warehouse.store.db import open_reader, open_writer
from warehouse.store.migrate import available

FIXTURE_RUNS = Path(__file__).parent / "fixtures" / "runs"

# name -> sha256 of the migration's normalised text (includes expanded; comments and whitespace
# runs dropped). Keyed by name, not number: the lead renumbers migrations at merge.
FROZEN = {
    "core_tables": "5aedd1267b80fea35815ef4942f19ede6fe73d299b9adc89e67b5c576f0d1988",
    "views_v1": "f48dce0575fe810899af5b83104372fdc246a77dd115f142ee7d8c46ef1e3277",
    "records_line": "20a9cba19fd788caf02c75b8572a2a250fa4bd853c02d6104d8c5780515af46d",
    "scope": "44c3bfd556537a3a9ffd290c8c3f1bb64de5ac16c9c12db29a93baf3d67359b3",
    "views_v2": "7f1509378a806a954d0a3d6727735ad4b7a2cdc783647bec73e8edfce4d04a30",
    "task_views": "b26afc292e517d4459fff01893c36570ee152b43e3e2e7906e4b8f599f3dd721",
    "learning": "10998909483b6ba6108c46956e4d72ba08f8f8e6882f3e4fd5494cd72ad3e76a",
    "transcripts": "1ee92f0a0da953be7f9b85943765b09bd653ced5bc1da7b6267f348db825f14e",
    "stats_v2": "b60194a5c156329bacf64b4c052ba88e0111fa99cc694fb0dfebfdcbffc4667b",
    "views_v1_settled": "53570b75406be3885a02bf15078d4240adc0717e3e6edf01a57da3e765bed51a",
    "bound_typed": "75f69162f9e7baa8942d963f19aebe1a2e9f607b0126915b94977c4a319c9a5c",
}


def test_every_migration_checksum_is_frozen() -> None:
    code = {m.name: m.checksum for m in available()}
    new = {name: value for name, value in code.items() if name not in FROZEN}
    assert not new, (
        f"new migration(s) {new}: add their checksum to FROZEN in this file, in the same commit "
        "(docs/CONTRIBUTING.md, 'Migrations')"
    )
    changed = sorted(name for name in FROZEN if code.get(name) != FROZEN[name])
    assert not changed, (
        f"the statements of released migration(s) {changed} changed (an included view file too?): "
        "released migrations and view files are immutable; put the change in a new <view>_vN.sql "
        "and a new migration (comments and whitespace may change: they are not in the checksum)"
    )


def test_comments_and_whitespace_are_not_in_the_checksum() -> None:
    sql = "-- a view\nCREATE VIEW v AS   SELECT 1 AS a, -- one\n  '--x  y' AS b /* two\n */ FROM t;\n"
    assert normalise(sql) == "CREATE VIEW v AS SELECT 1 AS a, '--x  y' AS b FROM t;"
    edited = "-- a view, documented better\nCREATE VIEW v AS SELECT 1 AS a,\n'--x  y' AS b FROM t;"
    assert checksum(sql) == checksum(edited)
    for changed in (sql.replace("'--x  y'", "'--x y'"), sql.replace("1 AS a", "2 AS a")):
        assert checksum(changed) != checksum(sql)


def test_the_checksum_memo_never_changes_the_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    sql = available()[-1].sql
    want = normalised_checksum(sql)
    assert checksum(sql) == want  # computed, then kept
    (memo,) = (tmp_path / "runs-warehouse" / "checksums").iterdir()
    assert memo.read_text() == want and checksum(sql) == want
    memo.write_text("not a checksum")
    assert checksum(sql) == want and memo.read_text() == want  # a bad entry is computed again


def test_historical_checksums_are_raw_sixteen_hex() -> None:
    for number, values in HISTORICAL.items():
        assert number in {m.number for m in available()}
        assert all(len(value) == 16 and int(value, 16) >= 0 for value in values)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    db = tmp_path / "runs.duckdb"
    ingest_runs(str(FIXTURE_RUNS), str(db))
    return db


def _warehouse(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAREHOUSE_")}
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _one(db: Path, sql: str) -> object:
    con = open_reader(db, check_schema=False)
    try:
        row = con.execute(sql).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def test_a_changed_migration_is_refused_then_repaired(built: Path) -> None:
    views_v1 = next(m for m in available() if m.name == "views_v1")
    want = _one(built, "SELECT sql FROM duckdb_views() WHERE view_name = 'steps_v1'")
    with open_writer(built, "test: an older text of views_v1") as con:
        con.execute("CREATE OR REPLACE VIEW steps_v1 AS SELECT 1 AS stale")
        con.execute("UPDATE _migrations SET checksum = 'edited' WHERE id = ?", [views_v1.number])

    for opener in (lambda: open_reader(built), lambda: open_writer(built, "test").__enter__()):
        with pytest.raises(SchemaVersionError, match=r"warehouse migrate --repair") as caught:
            opener()
        assert f"{views_v1.label} edited" in str(caught.value) and "\n" not in str(caught.value)
    refused = _warehouse("status", "--db", str(built))
    assert refused.returncode == ExitCode.SCHEMA and "--repair" in refused.stderr

    listed = _warehouse("migrate", "--list", "--db", str(built)).stdout
    assert f"{views_v1.label}\tapplied (changed since: run --repair)" in listed.splitlines()

    done = _warehouse("migrate", "--repair", "--db", str(built))
    assert done.returncode == 0, done.stderr
    assert f"recorded this code's checksums of {views_v1.label}" in done.stderr
    assert _one(built, "SELECT sql FROM duckdb_views() WHERE view_name = 'steps_v1'") == want
    assert _one(built, f"SELECT checksum FROM _migrations WHERE id = {views_v1.number}") == views_v1.checksum
    open_reader(built).close()
    assert _warehouse("migrate", "--repair", "--db", str(built)).returncode == 0  # nothing to do


def test_repair_refuses_when_a_table_differs(built: Path) -> None:
    first = available()[0]
    with open_writer(built, "test: a table changed by hand") as con:
        con.execute("ALTER TABLE settings ADD COLUMN note VARCHAR")
        con.execute("UPDATE _migrations SET checksum = 'edited' WHERE id = ?", [first.number])
    done = _warehouse("migrate", "--repair", "--db", str(built))
    assert done.returncode == ExitCode.SCHEMA
    assert "cannot repair: column settings.note is not built by this code" in done.stderr
    assert _one(built, f"SELECT checksum FROM _migrations WHERE id = {first.number}") == "edited"


@pytest.mark.lake
def test_a_lake_names_its_own_repair_and_repairs(tmp_path: Path) -> None:
    from lake_support import new_lake, require_services

    from warehouse.core.config import load_config
    from warehouse.store.lake.connection import migrate_lake
    from warehouse.store.lake.connection import open_reader as lake_reader
    from warehouse.store.lake.connection import open_writer as lake_writer

    lake = new_lake(require_services(), tmp_path, s3=False)
    config = load_config(str(lake.config_path))
    views_v1 = next(m for m in available() if m.name == "views_v1")
    with lake_writer(lake.url, config=config) as con:
        con.execute("CREATE OR REPLACE VIEW steps_v1 AS SELECT 1 AS stale")
        con.execute("UPDATE _migrations SET checksum = 'edited' WHERE id = ?", [views_v1.number])
    with pytest.raises(SchemaVersionError, match=r"'warehouse lake migrate --repair --db <lake url>'"):
        lake_reader(lake.url, config=config)
    assert migrate_lake(lake.url, config=config, repair=True) == []  # repaired; nothing pending
    con = lake_reader(lake.url, config=config)
    try:
        assert con.execute("SELECT count(*) FROM steps_v1").fetchone() is not None
        got = con.execute("SELECT checksum FROM _migrations WHERE id = ?", [views_v1.number]).fetchone()
        assert got == (views_v1.checksum,)
    finally:
        con.close()
