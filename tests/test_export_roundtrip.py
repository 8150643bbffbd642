"""Exports read back with the same rows and types; partitioning; atomic under SIGKILL; allowlist."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from archive_support import empty_db, ingest
from reliability_support import killed_at
from report_support import write_corpus

from warehouse.apps.export import DEFAULT_VIEWS, export
from warehouse.core.errors import UsageError

EXTRA_VIEWS = ("runs",)  # JSON, VARCHAR[] and TIMESTAMP columns (runs_summary has HUGEINT)


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("export")
    write_corpus(root / "runs")
    db = root / "runs" / "runs.duckdb"
    empty_db(db)
    ingest(root / "runs", db)
    yield db


def _reader(db: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET enable_progress_bar = false")
    return con


def _arrow_type(duck: str) -> pa.DataType:
    scalar = {
        "BIGINT": pa.int64(),
        "HUGEINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "VARCHAR": pa.string(),
        "BOOLEAN": pa.bool_(),
        "TIMESTAMP": pa.timestamp("us"),
        "DATE": pa.date32(),
        "JSON": pa.string(),
    }
    if duck.endswith("[]"):
        return pa.list_(_arrow_type(duck[:-2]))
    return scalar[duck]


def _plain(t: pa.DataType) -> pa.DataType:
    """JSON comes back as the arrow.json extension over string: compare its storage type."""
    if isinstance(t, pa.BaseExtensionType):
        return t.storage_type
    if pa.types.is_list(t):
        return pa.list_(_plain(t.value_type))
    return t


def test_parquet_and_csv_round_trip(corpus_db: Path, tmp_path: Path) -> None:
    views = [*DEFAULT_VIEWS, *EXTRA_VIEWS]
    done = export(corpus_db, tmp_path, views, ("csv", "parquet"))
    assert len(done) == 2 * len(views)
    con = _reader(corpus_db)
    try:
        for e in done:
            cols = con.execute(f'DESCRIBE "{e.view}"').fetchall()
            if e.view in ("steps", "runs"):  # cheap views: count independently of COPY
                count = con.execute(f'SELECT count(*) FROM "{e.view}"').fetchone()
                assert count is not None and e.rows == count[0], e.view
            assert e.rows > 0, e.view
            if e.format == "parquet":
                table = pq.read_table(e.path)
                assert table.num_rows == e.rows
                assert table.column_names == [c[0] for c in cols]
                for field, (name, duck, *_rest) in zip(table.schema, cols, strict=True):
                    assert _plain(field.type) == _arrow_type(str(duck)), (e.view, name, field.type)
            else:
                assert e.path.name == f"{e.view}.csv.gz"
                with gzip.open(e.path, "rt", encoding="utf-8") as handle:
                    assert handle.readline().rstrip("\n").split(",") == [c[0] for c in cols]
                back = con.execute(
                    "SELECT count(*) FROM read_csv(?, header = true)", [str(e.path)]
                ).fetchone()
                assert back is not None and back[0] == e.rows
    finally:
        con.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("key", ["model", "date"])
def test_partitioned_steps(corpus_db: Path, tmp_path: Path, key: str) -> None:
    (steps_parquet,) = export(corpus_db, tmp_path, ["steps"], ("parquet",), key)
    assert steps_parquet.path == tmp_path / f"steps_by_{key}" and steps_parquet.path.is_dir()
    table = ds.dataset(steps_parquet.path, format="parquet", partitioning="hive").to_table()
    con = _reader(corpus_db)
    try:
        row = con.execute("SELECT count(*), count(DISTINCT coalesce(model, chr(0))) FROM steps").fetchone()
    finally:
        con.close()
    assert row is not None and table.num_rows == row[0] == steps_parquet.rows
    if key == "model":
        assert len(set(table.column("model").to_pylist())) == row[1]
        assert {p.name for p in steps_parquet.path.iterdir()} >= {"model=model-a", "model=model-b"}


def test_allowlist_and_quoting(corpus_db: Path, tmp_path: Path) -> None:
    for bad in ['steps"; DROP TABLE files; --', "read_text('/etc/passwd')", "files", "nope"]:
        with pytest.raises(UsageError, match="unknown view"):
            export(corpus_db, tmp_path / "x", [bad], ("csv",))
    assert not list((tmp_path / "x").iterdir())
    odd = tmp_path / "it's here"  # a quote in the output path is a literal, not SQL
    (e,) = export(corpus_db, odd, ["model_ranking"], ("csv",))
    assert e.path.parent == odd and e.path.is_file()
    with pytest.raises(UsageError):
        export(corpus_db, tmp_path, ["steps"], ("xlsx",))


def test_killed_export_leaves_previous_file(corpus_db: Path, tmp_path: Path) -> None:
    final = tmp_path / "model_ranking.parquet"
    final.write_bytes(b"OLD")
    code = (
        "import sys; from pathlib import Path; from warehouse.apps.export import export; "
        "export(sys.argv[1], Path(sys.argv[2]), ['model_ranking'], ('parquet',))"
    )
    child = killed_at("export:before-publish", code, str(corpus_db), str(tmp_path))
    assert child.returncode == -9, child.stderr
    assert final.read_bytes() == b"OLD"
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers  # the complete temp file of the killed writer, never under the final name
    export(corpus_db, tmp_path, ["model_ranking"], ("parquet",))
    assert pq.read_table(final).num_rows > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # swept


def test_cli_export(corpus_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from warehouse.cli import main

    main(
        [
            "export",
            "--db",
            str(corpus_db),
            "--out-dir",
            str(tmp_path),
            "--format",
            "csv",
            "--views",
            "model_ranking,by_model_runs",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert [Path(line.split("\t")[0]).name for line in lines] == [
        "model_ranking.csv.gz",
        "by_model_runs.csv.gz",
    ]
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--db", str(corpus_db), "--out-dir", str(tmp_path), "--views", "x;y"])
    assert exit_info.value.code == 2
