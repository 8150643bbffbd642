"""Scale an ingested warehouse up by replicating its runs with SQL (used by bench_views.py).

The base database comes from the real pipeline (gen_corpus.py, then `warehouse ingest`). Each
replica k = 1..K copies every `files`, `records` and `transcripts` row of the base with:
- a new file_id (hash of the old one and k), path and relpath with a `~k` suffix (same campaign),
  run_key / run_id / files.run_key_at_end / files.legacy_key with a `~k` suffix (new runs);
- a model drawn per file from the canonical models of `model_names` (header model and path model
  agree), τ drawn per file from 0.25 / 0.3 / 0.35 / 0.4, the anonymisation seed + k, and for two
  replicas in three one dial changed (self_consistency_n or fact_cards_budget: new settings);
- step timestamps shifted by k days; item_id kept (the same items recur across models, as in a
  sweep, so paired comparisons have pairs);
- MCQ outcomes redrawn per step with a per-model accuracy (35-71%): credited = correct and a
  2-in-3 draw, witness_pass = credited, coverage drawn in [0, 1), so models differ.
Written through warehouse.store.connect (the ingest's storage settings: zstd strings, its row
group size). `records.line` is copied as logged (views that read it parse the same JSON).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.store.connect import connect_file

# Per base file and replica: new id, model, τ, model accuracy (per mille).
FILE_MAP = """
CREATE OR REPLACE TEMP TABLE _fmap AS
WITH m AS (SELECT list(DISTINCT model ORDER BY model) AS models FROM base.model_names)
SELECT f.file_id AS old_id, (hash(f.file_id, {k}) >> 2)::BIGINT AS new_id,
       m.models[1 + (hash(f.file_id, {k}, 'model') % len(m.models))::INTEGER] AS model,
       [0.25, 0.3, 0.35, 0.4][1 + (hash(f.file_id, {k}, 'tau') % 4)::INTEGER] AS tau,
       350 + 40 * ((hash(f.file_id, {k}, 'model') % len(m.models)) % 10)::INTEGER AS acc
FROM base.files f, m
"""

FILES_OVERRIDE = {
    "file_id": "x.new_id",
    "path": "path || '~{k}'",
    "relpath": "relpath || '~{k}'",
    "inode": "inode + {k}",
    "run_key_at_end": "run_key_at_end || '~{k}'",
    "legacy_key": "legacy_key || '~{k}'",
    "model": "CASE WHEN t.model IS NOT NULL THEN x.model END",
    "tau": "CASE WHEN t.tau IS NOT NULL THEN x.tau END",
}
_CORRECT = "(hash(t.file_id, line_no, {k}) % 1000)::INTEGER < x.acc"
_CREDITED = _CORRECT + " AND hash(t.file_id, line_no, {k}, 'c') % 3 <> 0"
_MCQ = "kind = 'step' AND task_type = 'mcq'"
RECORDS_OVERRIDE = {
    "file_id": "x.new_id",
    "run_key": "run_key || '~{k}'",
    "run_id": "run_id || '~{k}'",
    "ts": "ts + {k} * 86400",
    "anon_seed": "anon_seed + {k}",
    "hdr_model": "CASE WHEN hdr_model IS NOT NULL THEN x.model END",
    "hdr_tau": "CASE WHEN hdr_tau IS NOT NULL THEN x.tau END",
    "dials": (
        "CASE {k} % 3 WHEN 1 THEN json_merge_patch(dials, '{{\"self_consistency_n\": 5}}')"
        " WHEN 2 THEN json_merge_patch(dials, '{{\"fact_cards_budget\": 16}}') ELSE dials END"
    ),
    "correct": f"CASE WHEN {_MCQ} THEN {_CORRECT} ELSE correct END",
    "credited": f"CASE WHEN {_MCQ} THEN {_CREDITED} ELSE credited END",
    "witness_pass": f"CASE WHEN {_MCQ} THEN {_CREDITED} ELSE witness_pass END",
    "coverage": "CASE WHEN kind = 'step' THEN (hash(line_no, {k}, 'v') % 1000) / 1000.0 ELSE coverage END",
}
TRANSCRIPTS_OVERRIDE = {"file_id": "x.new_id", "run_key": "run_key || '~{k}'"}


def _select(con: duckdb.DuckDBPyConnection, table: str, override: dict[str, str], k: int) -> str:
    cols = [r[0] for r in con.execute(f"DESCRIBE base.{table}").fetchall()]
    exprs = [f"{override[c].format(k=k)} AS {c}" if c in override else f"t.{c}" for c in cols]
    return f"SELECT {', '.join(exprs)} FROM base.{table} t JOIN _fmap x ON x.old_id = t.file_id"


def replicate(target: str, base: str, replicas: int) -> None:
    """Append `replicas` copies of base's runs to target (a copy of base made by the caller)."""
    con = connect_file(Path(target), read_only=False)
    try:
        con.execute(f"ATTACH '{base}' AS base (READ_ONLY)")
        for k in range(1, replicas + 1):
            con.execute(FILE_MAP.format(k=k))
            con.execute("BEGIN")
            for table, override in (
                ("files", FILES_OVERRIDE),
                ("records", RECORDS_OVERRIDE),
                ("transcripts", TRANSCRIPTS_OVERRIDE),
            ):
                con.execute(f"INSERT INTO warehouse.{table} {_select(con, table, override, k)}")
            con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
