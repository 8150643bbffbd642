"""The DuckDB fast path and the exact line reader must produce identical rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import ingest_runs
from tests.ingest_support import content_hash, rows


def _step(run: str, i: int) -> dict[str, object]:
    return {
        "run_id": run,
        "step": i,
        "ts": 2.5,
        "task": {"type": "mcq", "stem": f"q {i}", "options": ["x", "y"], "correct_index": i % 2},
        "answer": {"chosen_index": 0, "votes": [0, None]},
        "evaluation": {
            "correct": i % 2 == 0,
            "citations_evidence": {
                "coverage": 0.25,
                "witness_pass": True,
                "credited": i % 4 == 0,
                "reasons": ["witness_mismatch"],
            },
        },
        "presented_stem": "é ü \u00e9 " + "pad " * 50,
        "duration_ms": 12.5,
        "student_usage": {"calls": 1, "total_tokens": 99},
        **_transcript(i),
    }


def _transcript(i: int) -> dict[str, object]:
    """This runner's calls[] transcripts on even steps, an older log's messages[] events on odd."""
    if i % 2:
        return {"messages": [{"role_group": "student", "model": "m", "system_len": 3, "user_len": 4}]}
    sent = [{"role": "system", "content": "sys é"}, {"role": "user", "content": f"q {i}\nA. x"}]
    call = {"role": "student", "phase": "use", "ms": 1.5, "messages": [{**m, "chars": 5} for m in sent]}
    return {"schema_version": 2, "calls": [{**call, "completion_chars": 12, "completion": '{"choice": "A"}'}]}


def _big_corpus(root: Path) -> None:
    (root / "exp").mkdir(parents=True)
    for f in range(3):
        header = {
            "run_header": True,
            "run_id": f"big-{f}",
            "ts": 1,
            "config": {"task": "mcq", "num_steps": 40, "dials": {"best_of_n": f}},
        }
        lines = [json.dumps(header)] + [
            json.dumps(_step(f"big-{f}", i), ensure_ascii=False) for i in range(40)
        ]
        (root / "exp" / f"deepinfra_m{f}_sc3_b8.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_fast_and_exact_paths_give_identical_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    _big_corpus(runs)
    monkeypatch.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
    fast_db, exact_db = tmp_path / "fast" / "r.duckdb", tmp_path / "exact" / "r.duckdb"
    fast = ingest_runs(str(runs), str(fast_db))
    exact = ingest_runs(str(runs), str(exact_db), fast=False)
    assert fast.files_fast_path == 3 and exact.files_fast_path == 0
    assert content_hash(fast_db) == content_hash(exact_db)
    assert rows(fast_db, "SELECT count(*) FROM records") == [(123,)]
    # 3 files x 20 steps x (2 messages + 1 completion); messages[] events stay in the records
    assert rows(fast_db, "SELECT count(*), count(content) FROM transcripts") == [(180, 180)]


def test_files_duckdb_would_read_differently_take_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    _big_corpus(runs)
    target = runs / "exp" / "deepinfra_m0_sc3_b8.jsonl"
    lines = target.read_text(encoding="utf-8").splitlines()
    lines[3] = '{"run_id": "big-0", "step": 99, "evaluation": {"coverage": NaN}}'
    lines[5] = "   "  # whitespace-only line: DuckDB would skip it silently
    lines[7] = '{"run_id": "big-0", "step": 7, "step": 8}'  # duplicate key
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    other = runs / "exp" / "deepinfra_m1_sc3_b8.jsonl"
    other.write_text(
        other.read_text(encoding="utf-8").replace('"ts": 2.5', '"ts": 2.5, "novel": 1', 1), encoding="utf-8"
    )
    monkeypatch.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
    summary = ingest_runs(str(runs), str(tmp_path / "r.duckdb"))
    assert summary.files_fast_path == 1  # only the clean file
    assert (summary.lines_quarantined, summary.lines_blank) == (2, 1)
    errors = sorted(e for (e,) in rows(tmp_path / "r.duckdb", "SELECT error FROM quarantine"))
    assert (
        errors[0] == "duplicate top-level key" and "expected a JSON value" in errors[1]
    ) or "NaN" in errors[1]
    assert rows(tmp_path / "r.duckdb", "SELECT key FROM schema_drift") == [("novel",)]


# One file per way DuckDB's reader could see a file differently from the exact path: each must
# leave the fast path to the exact one, and the database must equal an exact-only ingest.
_DEFECTS = {
    "trailing comma": lambda text: text.replace('"total_tokens": 99}', '"total_tokens": 99,}', 1),
    "NaN literal": lambda text: text.replace('"ts": 2.5', '"ts": NaN', 1),
    "Infinity literal": lambda text: text.replace('"ts": 2.5', '"ts": -Infinity', 1),
    "BOM": lambda text: "\ufeff" + text,
    "CRLF line ends": lambda text: text.replace("\n", "\r\n"),
    "blank line": lambda text: text.replace("\n", "\n\n", 1),
    "trailing spaces": lambda text: text.replace("\n", "   \n", 1),
    "array line": lambda text: text.replace("\n", "\n[1, 2]\n", 1),
    "malformed line": lambda text: text.replace("\n", '\n{"step": \n', 1),
    "control character": lambda text: text.replace("pad", "p\tad", 1),
    "unknown key": lambda text: text.replace('"ts": 2.5', '"ts": 2.5, "novel": 1', 1),
    "duplicate key": lambda text: text.replace('"ts": 2.5', '"ts": 2.5, "ts": 3', 1),
    "torn tail": lambda text: text + '{"run_id": "big-1", "st',
}


@pytest.mark.parametrize("defect", sorted(_DEFECTS))
def test_each_reader_difference_sends_only_that_file_to_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, defect: str
) -> None:
    runs = tmp_path / "runs"
    _big_corpus(runs)
    target = runs / "exp" / "deepinfra_m1_sc3_b8.jsonl"
    text = target.read_text(encoding="utf-8")
    changed = _DEFECTS[defect](text)
    assert changed != text
    target.write_bytes(changed.encode("utf-8"))
    monkeypatch.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
    fast_db, exact_db = tmp_path / "fast" / "r.duckdb", tmp_path / "exact" / "r.duckdb"
    fast = ingest_runs(str(runs), str(fast_db))
    exact = ingest_runs(str(runs), str(exact_db), fast=False)
    assert fast.files_fast_path == 2, defect
    assert content_hash(fast_db) == content_hash(exact_db), defect
    assert (fast.lines_good, fast.lines_quarantined, fast.lines_blank) == (
        exact.lines_good,
        exact.lines_quarantined,
        exact.lines_blank,
    )


def test_run_keys_match_on_both_paths_with_appended_runs_and_legacy_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    (runs / "exp").mkdir(parents=True)
    legacy = [json.dumps(_step("none", i)) for i in range(3)]  # steps before any header
    first = [json.dumps({"run_header": True, "run_id": "r1", "config": {}})] + [
        json.dumps(_step("r1", i)) for i in range(5)
    ]
    nameless = [json.dumps({"run_header": True, "config": {}})] + [
        json.dumps(_step("?", i)) for i in range(4)
    ]
    numeric = [json.dumps({"run_header": True, "run_id": 77, "config": {}}), json.dumps(_step("77", 0))]
    text = "\n".join(legacy + first + nameless + numeric) + "\n"
    (runs / "exp" / "mixed.jsonl").write_text(text, encoding="utf-8")
    monkeypatch.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
    fast_db, exact_db = tmp_path / "f" / "r.duckdb", tmp_path / "e" / "r.duckdb"
    assert ingest_runs(str(runs), str(fast_db)).files_fast_path == 1
    ingest_runs(str(runs), str(exact_db), fast=False)
    assert content_hash(fast_db) == content_hash(exact_db)
    keys = [k for (k,) in rows(fast_db, "SELECT run_key FROM records ORDER BY line_no")]
    assert keys[0].startswith("legacy-") and len(set(keys[:3])) == 1
    assert keys[3:9] == ["r1"] * 6
    assert keys[9].startswith("synthetic-") and len(set(keys[9:14])) == 1
    assert keys[14:] == ["77", "77"]
    assert rows(fast_db, "SELECT run_key_at_end FROM files") == [("77",)]


MANIFEST_ROWS = (
    "SELECT relpath, kind, size, ingested_bytes, ingested_lines, good_lines, bad_lines, blank_lines,"
    " run_key_at_end, legacy_key, model, derivation FROM files ORDER BY relpath"
)


def test_bound_lists_and_arrow_row_sets_give_identical_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exact path hands few rows to DuckDB as bound lists (no pyarrow import), many as Arrow."""
    import ingest.rowsets

    runs = tmp_path / "runs"
    _big_corpus(runs)
    with open(runs / "exp" / "deepinfra_m0_sc3_b8.jsonl", "a", encoding="utf-8") as fh:
        fh.write(
            '{"run_id": "big-0", "step": 99, "step": 100}\nnot json\n\n{"run_id": "big-0", "new_key": [1]}\n'
        )
    dbs = {}
    for label, small in (("lists", 10_000), ("arrow", 0)):
        monkeypatch.setattr(ingest.rowsets, "SMALL_ROWS", small)
        dbs[label] = tmp_path / label / "r.duckdb"
        summary = ingest_runs(str(runs), str(dbs[label]), fast=False)
        assert (summary.lines_good, summary.lines_quarantined, summary.lines_blank) == (124, 2, 1)
    assert content_hash(dbs["lists"]) == content_hash(dbs["arrow"])
    assert rows(dbs["lists"], MANIFEST_ROWS) == rows(dbs["arrow"], MANIFEST_ROWS)
    drift = "SELECT key, kind, n_lines FROM schema_drift"
    assert rows(dbs["lists"], drift) == rows(dbs["arrow"], drift) == [("new_key", "other", 1)]
