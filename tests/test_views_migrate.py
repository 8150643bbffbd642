"""Versioned views: an old (0001) database migrated forward equals one built fresh; view files
carry their header comment; every versioned object has its unversioned pointer."""

from __future__ import annotations

import gzip
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pytest
from synth import Design, write_corpus
from synth_cases import write_cases

from ingest import ingest_runs
from warehouse.apps.analysis import list_views
from warehouse.core.logformat import KNOWN_KEYS
from warehouse.store.connect import connect_file
from warehouse.store.db import open_reader, open_writer
from warehouse.store.migrate import available

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


# records as 0001-0002 stored them: every known top-level value as JSON text in `rec`, the other
# keys in `extra` (the storage migration 0003 replaced by the line itself).
OLD_RECORDS_SQL = f"""
INSERT INTO records
SELECT r.* EXCLUDE (run_id, line, hdr_plan, hdr_runner, step, ts, schema_version, cfg_task, cfg_num_steps,
                    cfg_num_options, cfg_difficulty, cfg_domain, cfg_skill_id, dials, anon_seed, hdr_student,
                    hdr_provider, hdr_model, hdr_tau, end_status, end_reason, task_type, item_id, n_options,
                    correct_index, chosen_index, correct, abstained, abstain_reason, calibrated_score,
                    coverage, witness_pass, credited, reasons, er_coverage, alias_phase, alias_coverage,
                    alias_witness_pass, alias_credited, grading_score, grading_correct, votes_n, citations_n,
                    cards_n, messages_n, duration_ms, student_calls, student_prompt_tokens,
                    student_completion_tokens, student_total_tokens, student_request_ms, tutor_calls,
                    tutor_prompt_tokens, tutor_completion_tokens, tutor_total_tokens, tutor_request_ms),
    json_transform(r.line, '{json.dumps({k: "JSON" for k in KNOWN_KEYS})}'),
    (SELECT json_group_object(j.key, j.value) FROM json_each(r.line) AS j
     WHERE NOT list_contains($known, j.key)),
    r.* EXCLUDE (file_id, line_no, load_id, kind, run_key, line, hdr_plan, hdr_runner)
FROM fresh.records AS r
"""


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
            if table != "records":
                con.execute(f"INSERT INTO {table} SELECT * FROM fresh.{table}")
        con.execute(OLD_RECORDS_SQL, {"known": list(KNOWN_KEYS)})
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


def test_migrated_lines_keep_every_value(pair: tuple[Path, Path]) -> None:
    """0003 rebuilds each line from rec + extra: the same keys and values as logged (minus keys
    logged as null, which rec could not tell from missing ones), compact, in rec's key order."""
    sql = "SELECT file_id, line_no, line FROM records ORDER BY file_id, line_no"
    fresh, migrated = (_fetch(p, sql) for p in pair)
    assert len(fresh) == len(migrated) > 30
    for (f_id, f_no, f_line), (m_id, m_no, m_line) in zip(fresh, migrated, strict=True):
        assert (f_id, f_no) == (m_id, m_no)
        logged = {k: v for k, v in json.loads(f_line).items() if v is not None}
        assert json.loads(m_line) == logged
        assert m_line == json.dumps(json.loads(m_line), separators=(",", ":"), ensure_ascii=False)


# tests/fixtures/runs ingested by the release before migration 0003 (git 9a23daa, schema 0002,
# records.rec): `git worktree add /tmp/old 9a23daa && PYTHONPATH=/tmp/old python -m warehouse
# ingest <copy of tests/fixtures/runs> --db schema0002.duckdb`, then gzip -9.
SCHEMA_0002 = Path(__file__).parent / "fixtures" / "db" / "schema0002.duckdb.gz"
FIXTURE_RUNS = Path(__file__).parent / "fixtures" / "runs"


def test_a_database_of_the_previous_release_migrates(tmp_path: Path) -> None:
    old = tmp_path / "old" / "runs.duckdb"
    old.parent.mkdir()
    old.write_bytes(gzip.decompress(SCHEMA_0002.read_bytes()))
    with open_writer(old, "test upgrade"):
        pass
    fresh = tmp_path / "fresh" / "runs.duckdb"
    ingest_runs(str(FIXTURE_RUNS), str(fresh))
    sql = (
        "SELECT f.relpath, r.line_no, r.kind, r.run_key, r.line, r.hdr_plan, r.hdr_runner"
        " FROM records r JOIN files f USING (file_id)"
    )
    got, want = _fetch(old, sql), _fetch(fresh, sql)
    assert len(got) == len(want) > 30
    for (*key, line, plan, runner), (*fresh_key, fresh_line, fresh_plan, fresh_runner) in zip(
        got, want, strict=True
    ):
        assert key == fresh_key
        assert json.loads(line) == {k: v for k, v in json.loads(fresh_line).items() if v is not None}
        assert [json.loads(x) if x else None for x in (plan, runner)] == [
            json.loads(x) if x else None for x in (fresh_plan, fresh_runner)
        ]
    assert sum(1 for row in got if row[6]) >= 1  # the runner's header kept its runner block
    runs = "SELECT run_key, has_end, steps_logged, plan_name, plan_seed, runner_name FROM runs"
    assert _fetch(old, runs) == _fetch(fresh, runs)  # (status: in_progress depends on the clock)
    # Path attributes come from the path rules of the ingest that stored them: newer built-in rules
    # (e.g. a model at the start of a file name) apply at the next ingest, which sees them changed.
    from ingest.manifest import settings_stale
    from warehouse.core.config import load_config

    con = duckdb.connect(str(old), read_only=True)
    try:
        assert settings_stale(con, load_config())
        assert con.execute("SELECT count(*) FROM model_names").fetchone()[0] > 20  # seeded by migrate
    finally:
        con.close()
