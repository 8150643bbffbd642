"""SQL injection through every CLI option that reaches SQL.

Each payload is tried in each slot: the command either answers with no more rows than a plain
non-matching value gives, or fails with a clean error (usage 2, query 3, data 7; never an
internal error or a traceback). Afterwards the database is byte-identical, no file was created,
the canary file's text was never printed, and no schema object changed. `warehouse query` runs
arbitrary SQL by design: it is read-only and cannot touch files or extensions without
--allow-external.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ingest_support import rows
from reliability_support import cli, write_corpus

from warehouse.cli import main

CANARY_TEXT = "CANARY-7f3a9e"


def payloads(tmp: Path) -> list[str]:
    canary, out, evil = tmp / "canary.txt", tmp / "pwned.csv", tmp / "evil.duckdb"
    return [
        "' OR 1=1 --",
        "x' OR '1'='1",
        "'; DROP TABLE files; --",
        "x'); DROP TABLE files; --",
        '"; DROP TABLE files; --',
        "m1' UNION SELECT * FROM files --",
        f"x' UNION ALL SELECT content FROM read_text('{canary}') --",
        f"read_text('{canary}')",
        f"x'; COPY (SELECT 1) TO '{out}'; --",
        f"'); COPY (SELECT 1) TO '{out}' (FORMAT csv); --",
        f"x'; ATTACH '{evil}' AS evil; --",
        "x'; INSTALL httpfs; LOAD httpfs; --",
        "x'; SET enable_external_access = true; --",
        "x'; SET memory_limit = '1KB'; --",
        'model", (SELECT 1) --',
        'steps"; DROP TABLE files; --',
        "x' || (SELECT count(*) FROM files) || '",
        "%",
        "_",
        "$1",
        "?",
        "\\'; DROP TABLE files; --",
        "1; DROP TABLE files",
        "-1",
        "0 UNION SELECT 1",
    ]


def slots(out_dir: Path) -> dict[str, Callable[[str], list[str]]]:
    """Every CLI option that ends up in a SQL statement, as argv builders."""
    return {
        "best-settings --model": lambda p: ["best-settings", "--all", "--model", p, "--csv"],
        "best-settings --min-steps": lambda p: ["best-settings", "--min-steps", p, "--csv"],
        "dial-effects --model": lambda p: ["dial-effects", "--model", p, "--csv"],
        "dial-effects --dial": lambda p: ["dial-effects", "--dial", p, "--csv"],
        "catalog --limit": lambda p: ["catalog", "--limit", p, "--csv"],
        "compare A": lambda p: ["compare", p, "m1", "--csv"],
        "compare B": lambda p: ["compare", "m1", p, "--csv"],
        "compare --metric": lambda p: ["compare", "m0", "m1", "--metric", p, "--csv"],
        "export --views": lambda p: ["export", "--views", p, "--out-dir", str(out_dir), "--format", "csv"],
        "export --partition-by": lambda p: [
            "export",
            "--views",
            "steps",
            "--partition-by",
            p,
            "--out-dir",
            str(out_dir),
            "--format",
            "parquet",
        ],
        "status --db": lambda p: ["status", "--db", p],
        "ranking --campaign": lambda p: ["ranking", "--campaign", p, "--csv"],
        "ranking --since": lambda p: ["ranking", "--since", p, "--csv"],
        "best-settings --where": lambda p: ["best-settings", "--where", p, "--csv"],
        "compare --where": lambda p: ["compare", "m0", "m1", "--where", p, "--csv"],
        "plan-next --where": lambda p: ["plan-next", "--where", p],
    }


@pytest.fixture(scope="module")
def warehouse_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sqli")
    write_corpus(root / "runs", 6, 12, "s")
    db = root / "runs" / "runs.duckdb"
    done = cli("ingest", str(root / "runs"), "--db", str(db), "-q")
    assert done.returncode == 0, done.stderr
    FIRST.append(fingerprint(db))
    return db


FIRST: list[tuple[Any, ...]] = []


def fingerprint(db: Path) -> tuple[Any, ...]:
    """Bytes of the file, every schema object, and row counts of every table."""
    digest = hashlib.sha256(db.read_bytes()).hexdigest()  # a reader's copy, no writer is running
    objects = rows(
        db,
        "SELECT type, name, sql FROM (SELECT 'table' AS type, table_name AS name, sql FROM duckdb_tables()"
        " UNION ALL SELECT 'view', view_name, sql FROM duckdb_views() WHERE NOT internal"
        " UNION ALL SELECT 'macro', function_name, macro_definition FROM duckdb_functions()"
        "   WHERE NOT internal AND function_type LIKE '%macro%') ORDER BY ALL",
    )
    tables = [r[1] for r in objects if r[0] == "table"]
    counts = [rows(db, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables]
    return digest, tuple(objects), tuple(counts)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_injection_corpus_against_every_sql_option(
    warehouse_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "canary.txt").write_text(CANARY_TEXT, encoding="utf-8")
    before = fingerprint(warehouse_db)
    out_dir = tmp_path / "exports"
    tried = 0
    for name, argv in slots(out_dir).items():
        base_code, base_out, _ = run([*argv("no-such-value-zz"), "--db", str(warehouse_db)], capsys)
        base_rows = len(base_out.splitlines()) if base_code == 0 else 0
        for payload in payloads(tmp_path):
            args = argv(payload)
            if name != "status --db":
                args += ["--db", str(warehouse_db)]
            code, out, err = run(args, capsys)
            tried += 1
            where = f"{name} = {payload!r}"
            assert code in (0, 2, 3, 7), f"{where}: exit {code}: {err}"
            assert "Traceback" not in err and "internal error" not in err, f"{where}: {err}"
            assert CANARY_TEXT not in out + err, where
            # --where is a predicate by design: it may select more runs, never touch anything else
            if code == 0 and name != "export --views" and not name.endswith("--where"):
                assert len(out.splitlines()) <= max(base_rows, 1), f"{where} returned extra rows:\n{out}"
    assert fingerprint(warehouse_db) == before  # no schema change, no row change, same bytes
    assert not (tmp_path / "pwned.csv").exists() and not (tmp_path / "evil.duckdb").exists()
    assert not out_dir.exists() or not list(out_dir.iterdir())  # export refused every payload view
    print(f"\nSQL injection: {tried} payload x option attempts, all clean")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT content FROM read_text('{canary}')", "file read"),
        ("SELECT * FROM read_csv('{canary}')", "file read"),
        ("COPY (SELECT 1) TO '{out}'", "file write"),
        ("COPY (SELECT * FROM files) TO '{out}' (FORMAT parquet)", "file write"),
        ("ATTACH '{evil}' AS evil", "attach"),
        ("INSTALL httpfs", "extension install"),
        ("LOAD httpfs", "extension load"),
        ("SET enable_external_access = true", "re-enable"),
        ("SET memory_limit = '1KB'", "locked configuration"),
        ("SELECT 1; DROP TABLE files", "stacked write"),
        ("CREATE TABLE evil AS SELECT 1", "write"),
        ("INSERT INTO settings VALUES ('a', 'b')", "write"),
        ("SELECT getenv('HOME')", "environment"),
    ],
)
def test_query_is_locked_down_without_allow_external(
    warehouse_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], sql: str, reason: str
) -> None:
    (tmp_path / "canary.txt").write_text(CANARY_TEXT, encoding="utf-8")
    text = sql.format(canary=tmp_path / "canary.txt", out=tmp_path / "out.csv", evil=tmp_path / "evil.duckdb")
    code, out, err = run(["query", text, "--db", str(warehouse_db)], capsys)
    assert code == 3, (reason, code, out, err)
    assert err.startswith("error: query failed:") and err.count("\n") == 1, err
    assert CANARY_TEXT not in out
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "evil.duckdb").exists()


def test_allow_external_is_what_opens_file_access(
    warehouse_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text(CANARY_TEXT, encoding="utf-8")
    sql = f"SELECT content FROM read_text('{canary}')"
    assert run(["query", sql, "--db", str(warehouse_db), "--csv"], capsys)[0] == 3
    code, out, _err = run(["query", sql, "--db", str(warehouse_db), "--csv", "--allow-external"], capsys)
    assert code == 0 and CANARY_TEXT in out
    code, out, _err = run(
        ["query", "SELECT count(*) AS n FROM records", "--db", str(warehouse_db), "--csv"], capsys
    )
    assert code == 0 and out.splitlines()[0] == "n"


def test_writer_inputs_are_stored_as_values(warehouse_db: Path, tmp_path: Path) -> None:
    """Paths and config names that reach the writers (ingest, prices) are bound values."""
    db = tmp_path / "copy" / "runs.duckdb"
    db.parent.mkdir()
    shutil.copyfile(warehouse_db, db)
    odd = "it's'; DROP TABLE files; --"
    runs = tmp_path / odd
    write_corpus(runs, 1, 3, "q")
    done = cli("ingest", str(runs), "--db", str(db), "-q")
    assert done.returncode == 0, done.stderr
    assert rows(db, "SELECT count(*) FROM files WHERE root = ?", [str(runs.resolve())]) == [(1,)]
    toml = tmp_path / "warehouse.toml"
    model = "evil'); DROP TABLE files; --"
    toml.write_text(f'[prices."{model}"]\ninput_per_mtok = 1.0\noutput_per_mtok = 2.0\n', encoding="utf-8")
    done = cli("prices", "--db", str(db), "--config", str(toml))
    assert done.returncode == 0, done.stderr
    assert rows(db, "SELECT model FROM prices") == [(model,)]
    assert rows(db, "SELECT count(*) FROM files")[0][0] > 1  # still there


def test_lake_urls_are_quoted_literals(tmp_path: Path) -> None:
    evil = f"' AS lake; COPY (SELECT 1) TO '{tmp_path}/p.csv'; --"
    url = f"ducklake:postgres:dbname=x host=127.0.0.1 port=1{evil}"
    done = cli("query", "select 1", "--db", url, cwd=tmp_path)
    assert done.returncode in (2, 7) and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "p.csv").exists()


def test_the_database_is_unchanged_after_every_attempt(warehouse_db: Path) -> None:
    """Runs last in this file: bytes, schema objects and row counts as right after the ingest."""
    assert fingerprint(warehouse_db) == FIRST[0]
