"""Thin eval runner: writes run logs; knows nothing of the database.

from runner import RunSpec, execute
execute(RunSpec(student="oracle", model="oracle", steps=10, log=Path("runs/x.jsonl")))
"""

from __future__ import annotations

from runner.dials import Dials
from runner.run import RunResult, RunSpec, execute

__all__ = ["Dials", "RunResult", "RunSpec", "execute"]
