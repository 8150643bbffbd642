"""Launch commands end to end: run, wait, demo -> ingest -> views, defaults -> --dials auto."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from warehouse.cli import cli
from warehouse.core.errors import DataError, UsageError
from warehouse.store.db import open_reader


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_run_writes_a_log_and_a_json_summary(tmp_path: Path) -> None:
    log = tmp_path / "one.jsonl"
    result = invoke(
        "run",
        "--student",
        "lexical",
        "--steps",
        "3",
        "--cards-budget",
        "8",
        "--idk",
        "--dial",
        "temp_sc=0.5",
        "--log",
        str(log),
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "complete" and summary["steps_logged"] == 3
    head = json.loads(log.read_text().splitlines()[0])
    dials = head["config"]["dials"]
    assert (dials["fact_cards_budget"], dials["idk_enabled"], dials["temp_sc"]) == (8, True, 0.5)
    assert head["student"] == {"type": "lexical", "provider": "offline", "model": "lexical"}
    with pytest.raises(UsageError, match="--resume"):
        invoke("run", "--student", "lexical", "--steps", "3", "--log", str(log))
    again = invoke("run", "--student", "lexical", "--steps", "3", "--log", str(log), "--resume")
    assert json.loads(again.stdout.strip().splitlines()[-1])["status"] == "skipped"


def test_run_auto_path_and_llm_needs_a_model(tmp_path: Path) -> None:
    invoke("run", "--student", "random", "--steps", "2", "--runs-dir", str(tmp_path), "--seed", "5")
    (made,) = (tmp_path / "single").glob("random_seed5_N2_*.jsonl")
    assert made.read_text().count('"step": ') == 2
    with pytest.raises(UsageError, match="--model"):
        invoke("run", "--student", "llm", "--steps", "1", "--runs-dir", str(tmp_path))


def test_wait_reports_log_status(tmp_path: Path) -> None:
    log = tmp_path / "w.jsonl"
    invoke("run", "--student", "oracle", "--steps", "2", "--log", str(log))
    assert invoke("wait", "--logs", str(log), "--poll", "0.01").stdout.startswith("complete\t2/2")
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:2]) + "\n")
    with pytest.raises(DataError, match="incomplete"):
        invoke("wait", "--logs", str(log), "--pids", "999999999", "--poll", "0.01")


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """One offline demo (a fresh database costs seconds; the tests below share it)."""
    runs = tmp_path_factory.mktemp("demo") / "runs"
    return runs, invoke(
        "demo", "--runs-dir", str(runs), "--steps", "6", "--seeds", "1", "--jobs", "2", "--no-report"
    )


def test_demo_ingests_with_header_identity_then_defaults_feed_dials_auto(
    tmp_path: Path, demo_runs: tuple[Path, Any]
) -> None:
    runs, result = demo_runs
    db = runs / "runs.duckdb"
    assert "oracle" in result.stdout and "lexical" in result.stdout
    con = open_reader(db)
    try:
        rows = con.execute(
            "SELECT model, provider, student, tau, status, task, count(*) FROM runs GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        dup = con.execute(
            "SELECT count(*) FROM (SELECT run_key, step FROM steps GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
    finally:
        con.close()
    assert rows == [
        (model, "offline", model, 0.4, "complete", task, n)
        for model in ("lexical", "oracle", "random")
        for task, n in (("alias_swap", 1), ("mcq", 4), ("saq", 1))
    ]
    assert dup == (0,)
    out = tmp_path / "model_defaults.toml"
    refused = CliRunner().invoke(cli, ["defaults", "--db", str(db), "--out", str(out)])
    assert refused.exit_code != 0 and "refused lexical" in refused.output and "n = 6 steps" in refused.output
    assert not out.exists()  # 6 steps per setting: below the minimum n, nothing written
    written = invoke("defaults", "--db", str(db), "--out", str(out), "--min-steps", "6")
    assert "wrote defaults for 3 model(s)" in written.output
    assert "# n = 6 steps in 1 runs; credited" in out.read_text() and "95% interval" in out.read_text()
    models = tomllib.loads(out.read_text())["models"]
    assert set(models) == {"oracle", "lexical", "random"}
    assert set(models["lexical"]) >= {"fact_cards_budget", "self_consistency_n", "idk_enabled"}
    log = tmp_path / "auto.jsonl"
    auto = invoke(
        "run",
        "--student",
        "lexical",
        "--steps",
        "1",
        "--dials",
        "auto",
        "--defaults",
        str(out),
        "--log",
        str(log),
    )
    assert (
        "dials auto: self_consistency_n=" in auto.output and f'(from {out} [models."lexical"])' in auto.output
    )
    dials = json.loads(log.read_text().splitlines()[0])["config"]["dials"]
    assert dials["fact_cards_budget"] == models["lexical"]["fact_cards_budget"]
    assert dials["idk_enabled"] == models["lexical"]["idk_enabled"]
    assert "42 runs" not in result.stderr and "18 runs: 18 run" in result.stderr
    from runner.demo import demo_plan
    from runner.plan import expand
    from runner.sweep import plan_actions

    again = plan_actions(expand(demo_plan(6, 1), runs))  # a second demo would skip everything
    assert [a.action for a in again] == ["skip"] * 18


def test_sweep_dry_run_lists_actions(tmp_path: Path) -> None:
    plan = tmp_path / "p.toml"
    plan.write_text(
        'name = "p"\n[[models]]\nstudent = "oracle"\n[[stages]]\nname = "s"\nsteps = 2\n'
        "[stages.grid]\nfact_cards_budget = [6, 8]\n"
    )
    out = invoke("sweep", str(plan), "--dry-run", "--runs-dir", str(tmp_path / "r")).stdout
    assert out.splitlines() == [
        f"run\t0/2\t{tmp_path}/r/p/s/oracle_seed424242_N2_b6.jsonl",
        f"run\t0/2\t{tmp_path}/r/p/s/oracle_seed424242_N2_b8.jsonl",
    ]
    assert not (tmp_path / "r").exists()


def _llm_run(base_url: str, log: Path, *extra: str) -> list[str]:
    """`warehouse run` arguments for the llm student on the fake server, key from RW_CLI_KEY."""
    return [
        *("run", "--student", "llm", "--provider", "local", "--base-url", base_url),
        *("--api-key-env", "RW_CLI_KEY", "--model", "acme/tiny-9", "--steps", "2", "--log", str(log)),
        *extra,
    ]


def test_llm_logs_ingest_with_identity_from_the_header_and_no_key_anywhere(
    monkeypatch: pytest.MonkeyPatch, demo_runs: tuple[Path, Any]
) -> None:
    from fake_openai import EchoKey, FakeOpenAI

    from ingest import ingest_runs

    key = "sk-TESTSECRET-ingest-0123456789abcdef"
    monkeypatch.setenv("RW_CLI_KEY", key)
    runs = demo_runs[0]
    with FakeOpenAI() as fake:
        invoke(*_llm_run(fake.base_url, runs / "anywhere" / "x.jsonl", "--tau", "0.3"))
    with FakeOpenAI([EchoKey()]) as fake:
        result = CliRunner().invoke(
            cli,
            _llm_run(fake.base_url, runs / "anywhere" / "echo.jsonl"),
        )
    assert result.exit_code != 0 and key not in result.output + repr(result.exception)
    ingest_runs(str(runs), str(runs / "runs.duckdb"))
    con = open_reader(runs / "runs.duckdb")
    try:
        rows = con.execute(
            "SELECT model, provider, student, tau, status FROM runs WHERE student = 'llm' ORDER BY status"
        ).fetchall()
    finally:
        con.close()
    assert rows == [
        ("acme/tiny-9", "local", "llm", 0.3, "complete"),
        ("acme/tiny-9", "local", "llm", 0.4, "incomplete"),
    ]
    # grep in a subprocess: this process must never open() a DuckDB file (POSIX-lock trap)
    found = subprocess.run(["grep", "-rl", "--", key, str(runs)], capture_output=True, text=True)
    assert found.returncode == 1 and found.stdout == "", found.stdout
