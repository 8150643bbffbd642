"""`warehouse plan-next` on the demo: the plan it writes is one `warehouse sweep --dry-run` accepts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

WAREHOUSE = [sys.executable, "-m", "warehouse"]


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WAREHOUSE, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_plan_next_on_the_demo_is_a_plan_sweep_accepts(tmp_path: Path) -> None:
    demo = _cli(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    done = _cli(tmp_path, "plan-next", "--out", "next.toml")
    assert done.returncode == 0, done.stderr
    plan = tomllib.loads((tmp_path / "next.toml").read_text(encoding="utf-8"))
    assert plan["stages"] and plan["models"]
    assert all(1 <= s["seeds"] <= 8 for s in plan["stages"])
    assert {m["model"] for m in plan["models"]} <= {"oracle", "lexical", "random"}
    dry = _cli(tmp_path, "sweep", "next.toml", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("runs/next/") == sum(s["seeds"] for s in plan["stages"]) * len(plan["models"])
    bad = _cli(tmp_path, "plan-next", "--where", "no_such_column = 1")
    assert bad.returncode == 3 and bad.stderr.count("\n") == 1
