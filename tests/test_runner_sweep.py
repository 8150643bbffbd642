"""Plans, resumable sweeps, and a sweep killed with SIGKILL that resumes to exactly the plan."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI

from runner.logfile import inspect_log
from runner.plan import expand
from runner.sweep import plan_actions, run_sweep
from warehouse.core.errors import ConfigError

KEY = "sk-TESTSECRET-sweep-0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent


def offline_plan(**extra: Any) -> dict[str, Any]:
    plan = {
        "name": "mini",
        "seed_base": 100,
        "coverage_tau": 0.3,
        "dials": {"q_min": 1},
        "models": [{"student": "oracle"}, {"student": "lexical", "dials": {"fact_cards_budget": 7}}],
        "stages": [
            {
                "name": "breadth",
                "steps": 4,
                "seeds": 2,
                "dials": {"fact_cards_budget": 6},
                "grid": {"self_consistency_n": [1, 3]},
            }
        ],
    }
    plan.update(extra)
    return plan


def records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def assert_exactly_one_complete_run(log: Path, steps: int) -> None:
    recs = records(log)
    headers = [r for r in recs if r.get("run_header")]
    ends = [r for r in recs if r.get("run_end")]
    assert len(headers) == 1, log
    assert [r["step"] for r in recs if "step" in r and not r.get("run_header")] == list(range(steps)), log
    assert ends and ends[-1]["status"] == "complete" and ends[-1]["steps_logged"] == steps
    assert {r["run_id"] for r in recs} == {headers[0]["run_id"]}


def test_plan_expands_stages_models_grid_and_seeds(tmp_path: Path) -> None:
    specs = expand(offline_plan(), tmp_path)
    assert len(specs) == 2 * 2 * 2
    names = sorted(s.log.relative_to(tmp_path).as_posix() for s in specs)
    assert names[0] == "mini/breadth/lexical_seed100_N4_sc1.jsonl"
    assert "mini/breadth/oracle_seed101_N4_sc3.jsonl" in names
    lex = next(s for s in specs if s.student == "lexical" and s.dials.self_consistency_n == 3)
    assert lex.dials.fact_cards_budget == 7 and lex.dials.q_min == 1  # model beats stage beats plan
    assert lex.plan == {"name": "mini", "stage": "breadth", "seed": lex.seed} and lex.coverage_tau == 0.3
    oracle = next(s for s in specs if s.student == "oracle")
    assert oracle.dials.fact_cards_budget == 6 and oracle.provider_name() == "offline"


def test_plan_errors_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown keys"):
        expand(offline_plan(colour="red"), tmp_path)
    with pytest.raises(ConfigError, match="unknown dial"):
        expand(offline_plan(dials={"no_such_dial": 1}), tmp_path)
    with pytest.raises(ConfigError, match="share"):
        expand(offline_plan(models=[{"student": "oracle"}, {"student": "oracle"}]), tmp_path)
    with pytest.raises(ConfigError, match="student"):
        expand(offline_plan(models=[{"student": "genius"}]), tmp_path)


def test_sweep_skips_complete_and_resumes_a_crashed_log(tmp_path: Path) -> None:
    specs = expand(offline_plan(), tmp_path)
    report = run_sweep(plan_actions(specs), jobs=2)
    assert not report.failures and len(report.results) == 8
    crashed = specs[0].log
    lines = crashed.read_bytes().splitlines(keepends=True)
    crashed.write_bytes(b"".join(lines[:3]) + b'{"run_id": "torn')  # header, 2 steps, torn line
    actions = plan_actions(specs)
    assert [a.action for a in actions].count("skip") == 7
    assert next(a for a in actions if a.spec.log == crashed).action == "resume"
    again = run_sweep(actions)
    assert [r.new_steps for r in again.results] == [2] and not again.failures
    for spec in specs:
        assert_exactly_one_complete_run(spec.log, 4)
    assert [a.action for a in plan_actions(specs)] == ["skip"] * 8


def test_redo_incomplete_starts_a_new_run_in_the_same_log(tmp_path: Path) -> None:
    spec = expand(offline_plan(), tmp_path)[0]
    run_sweep(plan_actions([spec]))
    lines = spec.log.read_bytes().splitlines(keepends=True)
    spec.log.write_bytes(b"".join(lines[:2]))
    run_sweep(plan_actions([spec], redo_incomplete=True))
    state = inspect_log(spec.log)
    assert state.runs_in_file == 2 and state.status == "complete" and state.steps == [0, 1, 2, 3]


def _write_llm_plan(path: Path, base_url: str) -> list[Path]:
    path.write_text(f"""
name = "killme"
seed_base = 7
coverage_tau = 0.35

[providers.fake]
base_url = "{base_url}"
api_key_env = "RW_SWEEP_KEY"
timeout_s = 10
max_retries = 1
backoff_s = 0.01

[[models]]
provider = "fake"
model = "acme/tiny-1"

[[models]]
provider = "fake"
model = "acme/tiny-2"

[[stages]]
name = "depth"
steps = 6
seeds = 2
""")
    return sorted(
        path.parent / "runs" / "killme" / "depth" / f"acme_tiny-{m}_seed{s}_N6.jsonl"
        for m in (1, 2)
        for s in (7, 8)
    )


def _sweep(plan: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RW_SWEEP_KEY": KEY, "PYTHONPATH": str(ROOT)}
    args = [
        sys.executable,
        "-m",
        "warehouse",
        "sweep",
        str(plan),
        "--jobs",
        "2",
        "--no-ingest",
        "--runs-dir",
        str(plan.parent / "runs"),
    ]
    return subprocess.Popen(args, cwd=plan.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _steps_logged(runs: Path) -> int:
    return sum(line.count(b'"step": ') for p in runs.rglob("*.jsonl") for line in [p.read_bytes()])


def _wait_for_steps(runs: Path, n: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the sweep has logged `n` steps (it must still be running meanwhile)."""
    deadline = time.monotonic() + 120
    while _steps_logged(runs) < n and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)


def test_sigkill_mid_sweep_resumes_to_exactly_the_planned_runs(tmp_path: Path) -> None:
    with FakeOpenAI(delay=0.03) as fake:
        plan = tmp_path / "plan.toml"
        planned = _write_llm_plan(plan, fake.base_url)
        proc = _sweep(plan)
        _wait_for_steps(tmp_path / "runs", 5, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done_before = _steps_logged(tmp_path / "runs")
        assert 5 <= done_before < 4 * 6
        again = _sweep(plan)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err.decode()
    assert sorted((tmp_path / "runs").rglob("*.jsonl")) == planned
    for log in planned:
        assert_exactly_one_complete_run(log, 6)
    for artefact in [*planned, plan]:
        assert KEY.encode() not in artefact.read_bytes()
    assert KEY.encode() not in out + err


def test_shipped_example_plan_expands(tmp_path: Path) -> None:
    from runner.plan import load_plan

    plan = load_plan(ROOT / "runner" / "templates" / "scattergun.toml")
    specs = expand(plan, tmp_path)
    assert len(specs) == 3 * 13  # breadth / depth / long x the 13 phase-2 models
    long = next(s for s in specs if s.plan and s.plan["stage"] == "long")
    assert (long.steps, long.dials.best_of_n, long.dials.fact_cards_budget) == (40, 8, 12)
    assert long.endpoint is not None and long.endpoint.timeout_s == 120 and long.coverage_tau == 0.35
    assert long.log.name.endswith("_seed4242420_N40.jsonl")


def test_sigterm_stops_runs_at_a_step_boundary_and_they_resume(tmp_path: Path) -> None:
    with FakeOpenAI(delay=0.03) as fake:
        plan = tmp_path / "plan.toml"
        planned = _write_llm_plan(plan, fake.base_url)
        proc = _sweep(plan)
        _wait_for_steps(tmp_path / "runs", 3, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err.decode()
        ends = [r for log in planned if log.exists() for r in records(log) if r.get("run_end")]
        assert ends and all(e["status"] == "aborted" and e["reason"] == "interrupted" for e in ends)
        again = _sweep(plan)
        again.communicate(timeout=300)
        assert again.returncode == 0
    for log in planned:
        recs = records(log)
        assert [r["step"] for r in recs if "step" in r] == list(range(6))
        assert recs[-1]["run_end"] and recs[-1]["status"] == "complete"


def test_plan_tutor_table(tmp_path: Path) -> None:
    specs = expand(offline_plan(tutor={"model": "writer-1", "provider": "deepinfra"}), tmp_path)
    assert {(s.tutor, s.tutor_model) for s in specs} == {("llm", "writer-1")}
    assert specs[0].tutor_endpoint is not None and specs[0].tutor_endpoint.provider == "deepinfra"
    with pytest.raises(ConfigError, match="tutor"):
        expand(offline_plan(tutor={"provider": "openai"}), tmp_path)
