"""Versioned views: an old (0001) database migrated forward equals one built fresh; view files
carry their header comment; every versioned object has its unversioned pointer."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from synth import Design, write_corpus
from synth_cases import write_cases

from ingest import ingest_runs
from warehouse.analysis import list_views
from warehouse.db import connect_file, open_reader, open_writer
from warehouse.migrate import available

CORE_TABLES = ("files", "records", "quarantine", "schema_drift", "ingest_log", "settings")
CATALOG_SQL = {
    "views": "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'",
    "macros": "SELECT function_name, function_type, macro_definition, parameters FROM duckdb_functions()"
    " WHERE NOT internal AND function_type IN ('macro', 'table_macro')",
    "columns": "SELECT table_name, column_name, data_type, ordinal_position FROM information_schema.columns"
    " WHERE table_schema = 'main'",
    "migrations": "SELECT id, name, checksum FROM _migrations",
}


def _fresh(root: Path) -> Path:
    runs = root / "runs"
    write_cases(runs)
    write_corpus(runs, Design(base={"m-a": 0.6, "m-b": 0.4}, grid={"q_min": (1, 2)}, runs=2, steps=6), 1)
    db = root / "fresh.duckdb"
    ingest_runs(str(runs), str(db))
    return db


def _old_then_migrated(root: Path, fresh: Path) -> Path:
    """A database as release 0001 left it (same rows), then opened by today's writer."""
    db = root / "old.duckdb"
    con = connect_file(db, read_only=False)
    try:
        first = available()[0]
        con.execute(first.sql)
        con.execute(
            "CREATE TABLE _migrations (id INTEGER NOT NULL, name VARCHAR NOT NULL,"
            " checksum VARCHAR NOT NULL, applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
        con.execute(
            "INSERT INTO _migrations (id, name, checksum) VALUES (?, ?, ?)",
            [first.number, first.name, first.checksum],
        )
        con.execute(f"ATTACH '{fresh}' AS fresh (READ_ONLY)")
        for table in CORE_TABLES:
            con.execute(f"INSERT INTO {table} SELECT * FROM fresh.{table}")
        con.execute("DETACH fresh")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    with open_writer(db, "test upgrade"):
        pass
    return db


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("migrate")
    fresh = _fresh(root)
    return fresh, _old_then_migrated(root, fresh)


def _norm(value: Any) -> Any:
    """Floats to 9 decimals: parallel sums may differ in the last bits between two files."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    return value


def _fetch(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = open_reader(db)
    try:
        return sorted((_norm(r) for r in con.execute(sql).fetchall()), key=repr)
    finally:
        con.close()


@pytest.mark.parametrize("what", sorted(CATALOG_SQL))
def test_migrated_schema_equals_fresh(pair: tuple[Path, Path], what: str) -> None:
    fresh, migrated = pair
    assert _fetch(fresh, CATALOG_SQL[what]) == _fetch(migrated, CATALOG_SQL[what])


def test_migrated_views_return_the_same_rows(pair: tuple[Path, Path]) -> None:
    fresh, migrated = (open_reader(p) for p in pair)
    try:
        views = [
            v
            for (v,) in fresh.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
                " AND schema_name = 'main' AND view_name LIKE '%_v1'"
            ).fetchall()
        ]
        assert {"runs_v1", "steps_v1", "model_ranking_v1", "best_settings_v1", "catalog_v1"} <= set(views)
        for view in views:
            got = [
                sorted((_norm(r) for r in con.execute(f'SELECT * FROM "{view}"').fetchall()), key=repr)
                for con in (fresh, migrated)
            ]
            assert got[0] == got[1], view
    finally:
        fresh.close()
        migrated.close()


def test_every_view_file_has_a_header_and_a_pointer() -> None:
    infos = list_views()
    migrations = "\n".join(m.sql for m in available())
    names = {i.name for i in infos}
    assert {
        "runs",
        "steps",
        "runs_summary",
        "by_model_steps",
        "by_model_runs",
        "model_ranking",
        "best_settings",
        "dial_effects",
        "paired_comparison",
        "witness_credited",
        "pareto",
        "catalog",
        "rescore_credited",
        "stats_macros",
    } <= names
    for info in infos:
        assert info.description and not info.description.endswith(".")
        for obj in info.objects.split(", "):
            versioned = re.fullmatch(r"([a-z0-9_]+)_v\d+", obj)
            if versioned and info.latest:
                pointer = versioned.group(1)
                assert re.search(rf"CREATE OR REPLACE (VIEW|MACRO) {pointer}\b", migrations), pointer


def test_view_files_are_all_included_by_a_migration() -> None:
    included = set()
    for entry in resources.files("sql.migrations").iterdir():
        if entry.name.endswith(".sql"):
            included |= set(re.findall(r"include:\s*views/(\S+)", entry.read_text(encoding="utf-8")))
    files = {e.name for e in resources.files("sql").joinpath("views").iterdir() if e.name.endswith(".sql")}
    assert files == included
