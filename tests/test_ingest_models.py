"""One name per model: every launch-script naming convention and every slug form of a known model
lands on one canonical id; aliases from warehouse.toml; unattributed runs stay NULL and are named
on stderr with a rule to paste."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from logshapes import mcq_run, write

from ingest import ingest_runs
from ingest.pathrules import derive
from warehouse.core.config import builtin_rules, parse_config
from warehouse.core.models import builtin_models, model_names
from warehouse.store.db import open_reader

MIXTRAL = "mistralai/Mixtral-8x7B-Instruct-v0.1"
R1 = "deepseek-ai/DeepSeek-R1"
V31 = "deepseek-ai/DeepSeek-V3.1"

# (path under runs/, canonical model, rule that named it, tau, tau_from)
CONVENTIONS = [
    ("exp/deepinfra_mistralai-Mixtral-8x7B-Instruct-v0.1_sc3_b8.jsonl", MIXTRAL, "minisuite", 0.25, "path"),
    (
        "exp/deepinfra_mistralai-Mixtral-8x7B-Instruct-v0.1_sc1_b6_seed424243.jsonl",
        MIXTRAL,
        "minisuite",
        0.25,
        "path",
    ),
    ("exp/openai_default_sc1_b6.jsonl", "gpt-4.1", "minisuite_openai_default", 0.25, "path"),
    ("exp/deepinfra_deepseek-ai-DeepSeek-R1_sc3_b8_seed424242.jsonl", R1, "minisuite", 0.25, "path"),
    (
        "scattergun_phase2/depth/deepseek-ai_DeepSeek-V3_1_seed4242433_N20.jsonl",
        V31,
        "scattergun",
        0.35,
        "path",
    ),
    ("guardrailed/mistralai_Mixtral-8x7B-Instruct-v0_1_state007.jsonl", MIXTRAL, "guardrailed", 0.35, "path"),
    ("compare/deepinfra_deepseek-ai-DeepSeek-R1/batch_1.jsonl", R1, "compare", 0.4, "path"),
    ("compare/openai_gpt-4.1/batch_2.jsonl", "gpt-4.1", "compare", 0.4, "path"),
    ("fc_sc3_v2_batch1_tau35.jsonl", R1, "fc_batch_tau35", 0.35, "path"),
    ("fc_sc3_v2_batch3.jsonl", R1, "fc_batch", 0.4, "path"),
    ("strict/openai_41_preset.jsonl", "gpt-4.1", "strict_41", 0.25, "path"),
    ("strict/mixtral_preset.jsonl", MIXTRAL, "strict_mixtral", 0.3, "path"),
    ("smoke/deepseek-ai_DeepSeek-V3.1_N30.jsonl", V31, "smoke", 0.4, "default"),
    ("window/deepinfra_mistralai-Mixtral-8x7B-Instruct-v0.1_N60.jsonl", MIXTRAL, "window", 0.4, "default"),
    ("window/openai_gpt-4.1_N60.jsonl", "gpt-4.1", "window", 0.4, "default"),
    ("live/deepseek_r1_maxdial_N20.jsonl", R1, "model_in_file_name", 0.4, "default"),
    ("live/deepseek_r1_maxdial_N30.jsonl.recovered", R1, "model_in_file_name", 0.4, "default"),
    ("live/mixtral_accfirst_N30.jsonl", MIXTRAL, "mixtral_name", 0.4, "default"),
    (
        "baseline/kimi-k2_seed424242_N60.jsonl",
        "moonshotai/Kimi-K2-Instruct-0905",
        "model_in_file_name",
        0.4,
        "default",
    ),
    ("holdout/mixtral_postcutoff_t060_rag_on.jsonl", MIXTRAL, "mixtral_name", 0.6, "path"),
    ("holdout/mixtral_postcutoff_text_tau025_sc3_ref10.jsonl", MIXTRAL, "mixtral_name", 0.25, "path"),
    ("tuning_phase2/Qwen_Qwen3-32B_N20.jsonl", "Qwen/Qwen3-32B", "model_in_file_name", 0.4, "default"),
    ("Qwen3-14B/live.jsonl", "Qwen/Qwen3-14B", "model_in_folder_name", 0.4, "default"),
]


def _rows(db: Path, sql: str) -> list[dict[str, Any]]:
    con = open_reader(db)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    runs = root / "runs"
    for i, (rel, *_) in enumerate(CONVENTIONS):
        write(runs / rel, mcq_run(f"conv-{i}", [True, False], seed=424242 + i, items=f"c{i}-"))
    # the same Mixtral under its header id (a newer log) and as a slug: one model
    write(
        runs / "single/a.jsonl",
        mcq_run(
            "hdr-mixtral",
            [True],
            items="h",
            student={"type": "llm", "provider": "deepinfra", "model": MIXTRAL},
        ),
    )
    write(
        runs / "single/b.jsonl",
        mcq_run(
            "hdr-mixtral-slug",
            [False],
            items="h2",
            student={"type": "llm", "provider": "deepinfra", "model": "mistralai-Mixtral-8x7B-Instruct-v0.1"},
        ),
    )
    # nothing names these
    write(runs / "holdout/postcutoff_rag_on.jsonl", mcq_run("nameless", [True], items="n"))
    write(runs / "guardrailed/witness_json_guarded_state001.jsonl", mcq_run("nameless-2", [True], items="m"))
    db = root / "runs.duckdb"
    ingest_runs(str(runs), str(db))
    return db


@pytest.mark.parametrize(
    ("rel", "model", "rule", "tau", "tau_from"), CONVENTIONS, ids=[c[0] for c in CONVENTIONS]
)
def test_every_convention_names_its_model_and_tau(
    corpus: Path, rel: str, model: str, rule: str, tau: float, tau_from: str
) -> None:
    found = _rows(corpus, f"SELECT * FROM runs WHERE relpath = '{rel}'")
    assert len(found) == 1
    r = found[0]
    assert (r["model"], r["model_from"], r["model_known"]) == (model, f"path_rule:{rule}", True)
    assert (r["tau"], r["tau_from"]) == (tau, tau_from)
    assert r["counted"] and r["duplicate_of"] is None


def test_header_and_slug_spellings_are_one_model(corpus: Path) -> None:
    got = _rows(corpus, "SELECT model, model_raw, model_from FROM runs WHERE run_id LIKE 'hdr-mixtral%'")
    assert {r["model"] for r in got} == {MIXTRAL}
    assert {r["model_raw"] for r in got} == {MIXTRAL, "mistralai-Mixtral-8x7B-Instruct-v0.1"}
    assert {r["model_from"] for r in got} == {"header"}
    keys = [(r["model"], r["tau"]) for r in _rows(corpus, "SELECT model, tau FROM by_model_steps")]
    assert len(keys) == len(set(keys))  # one row per (model, tau): no model under two names
    assert {tau for model, tau in keys if model == MIXTRAL} == {0.25, 0.3, 0.35, 0.4, 0.6}


def test_unattributed_runs_have_no_model_and_are_never_ranked(corpus: Path) -> None:
    got = _rows(
        corpus, "SELECT run_id, model, model_from, counted FROM runs WHERE model IS NULL ORDER BY run_id"
    )
    assert [(r["run_id"], r["model_from"], r["counted"]) for r in got] == [
        ("nameless", "none", False),
        ("nameless-2", "none", False),
    ]
    for view in ("by_model_steps", "by_model_runs", "witness_credited"):
        names = [r["model"] for r in _rows(corpus, f"SELECT model FROM {view}")]
        assert None not in names and "unknown" not in names
    n = _rows(corpus, "SELECT count(*) AS n FROM steps_in() WHERE run_id LIKE 'nameless%'")[0]["n"]
    assert n == 0
    n = _rows(
        corpus,
        "SELECT count(*) AS n FROM steps_in(include_unattributed := true) WHERE run_id LIKE 'nameless%'",
    )
    assert n[0]["n"] == 2


@pytest.mark.parametrize("known", builtin_models(), ids=lambda k: k.model)
def test_every_slug_form_of_a_known_model_maps_to_it(known: Any) -> None:
    names = model_names()
    _org, _, name = known.model.rpartition("/")
    forms = {
        known.model,
        known.model.replace("/", "-"),
        known.model.replace("/", "_"),
        known.model.replace("/", "_").replace(".", "_"),
        known.model.replace("/", "-").replace(".", "_"),
        known.model.lower(),
        known.model.replace("/", "_").lower(),
        name,
        name.replace(".", "_"),
        *known.short_names,
    }
    for form in forms:
        assert names.lookup(form) == (known.model, "builtin"), form


def test_short_names_of_the_old_scripts() -> None:
    names = model_names()
    assert names.lookup("mixtral") == (MIXTRAL, "builtin")
    assert names.lookup("deepseek_r1") == (R1, "builtin")
    assert names.lookup("DeepSeek-R1-0528") == ("deepseek-ai/DeepSeek-R1-0528", "builtin")
    assert names.lookup("nonexistent-model") is None


def test_builtin_rules_only_accept_known_names_at_the_start_of_a_file() -> None:
    rules = builtin_rules()
    assert "model" not in derive("guardrailed/witness_json_guarded_state001.jsonl", rules).values
    assert "model" not in derive("oss_batch3.jsonl", rules).values
    assert derive("live/deepseek_r1_maxdial_N20.jsonl", rules).values["model"] == "deepseek_r1"


def test_user_aliases_name_models_and_say_so(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write(runs / "holdout/postcutoff_rag_on.jsonl", mcq_run("h1", [True], items="a"))
    write(runs / "mine/mx-large_N20.jsonl", mcq_run("h2", [True], items="b"))
    config = parse_config(
        {
            "models": {"postcutoff": MIXTRAL, "mx-large": "mistralai/Mixtral-8x22B-Instruct-v0.1"},
        }
    )
    db = tmp_path / "runs.duckdb"
    ingest_runs(str(runs), str(db), config=config)
    got = {r["run_id"]: r for r in _rows(db, "SELECT run_id, model, model_raw, model_from FROM runs")}
    assert (got["h1"]["model"], got["h1"]["model_raw"], got["h1"]["model_from"]) == (
        MIXTRAL,
        "postcutoff",
        "alias",
    )
    assert (
        got["h2"]["model"] == "mistralai/Mixtral-8x22B-Instruct-v0.1" and got["h2"]["model_from"] == "alias"
    )


def test_bad_models_table_is_a_config_error() -> None:
    from warehouse.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[models\]"):
        parse_config({"models": {"x": 3}})


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ingest_says_which_runs_lack_a_model_and_models_lists_them(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write(runs / "holdout/postcutoff_rag_on.jsonl", mcq_run("n1", [True], items="a"))
    write(runs / "holdout/postcutoff_rag_off.jsonl", mcq_run("n2", [False], items="b"))
    write(runs / "live/deepseek_r1_maxdial_N20.jsonl", mcq_run("r1", [True], items="c"))
    write(runs / "cards_cf.jsonl", [{"id": "f1", "quote": "a card"}, {"id": "f2", "quote": "another"}])
    done = _cli("ingest", "runs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 log file(s) hold runs with no model" in done.stderr
    assert "holdout/postcutoff_rag_off.jsonl" in done.stderr
    assert "[[path_rules]]" in done.stderr and "pattern = '^holdout/'" in done.stderr
    assert "skipped cards_cf.jsonl: not a run log (no run header and no step records)" in done.stderr
    # the snippet, filled in, is valid warehouse.toml and names the runs
    snippet = done.stderr[done.stderr.index("[[path_rules]]") :].replace("ORG/MODEL", MIXTRAL)
    snippet = snippet.replace("PROVIDER", "deepinfra")
    toml = [ln for ln in snippet.splitlines() if ln.startswith(("[[", "name", "pattern", "set", "#"))]
    (tmp_path / "warehouse.toml").write_text("\n".join(toml) + "\n")
    again = _cli("ingest", "runs", cwd=tmp_path)
    assert again.returncode == 0 and "no model" not in again.stderr, again.stderr
    listed = _cli("models", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["model", "known", "runs", "duplicates", "names_seen", "named_by"]
    assert any(line.startswith(MIXTRAL) and " 2 " in line for line in lines)
    assert any(line.startswith(R1) and "deepseek_r1" in line for line in lines)
    status = _cli("status", cwd=tmp_path)
    assert "cards_cf.jsonl (no run header and no step records)" in status.stdout
    assert "runs                 3" in status.stdout
