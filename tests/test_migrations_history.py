"""Databases of every earlier kind (tests/fixtures/db: 0002 as first shipped, 0002 before and
after it gained header_json) open with today's code and end in the state of a fresh database:
the same tables, views and macros; every view binds and answers with the same columns."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from ingest import ingest_runs
from warehouse.store.checksums import HISTORICAL
from warehouse.store.db import open_reader, open_writer

FIXTURES = Path(__file__).parent / "fixtures"
OLD = ("schema0002_first.duckdb.gz", "schema0002.duckdb.gz", "schema0003.duckdb.gz")
CATALOG = {
    "views": "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'",
    "macros": "SELECT function_name, function_type, macro_definition, parameters FROM duckdb_functions()"
    " WHERE NOT internal AND function_type IN ('macro', 'table_macro')",
    "tables": "SELECT c.table_name, c.column_name, c.data_type, c.ordinal_position"
    " FROM information_schema.columns AS c JOIN information_schema.tables AS t USING (table_name)"
    " WHERE t.table_type = 'BASE TABLE' AND c.table_schema = 'main'",
}


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = open_reader(db)
    try:
        return sorted((tuple(r) for r in con.execute(sql).fetchall()), key=repr)
    finally:
        con.close()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("fresh") / "runs.duckdb"
    ingest_runs(str(FIXTURES / "runs"), str(db))
    return db


@pytest.fixture(scope="module", params=OLD)
def upgraded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("old") / "runs.duckdb"
    db.write_bytes(gzip.decompress((FIXTURES / "db" / request.param).read_bytes()))
    # 0002 as first shipped has statistics macros later views cannot bind on: refused, repaired
    with open_writer(db, "test upgrade", repair=request.param == "schema0002_first.duckdb.gz"):
        pass
    return db


@pytest.mark.parametrize("what", sorted(CATALOG))
def test_an_old_database_upgrades_to_the_fresh_catalog(fresh: Path, upgraded: Path, what: str) -> None:
    assert _rows(upgraded, CATALOG[what]) == _rows(fresh, CATALOG[what])


def test_every_view_answers_with_the_fresh_columns(fresh: Path, upgraded: Path) -> None:
    """Each view and alias binds in the upgraded database and returns the columns a fresh one
    does (the rows are the old code's ingest of the same logs: not this migration's concern)."""
    views = [name for name, _ in _rows(fresh, CATALOG["views"])]
    assert len(views) > 20
    for view in views:
        got, want = (_rows(db, f'DESCRIBE SELECT * FROM "{view}"') for db in (upgraded, fresh))
        assert got == want, view


def test_old_databases_keep_their_historical_checksums(upgraded: Path) -> None:
    """What the old code recorded is accepted as is (no rewrite): the readers opened it above."""
    recorded = _rows(upgraded, "SELECT id, checksum FROM _migrations WHERE length(checksum) = 16")
    assert recorded and all(value in HISTORICAL[number] for number, value in recorded)
