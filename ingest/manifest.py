"""The `files` table: read it into plans, write back what an ingest learned."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from ingest.digests import (
    MODELS_KEY,
    PRICES_KEY,
    RULES_KEY,
    models_digest,
    prices_digest,
    rules_digest,
    settings_digests,
)
from ingest.discover import Known, Stats, fingerprints
from ingest.load import FileOutcome
from ingest.pathrules import derive
from ingest.rowsets import execute, row_set
from warehouse.core.config import PathRule, Price
from warehouse.core.models import ModelNames, model_names

if TYPE_CHECKING:
    import duckdb

    from warehouse.core.config import Config

_KNOWN_COLS = (
    "file_id, path, relpath, status, size, mtime_ns, inode, head_sha256, tail_sha256,"
    " ingested_bytes, ingested_lines, run_key_at_end, legacy_key"
)
KNOWN_BY_PATH_MAX = 64  # more paths: read every row (binding long lists is slow)
IN_PROGRESS_KEY = "in_progress_minutes"


def read_manifest(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, Known], dict[str, list[Known]]]:
    """(present/missing files by path, archived files by relpath)."""
    return _by_path(con.execute(f"SELECT {_KNOWN_COLS} FROM files").fetchall())


def _by_path(rows: list[tuple[Any, ...]]) -> tuple[dict[str, Known], dict[str, list[Known]]]:
    by_path: dict[str, Known] = {}
    archived: dict[str, list[Known]] = {}
    for row in rows:
        known = Known(*row)
        if known.status == "archived":
            archived.setdefault(known.relpath, []).append(known)
        else:
            by_path[known.path] = known
    return by_path, archived


def read_known(
    con: duckdb.DuckDBPyConnection, paths: list[str]
) -> tuple[dict[str, Known], dict[str, list[Known]]]:
    """read_manifest for these paths only (archived rows: all of them, they are looked up by relpath).
    Many paths: the whole manifest (binding a long list costs more than reading every row)."""
    if len(paths) > KNOWN_BY_PATH_MAX:
        by_path, archived = read_manifest(con)
        wanted = set(paths)  # only these: plan() takes any other present row for a vanished file
        return {p: k for p, k in by_path.items() if p in wanted}, archived
    rows = con.execute(
        f"SELECT {_KNOWN_COLS} FROM files WHERE status = 'archived' OR path IN (SELECT unnest($paths))",
        {"paths": paths},
    ).fetchall()
    return _by_path(rows)


def read_stats(con: duckdb.DuckDBPyConnection) -> Stats:
    """(path, size, mtime_ns, inode) of every present file: what a no-op test needs."""
    rows = con.execute("SELECT path, size, mtime_ns, inode FROM files WHERE status = 'present'")
    return set(rows.fetchall())


def new_file_id() -> int:
    return secrets.randbits(62)


def derived_columns(
    relpath: str, rules: tuple[PathRule, ...], names: ModelNames | None = None
) -> dict[str, object]:
    derived = derive(relpath, rules, names)
    tau = derived.values.get("tau")
    return {
        "provider": derived.values.get("provider"),
        "model": derived.values.get("model"),
        "student": derived.values.get("student"),
        "tau": float(tau) if tau else None,
        "stage": derived.values.get("stage"),
        "derivation": json.dumps(derived.rules) if derived.rules else None,
    }


# The manifest rows an ingest writes: column -> SQL type (derivation is JSON text, cast in SQL).
_MANIFEST_TYPES = {
    "file_id": "BIGINT",
    "path": "VARCHAR",
    "relpath": "VARCHAR",
    "root": "VARCHAR",
    "kind": "VARCHAR",
    "reset": "BOOLEAN",
    "size": "BIGINT",
    "mtime_ns": "BIGINT",
    "inode": "BIGINT",
    "head_sha256": "VARCHAR",
    "tail_sha256": "VARCHAR",
    "ingested_bytes": "BIGINT",
    "ingested_lines": "BIGINT",
    "pending_bytes": "BIGINT",
    "good_lines": "BIGINT",
    "bad_lines": "BIGINT",
    "blank_lines": "BIGINT",
    "run_key_at_end": "VARCHAR",
    "legacy_key": "VARCHAR",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "student": "VARCHAR",
    "tau": "DOUBLE",
    "stage": "VARCHAR",
    "derivation": "VARCHAR",
}


_SET = """path = m.path, relpath = m.relpath, root = m.root, kind = m.kind, status = 'present',
    size = m.size, mtime_ns = m.mtime_ns, inode = m.inode, head_sha256 = m.head_sha256,
    tail_sha256 = m.tail_sha256, ingested_bytes = m.ingested_bytes,
    ingested_lines = m.ingested_lines, pending_bytes = m.pending_bytes,
    good_lines = CASE WHEN m.reset THEN 0 ELSE files.good_lines END + m.good_lines,
    bad_lines = CASE WHEN m.reset THEN 0 ELSE files.bad_lines END + m.bad_lines,
    blank_lines = CASE WHEN m.reset THEN 0 ELSE files.blank_lines END + m.blank_lines,
    content_sha256 = CASE WHEN m.reset THEN NULL ELSE files.content_sha256 END,
    run_key_at_end = m.run_key_at_end, legacy_key = coalesce(m.legacy_key, files.legacy_key),
    provider = m.provider, model = m.model, student = m.student, tau = m.tau, stage = m.stage,
    derivation = m.derivation::JSON, last_load_id = $load_id, last_ingested = now()::TIMESTAMP,
    missing_since = NULL"""


def write_outcomes(
    con: duckdb.DuckDBPyConnection,
    outcomes: list[FileOutcome],
    load_id: int,
    root: str,
    rules: tuple[PathRule, ...],
    names: ModelNames | None = None,
) -> None:
    """Update rows of files seen before, insert rows for new ones."""
    if not outcomes:
        return
    names = names or model_names()
    dicts = [_row(o, root, rules, names) for o in outcomes]
    rows = row_set({name: (sqltype, [d[name] for d in dicts]) for name, sqltype in _MANIFEST_TYPES.items()})
    if any(o.plan.known is not None for o in outcomes):  # (each statement: ~20 ms on 20k files)
        execute(
            con,
            f"UPDATE files SET {_SET} FROM __rows__ AS m WHERE files.file_id = m.file_id",
            {"load_id": load_id},
            rows,
        )
    if all(o.plan.known is not None for o in outcomes):
        return
    execute(
        con,
        """INSERT INTO files BY NAME
           SELECT m.* EXCLUDE (reset, derivation), m.derivation::JSON AS derivation,
                  'present' AS status, $load_id AS first_load_id, $load_id AS last_load_id,
                  now()::TIMESTAMP AS first_seen, now()::TIMESTAMP AS last_ingested
           FROM __rows__ AS m
           WHERE m.file_id NOT IN (SELECT file_id FROM files)""",
        {"load_id": load_id},
        rows,
    )


def _row(o: FileOutcome, root: str, rules: tuple[PathRule, ...], names: ModelNames) -> dict[str, object]:
    f = o.plan.found
    head, tail = fingerprints(f.path, f.size if f.kind == "gz" else o.end)
    return {
        "file_id": o.file_id,
        "path": f.path,
        "relpath": f.relpath,
        "root": root,
        "kind": f.kind,
        "reset": o.plan.action == "rewritten",
        "size": f.size,
        "mtime_ns": f.mtime_ns,
        "inode": f.inode,
        "head_sha256": head,
        "tail_sha256": tail,
        "ingested_bytes": o.end,
        "ingested_lines": o.lines,
        "pending_bytes": o.pending,
        "good_lines": o.good,
        "bad_lines": o.bad,
        "blank_lines": o.blank,
        "run_key_at_end": o.run_key_at_end,
        "legacy_key": o.legacy,
        **derived_columns(f.relpath, rules, names),
    }


def mark_missing(con: duckdb.DuckDBPyConnection, file_ids: list[int]) -> None:
    if file_ids:
        con.execute(
            "UPDATE files SET status = 'missing', missing_since = now()::TIMESTAMP"
            " WHERE list_contains($ids, file_id)",
            {"ids": file_ids},
        )


def refresh_attributes(
    con: duckdb.DuckDBPyConnection, rules: tuple[PathRule, ...], names: ModelNames | None = None
) -> bool:
    """Re-derive path attributes of every file when the rules changed. True if it did."""
    names = names or model_names()
    digest = rules_digest(rules, names)
    row = con.execute("SELECT value FROM settings WHERE key = ?", [RULES_KEY]).fetchone()
    if row and row[0] == digest:
        return False
    files = con.execute("SELECT file_id, relpath FROM files").fetchall()
    if files:
        dicts = [{"file_id": fid, **derived_columns(rel, rules, names)} for fid, rel in files]
        cols = ("file_id", "provider", "model", "student", "tau", "stage", "derivation")
        rows = row_set({n: (_MANIFEST_TYPES[n], [d[n] for d in dicts]) for n in cols})
        execute(
            con,
            """UPDATE files SET provider = a.provider, model = a.model, student = a.student,
                   tau = a.tau, stage = a.stage, derivation = a.derivation::JSON
               FROM __rows__ AS a WHERE files.file_id = a.file_id""",
            {},
            rows,
        )
    con.execute("DELETE FROM settings WHERE key = ?", [RULES_KEY])
    con.execute("INSERT INTO settings VALUES (?, ?)", [RULES_KEY, digest])
    return True


def refresh_prices(con: duckdb.DuckDBPyConnection, prices: dict[str, Price]) -> bool:
    """Mirror warehouse.toml's [prices] into the `prices` table the cost views read."""
    from warehouse.store.prices import sync_prices

    digest = prices_digest(prices)
    row = con.execute("SELECT value FROM settings WHERE key = ?", [PRICES_KEY]).fetchone()
    if row and row[0] == digest:
        return False
    sync_prices(con, prices)
    con.execute("DELETE FROM settings WHERE key = ?", [PRICES_KEY])
    con.execute("INSERT INTO settings VALUES (?, ?)", [PRICES_KEY, digest])
    return True


def refresh_models(con: duckdb.DuckDBPyConnection, names: ModelNames, in_progress_minutes: float) -> bool:
    """Mirror the known models + [models] aliases into `model_names`, and [status]
    in_progress_minutes into `settings`, for the views. True if anything changed."""
    digest = models_digest(names, in_progress_minutes)
    row = con.execute("SELECT value FROM settings WHERE key = ?", [MODELS_KEY]).fetchone()
    if row and row[0] == digest:
        return False
    con.execute("DELETE FROM model_names")
    rows = names.rows()
    if rows:
        execute(
            con,
            "INSERT INTO model_names SELECT key, model, source FROM __rows__",
            {},
            row_set(
                {
                    "key": ("VARCHAR", [r[0] for r in rows]),
                    "model": ("VARCHAR", [r[1] for r in rows]),
                    "source": ("VARCHAR", [r[2] for r in rows]),
                }
            ),
        )
    con.execute("DELETE FROM settings WHERE key IN (?, ?)", [MODELS_KEY, IN_PROGRESS_KEY])
    con.execute(
        "INSERT INTO settings VALUES (?, ?), (?, ?)",
        [MODELS_KEY, digest, IN_PROGRESS_KEY, str(in_progress_minutes)],
    )
    return True


def settings_stale(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """True when warehouse.toml's path rules, prices or model names differ from what the database
    used (so attributes must be derived again even when no file changed)."""
    # Our own constant keys inlined, no parameters: binding any parameter makes duckdb import
    # pandas when it is installed (0.3-0.4 s of every no-op ingest).
    keys = ", ".join(f"'{key}'" for key in (RULES_KEY, PRICES_KEY, MODELS_KEY))
    stored = dict(con.execute(f"SELECT key, value FROM settings WHERE key IN ({keys})").fetchall())
    return any(stored.get(key) != digest for key, digest in settings_digests(config).items())
