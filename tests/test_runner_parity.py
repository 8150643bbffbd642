"""Runner parity with the old scripts: accumulate_notes, the shipped plans, token guardrails,
`warehouse wait` ending like `sweep`, and --help examples that name files which exist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from ingest import ingest_runs
from runner.items import TemplateTutor
from runner.plan import expand, load_plan
from runner.step import carried_notes, with_notes
from warehouse.cli import cli
from warehouse.store.db import open_reader

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "runner" / "templates"


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ------------------------------------------------------------------ shipped plans


def test_minisuite_plan() -> None:
    specs = expand(load_plan(TEMPLATES / "minisuite.toml"), "/tmp/never-written")
    assert len(specs) == 2 * 2 * 2  # 2 models x sc {1, 3} x budget {6, 8}
    assert {(s.dials.self_consistency_n, s.dials.fact_cards_budget) for s in specs} == {
        (1, 6),
        (1, 8),
        (3, 6),
        (3, 8),
    }
    assert all(s.steps == 30 and s.coverage_tau == 0.25 and s.dials.idk_enabled for s in specs)
    assert all(s.dials.use_tools and s.dials.tools == ["tfidf_retriever"] for s in specs)


def test_scattergun_plan_has_the_stage_matrix_and_13_models() -> None:
    specs = expand(load_plan(TEMPLATES / "scattergun.toml"), "/tmp/never-written")
    assert len({s.model for s in specs}) == 13
    matrix = {
        s.plan["stage"]: (
            s.steps,
            s.dials.best_of_n,
            s.dials.sc_extract_n,
            s.dials.fact_cards_budget,
            s.dials.max_learn_boosts,
            s.dials.q_min,
            s.dials.idk_enabled,
        )
        for s in specs
        if s.plan
    }
    assert matrix == {
        "breadth": (10, 4, 2, 8, 0, 2, True),
        "depth": (20, 6, 3, 10, 1, 2, True),
        "long": (40, 8, 4, 12, 1, 2, True),
    }


def test_guardrailed_plan_loads_its_band(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the plan names the band relative to the repository root
    specs = expand(load_plan(TEMPLATES / "guardrailed.toml"), "/tmp/never-written")
    assert len(specs) == 4 * 20 and len({s.seed for s in specs}) == 20
    assert all(s.guardrails is not None and s.guardrails.step.opt == 4000 for s in specs)


# ------------------------------------------------------------------ --help examples


def _commands(group: click.Group, ctx: click.Context, prefix: str) -> list[tuple[str, click.Command]]:
    out = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            out += _commands(cmd, ctx, f"{prefix} {name}")
        elif cmd is not None:
            out.append((f"{prefix} {name}", cmd))
    return out


OUTPUT_FLAGS = {"--out", "--guardrails-out", "--log", ">", "--to", "--out-dir", "--db"}
NOT_FILES = {"warehouse restore"}  # its examples name members inside an archive, not files on disk


def test_every_help_example_names_a_file_that_exists() -> None:
    """Inputs named in examples must exist in the repository. Outputs (after --out, --log, >, ...)
    and run logs under runs/ (what the commands themselves create) are not inputs."""
    checked = []
    for name, cmd in _commands(cli, click.Context(cli), "warehouse"):
        help_text = cmd.help or ""
        if "Example" not in help_text or name in NOT_FILES:
            continue
        for line in help_text.split("Example", 1)[1].splitlines():
            tokens = line.split()
            for i, token in enumerate(tokens):
                if not re.search(r"\.(toml|jsonl|json|csv|yaml)$", token):
                    continue
                if (i and tokens[i - 1] in OUTPUT_FLAGS) or token.startswith(("runs/", "'runs/")):
                    continue
                checked.append(token)
                assert (ROOT / token).is_file(), (
                    f"{name}: its --help example names {token}, which does not exist"
                )
    assert "runner/templates/minisuite.toml" in checked
    assert "runner/templates/guardrails.example.json" in checked


# ------------------------------------------------------------------ accumulate_notes


def test_notes_carry_the_previous_context_cards() -> None:
    item = TemplateTutor(7).item(3)
    before = {
        "cards": [
            {"id": "opt1", "quote": "x", "where": {"scope": "option", "option_index": 0}, "tags": []},
            {"id": "f1", "quote": "ZQ-1 doubles under rule R2", "where": {"scope": "context"}, "tags": []},
            {"id": "f2", "quote": "ZQ-1 doubles under rule R2", "where": {"scope": "context"}, "tags": []},
        ]
    }
    assert carried_notes(before) == ["ZQ-1 doubles under rule R2"]
    noted = with_notes(item, before)
    assert noted.context == item.context + " ZQ-1 doubles under rule R2."
    assert noted.sentences[-1] == "ZQ-1 doubles under rule R2." and noted.stem == item.stem
    assert with_notes(item, {"cards": []}) is item


def _from_notes(log: Path, seed: int) -> list[str]:
    """Context cards of each step whose quote is not in that step's own item (the tutor is
    deterministic per seed and step, so the item can be rebuilt)."""
    tutor = TemplateTutor(seed)
    found = []
    for rec in records(log):
        if "fact_cards_after" in rec:
            own = tutor.item(rec["step"]).context
            found += [
                c["quote"]
                for c in rec["fact_cards_after"]["cards"]
                if c["where"]["scope"] == "context" and c["quote"] not in own
            ]
    return found


def test_accumulate_notes_run_keeps_carried_notes(tmp_path: Path) -> None:
    on, off = tmp_path / "on.jsonl", tmp_path / "off.jsonl"
    for log, value in ((on, "true"), (off, "false")):
        invoke(
            "run", "--student", "lexical", "--steps", "8", "--seed", "11", "--cards-budget", "12",
            "--dial", f"accumulate_notes={value}", "--log", str(log),
        )  # fmt: skip
    assert records(on)[0]["config"]["dials"]["accumulate_notes"] is True
    carried = _from_notes(on, 11)
    assert carried, "with the dial on, some step keeps a card quoted from an earlier step's notes"
    assert all(not q.startswith("NOTES") for q in carried)
    assert _from_notes(off, 11) == []  # off: every context card comes from the item itself


# ------------------------------------------------------------------ guardrails


def test_guardrails_band_is_logged_per_step_and_typed_by_the_view(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    log = runs / "g" / "lexical.jsonl"
    band = TEMPLATES / "guardrails.example.json"
    invoke("run", "--student", "lexical", "--steps", "3", "--guardrails", str(band), "--log", str(log))
    head, *steps = records(log)
    assert head["guardrails"] == json.loads(band.read_text())
    # an offline student logs 0 student tokens: below the 2500-6000 band, a warning (no autonudge)
    alert = steps[0]["guardrail_alerts"]["tokens_step"]
    assert (alert["state"], alert["action"], alert["autonudge"], alert["band_low"]) == (
        "below_band",
        "warn_richer",
        False,
        2500.0,
    )
    db = tmp_path / "runs.duckdb"
    ingest_runs(str(runs), str(db))
    con = open_reader(db)
    try:
        got = con.execute("SELECT count(*), min(state), max(opt) FROM guardrail_alerts").fetchone()
    finally:
        con.close()
    assert got == (3, "below_band", 4000.0)


def test_guardrails_file_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"tokens_per_step": {"opt": 10, "band_low": 20, "band_high": 30}}')
    result = CliRunner().invoke(cli, ["run", "--student", "random", "--steps", "1", "--guardrails", str(bad)])
    assert result.exit_code != 0 and "band_low <= opt <= band_high" in str(result.exception)


# ------------------------------------------------------------------ wait


def test_wait_ingests_and_ranks_like_sweep(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    log = runs / "w" / "oracle.jsonl"
    db = tmp_path / "db" / "runs.duckdb"
    invoke("run", "--student", "oracle", "--steps", "2", "--log", str(log))
    out = invoke("wait", "--logs", str(log), "--poll", "0.01", "--runs-dir", str(runs), "--db", str(db))
    lines = out.stdout.splitlines()
    assert lines[0].startswith("complete\t2/2")
    assert any(line.split()[:2] == ["1", "1"] and "oracle" in line for line in lines[1:]), out.stdout
    assert "ingested 1 new" in out.stderr
    # a log outside the runs directory is not ingested (it would land under the wrong campaign)
    out = invoke("wait", "--logs", str(log), "--poll", "0.01", "--runs-dir", str(tmp_path / "elsewhere"))
    assert "not ingested" in out.stderr and out.stdout.startswith("complete")
