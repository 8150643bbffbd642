"""Runs the warehouse cannot name a model for: find them and say how to fix it.

A log names its model in the run header (newer logs) or nowhere; old logs are attributed by the
path rules. A run left without a model is never ranked (it is not a model called "unknown"): the
ingest says how many there are, shows examples and prints a rule to paste into warehouse.toml.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

_UNNAMED = """
    SELECT f.relpath
    FROM files f
    WHERE f.model IS NULL AND f.status <> 'missing' AND ($load_id IS NULL OR f.last_load_id = $load_id)
      AND EXISTS (SELECT 1 FROM records r WHERE r.file_id = f.file_id AND r.kind IN ('header', 'step'))
      AND NOT EXISTS (SELECT 1 FROM records r
                      WHERE r.file_id = f.file_id AND r.kind = 'header' AND r.hdr_model IS NOT NULL)
    ORDER BY f.relpath
"""


def unattributed_files(con: duckdb.DuckDBPyConnection, load_id: int | None = None) -> list[str]:
    """Relative paths of log files whose runs have no model (of one load, or all)."""
    return [r[0] for r in con.execute(_UNNAMED, {"load_id": load_id}).fetchall()]


def rule_snippet(relpaths: list[str]) -> str:
    """A warehouse.toml snippet naming the model of files like the first example."""
    first = relpaths[0]
    folder = first.rsplit("/", 1)[0] if "/" in first else ""
    stem = re.sub(r"\.jsonl(\.recovered|\.gz)?$", "", first.rsplit("/", 1)[-1])
    token = stem.split("_", 1)[0]
    name = re.sub(r"[^a-z0-9]+", "_", (folder or token).lower()).strip("_") or "my_logs"
    pattern = f"^{re.escape(folder)}/" if folder else f"(^|/){re.escape(token)}_"
    return "\n".join(
        [
            "[[path_rules]]",
            f'name = "{name}"',
            f"pattern = '{pattern}'",
            'set = { model = "ORG/MODEL", provider = "PROVIDER" }  # and tau = "0.35" if not 0.4',
            "# or, when the file name starts with a model's short name:",
            "# [models]",
            f'# "{token}" = "ORG/MODEL"',
        ]
    )
