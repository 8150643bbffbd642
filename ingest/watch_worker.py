"""The worker process of `warehouse ingest --watch` (ingest/watch.py starts it).

Each line on stdin asks for one ordinary ingest (ingest_runs: the no-op check, then one
transaction published at once); each reply is one JSON line on stdout: {"summary": {...}} or
{"error": "one line", "code": exit code}. End of stdin ends the process. warehouse.toml is read
again each round, so an edit to it applies to the next round.

    python -m ingest.watch_worker RUNS_DIR DB [--config PATH] [--exact-only]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from warehouse.core.errors import ExitCode, WarehouseError, one_line
from warehouse.core.nopandas import hide_pandas


def one_round(runs_dir: str, db: str, config_path: str | None, fast: bool) -> dict[str, Any]:
    """One ingest; its summary, or the error as one line with the exit code it would have."""
    from ingest import ingest_runs
    from warehouse.core.config import load_config

    try:
        # direct: a watch round follows a change, so no read-only check before the writer.
        summary = ingest_runs(runs_dir, db, config=load_config(config_path), fast=fast, direct=True)
    except WarehouseError as e:
        return {"error": one_line(e), "code": int(e.exit_code)}
    except Exception as e:  # noqa: BLE001 - a bug or the disk: one line, and the watcher carries on
        return {"error": f"internal error: {type(e).__name__}: {one_line(e)}", "code": int(ExitCode.FAILURE)}
    return {"summary": summary.as_dict()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.watch_worker")
    parser.add_argument("runs_dir")
    parser.add_argument("db")
    parser.add_argument("--config")
    parser.add_argument("--exact-only", action="store_true")
    args = parser.parse_args(argv)
    hide_pandas()
    # The replies get stdout to themselves: anything else printing there (a library, DuckDB)
    # goes to stderr instead.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for _ in sys.stdin:
        reply = one_round(args.runs_dir, args.db, args.config, not args.exact_only)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:  # the watcher interrupts a long round when told to stop
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
