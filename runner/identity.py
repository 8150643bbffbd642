"""What makes two runs the same work: student, model, seed, τ, steps, conditions and every dial.

The runner never reads the warehouse (it imports only warehouse.core); the CLI asks the warehouse
which complete runs it holds (archived ones included), computes their identities with
`run_identity` from the logged header values, and hands the set to the sweep, which skips specs
whose `spec_identity` is in it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from runner.run import RunSpec
from warehouse.core.models import model_key


def run_identity(
    *,
    student: str | None,
    model: str | None,
    seed: int | None,
    tau: float | None,
    steps: int | None,
    num_options: int | None,
    difficulty: str | None,
    task: str | None,
    dials: Mapping[str, Any] | None,
) -> str:
    """A stable hash of the values a run header logs for these; spellings of a model agree."""
    parts = [
        student or "",
        model_key(model or ""),
        "" if seed is None else str(int(seed)),
        "" if tau is None else f"{float(tau):.6f}",
        "" if steps is None else str(int(steps)),
        "" if num_options is None else str(int(num_options)),
        difficulty or "",
        task or "",
        json.dumps(dials or {}, sort_keys=True, separators=(",", ":")),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def spec_identity(spec: RunSpec) -> str:
    """The identity of the run this spec would log (the header `runner.run.header` writes)."""
    return run_identity(
        student=spec.student,
        model=spec.model,
        seed=spec.seed if spec.task_file is None else None,
        tau=spec.coverage_tau,
        steps=spec.steps,
        num_options=spec.num_options,
        difficulty=spec.difficulty,
        task=spec.task,
        dials=spec.dials.as_dict(),
    )
