#!/usr/bin/env python3
"""The engine floor: one bare DuckDB `read_json(files, columns=...)` CTAS into a fresh file.

This is what the issue's "≤ 1.5× the bare read_json(columns=) CTAS" target compares against
(the "explicit columns" way to read JSON): the main fields typed as STRUCTs, open-ended blobs as JSON,
one statement over the whole file list, DuckDB defaults (threads = cores, default memory_limit),
then CHECKPOINT. It is not correct for live logs (ignore_errors turns bad lines into phantom all-NULL rows)
and keeps no manifest: it is a speed floor only.

With --batch-files N the file list is read N files per statement (a CTAS, then INSERTs): one
read_json over 20,000 small files does not finish on duckdb 1.5.5 (it ran out of its 18.8 GiB
memory_limit at 8.6 GB RSS here), so the `many` floor is batched, e.g. 500 files per INSERT (same
time, bounded memory).

--narrow uses a narrower map (drops presented_stem, fact_cards_before, tool_outputs,
evidence_report, ...): about half the CPU of the full map, which keeps every key of the format.

Usage: floor_read_json.py FILE_LIST DB [--batch-files N] [--narrow]   (FILE_LIST: one path per line)
Prints {"rows": N, "files": F, "batches": B, "seconds": S} on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

USAGE = (
    "STRUCT(calls INTEGER, prompt_tokens BIGINT, completion_tokens BIGINT, total_tokens BIGINT, "
    "request_ms_sum DOUBLE)"
)
COLUMNS = {
    "run_header": "BOOLEAN",
    "run_end": "BOOLEAN",
    "schema_version": "INTEGER",
    "run_id": "VARCHAR",
    "step": "INTEGER",
    "ts": "BIGINT",
    "config": "JSON",
    "anonymization": "JSON",
    "guardrails": "JSON",
    "student": "JSON",
    "coverage_tau": "DOUBLE",
    "runner": "JSON",
    "plan": "JSON",
    "status": "VARCHAR",
    "task": "STRUCT(type VARCHAR, stem VARCHAR, options VARCHAR[], correct_index INTEGER)",
    "presented_stem": "VARCHAR",
    "answer": "STRUCT(chosen_index INTEGER, votes INTEGER[], citations JSON, witness JSON)",
    "evaluation": (
        "STRUCT(correct BOOLEAN, chosen_index INTEGER, correct_index INTEGER, abstained BOOLEAN, "
        "calibrated_score DOUBLE, abstain_reason VARCHAR, evidence_report JSON, "
        "citations_evidence STRUCT(coverage DOUBLE, witness_pass BOOLEAN, credited BOOLEAN, "
        "reasons VARCHAR[]))"
    ),
    "tool_outputs": "JSON",
    "tools_used": "VARCHAR[]",
    "alias": "JSON",
    "alias_evidence": "JSON",
    "fact_cards_before": "JSON",
    "fact_cards_after": "JSON",
    "card_validation": "JSON",
    "evidence_telemetry": "JSON",
    "duration_ms": "DOUBLE",
    "student_usage": USAGE,
    "tutor_usage": USAGE,
    "messages": "JSON",
    "guardrail_alerts": "JSON",
    "calls": "JSON",
}


# The narrower "explicit columns" map: fewer keys typed, the rest dropped.
NARROW = {
    "run_header": "BOOLEAN", "run_id": "VARCHAR", "ts": "BIGINT", "step": "INTEGER",
    "config": "JSON", "anonymization": "JSON",
    "task": "STRUCT(type VARCHAR, stem VARCHAR, options VARCHAR[], correct_index INTEGER)",
    "answer": "STRUCT(chosen_index INTEGER, citations VARCHAR[], witness JSON)",
    "evaluation": (
        "STRUCT(correct BOOLEAN, citations_evidence STRUCT(coverage DOUBLE, witness_pass BOOLEAN, "
        "credited BOOLEAN, reasons VARCHAR[]))"
    ),
    "student_usage": "STRUCT(prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER)",
    "tutor_usage": "STRUCT(prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER)",
    "fact_cards_after": "JSON", "messages": "JSON",
}  # fmt: skip


def columns_sql(columns: dict[str, str] = COLUMNS) -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"


def main(argv: list[str]) -> int:
    batch, columns = 0, COLUMNS
    if "--narrow" in argv:
        argv, columns = [a for a in argv if a != "--narrow"], NARROW
    if len(argv) == 4 and argv[2] == "--batch-files":
        batch, argv = int(argv[3]), argv[:2]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    files = [line for line in Path(argv[0]).read_text().splitlines() if line]
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(argv[1])
    reader = (
        f"read_json(?, format='newline_delimited', filename=true, ignore_errors=true, "
        f"columns={columns_sql(columns)})"
    )
    step = batch or max(1, len(files))
    batches = [files[i : i + step] for i in range(0, len(files), step)]
    for k, part in enumerate(batches):
        verb = "CREATE TABLE lines AS" if k == 0 else "INSERT INTO lines"
        con.execute(f"{verb} SELECT * FROM {reader}", [part])
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM lines").fetchone()
    con.close()
    print(
        json.dumps(
            {
                "rows": rows[0] if rows else 0,
                "files": len(files),
                "batches": len(batches),
                "seconds": round(time.perf_counter() - start, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
