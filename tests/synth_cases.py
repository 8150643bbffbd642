"""Hand-made run-identity cases (appended runs, torn lines, old eras, copies) for the runs view tests."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

from synth import BASE_DIALS, header, step_record, write_jsonl

OLD_DIALS = {
    "closed_book": True,
    "anonymize": True,
    "rich": True,
    "verify": False,
    "reflection_every": 0,
    "context_position": "pre",
    "self_consistency_n": 1,
    "accumulate_notes": False,
    "rare_emphasis": False,
    "use_tools": False,
    "tools": ["retriever"],
}
DAY = 86_400


def _steps(run_id: str | None, n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rec = step_record(rng, run_id or "x", i, 1_750_000_000 + i, rng.random(), 0.5, 0.4, 1000)
        if run_id is None:
            rec.pop("run_id")
        out.append(rec)
    return out


def _age(path: Path, seconds: int) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def write_cases(runs: Path) -> dict[str, str]:
    """Write every case; return {case name: run_id or relpath}."""
    dials = dict(BASE_DIALS)
    # a .jsonl and a hand-made .recovered copy that stops earlier: the longer copy wins
    rec_hdr = header("run-recovered", 1_750_000_000, "m-x", dials, 4, 0.4)
    write_jsonl(runs / "camp1" / "x.jsonl", [rec_hdr, *_steps("run-recovered", 4)])
    write_jsonl(runs / "camp1" / "x.jsonl.recovered", [rec_hdr, *_steps("run-recovered", 2)])
    # header only, old
    write_jsonl(runs / "camp1" / "h.jsonl", [header("run-header-only", 1_750_000_100, "m-x", dials, 5, 0.4)])
    _age(runs / "camp1" / "h.jsonl", 2 * DAY)
    # still being written: a torn last line without newline
    path = runs / "camp1" / "p.jsonl"
    write_jsonl(
        path, [header("run-in-progress", 1_750_000_200, "m-x", dials, 10, 0.4), *_steps("run-in-progress", 2)]
    )
    with path.open("a", encoding="utf-8") as f:
        f.write('{"run_id": "run-in-progress", "step": 2, "ta')
    # runner log closed with an aborted run_end, under a path whose rule names another model
    write_jsonl(
        runs / "compare" / "deepinfra_foo" / "a.jsonl",
        [
            header("run-aborted", 1_750_000_300, "bar", dials, 10, 0.3),
            *_steps("run-aborted", 2),
            {
                "run_end": True,
                "schema_version": 2,
                "run_id": "run-aborted",
                "ts": 1_750_000_400,
                "status": "aborted",
                "reason": "endpoint failed",
                "steps_logged": 2,
            },
        ],
    )
    # old simulator header (no student, no tau, 11 dials): identity from the path rule
    old = header("run-old-era", 1_750_000_500, "ignored", OLD_DIALS, 3, 0.0, v2=False)
    write_jsonl(runs / "compare" / "deepinfra_foo" / "old.jsonl", [old, *_steps("run-old-era", 3)])
    _age(runs / "compare" / "deepinfra_foo" / "old.jsonl", 2 * DAY)
    # header-less first-format file
    write_jsonl(runs / "legacy" / "v0.jsonl", _steps(None, 3))
    _age(runs / "legacy" / "v0.jsonl", 2 * DAY)
    # two runs appended to one file; the first stopped early
    write_jsonl(
        runs / "camp2" / "two.jsonl",
        [
            header("run-first", 1_750_000_600, "m-y", dials, 5, 0.4),
            *_steps("run-first", 2),
            header("run-second", 1_750_000_700, "m-y", dials, 5, 0.4),
            *_steps("run-second", 5),
        ],
    )
    _age(runs / "camp2" / "two.jsonl", 2 * DAY)
    return {"legacy": "legacy/v0.jsonl"}


def dump(path: Path) -> str:
    return json.dumps(path.read_text(encoding="utf-8").splitlines())
