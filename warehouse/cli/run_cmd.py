"""`warehouse run`: one eval run from command-line options (model, dials, items, log path).

Thin over runner/ (which writes the log); sweeps of many runs are in launch_cmd.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from warehouse.cli.options import config_option
from warehouse.core.errors import UsageError

DIAL_FLAGS = {
    "self_consistency": "self_consistency_n",
    "cards_budget": "fact_cards_budget",
    "best_of": "best_of_n",
    "sc_extract": "sc_extract_n",
    "q_min": "q_min",
    "max_learn_boosts": "max_learn_boosts",
    "idk": "idk_enabled",
    "use_tools": "use_tools",
    "rerank": "rerank",
    "target_confidence": "target_confidence",
}


def _dial_options(f: Any) -> Any:
    opts = [
        click.option("--self-consistency", type=int, help="Answer votes per item (self_consistency_n)."),
        click.option("--cards-budget", type=int, help="Max fact cards per step (fact_cards_budget)."),
        click.option("--best-of", type=int, help="Best-of-N candidates (best_of_n)."),
        click.option("--sc-extract", type=int, help="LEARN extraction passes (sc_extract_n)."),
        click.option("--q-min", type=int, help="Option-linked cards wanted per option (q_min)."),
        click.option("--max-learn-boosts", type=int, help="Extra LEARN passes while q_min unmet."),
        click.option("--idk/--no-idk", default=None, help="IDK abstention on hard-evidence failure."),
        click.option("--use-tools/--no-tools", default=None, help="Retrieve snippets before LEARN."),
        click.option(
            "--rerank",
            type=click.Choice(["none", "confidence", "evidence"]),
            default=None,
            help="How best-of candidates are picked.",
        ),
        click.option("--target-confidence", type=float, help="t of the calibrated score (IDK)."),
        click.option(
            "--dial",
            "dial_pairs",
            multiple=True,
            metavar="NAME=VALUE",
            help="Any other dial, e.g. --dial temp_sc=0.5 (repeatable).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _collect_dials(kwargs: dict[str, Any]) -> dict[str, Any]:
    from runner.dials import parse_assignments

    values = {dial: kwargs.pop(flag) for flag, dial in DIAL_FLAGS.items()}
    values = {k: v for k, v in values.items() if v is not None}
    return {**parse_assignments(kwargs.pop("dial_pairs")), **values}


@click.command("run")
@click.option(
    "--student",
    required=True,
    type=click.Choice(["llm", "oracle", "lexical", "random"]),
    help="Who answers: an LLM endpoint or an offline baseline.",
)
@click.option("--model", help="Model id for --student llm (offline students: their own name).")
@click.option(
    "--provider",
    default="openai",
    show_default=True,
    help="openai, deepinfra, together, openrouter, ollama, vllm, local, or a [providers.X] table.",
)
@click.option("--base-url", help="Override the provider's base URL (https, or http to loopback).")
@click.option("--api-key-env", metavar="VAR", help="Environment variable holding the key.")
@click.option("--steps", type=int, default=10, show_default=True, help="Items to ask.")
@click.option(
    "--seed", type=int, default=None, help="ANON_SEED for the offline tutor (default $ANON_SEED or 424242)."
)
@click.option("--tau", type=float, default=0.4, show_default=True, help="Coverage threshold for credit.")
@click.option("--options", "num_options", type=int, default=5, show_default=True, help="Options per item.")
@click.option(
    "--task-file", type=click.Path(dir_okay=False), help="JSONL items instead of the built-in tutor."
)
@click.option(
    "--task",
    type=click.Choice(["mcq", "saq", "alias_swap", "code", "proof", "table_qa"]),
    default="mcq",
    show_default=True,
    help="Task type; all but mcq run with the offline students.",
)
@click.option(
    "--tutor",
    type=click.Choice(["template", "llm"]),
    default="template",
    show_default=True,
    help="Who writes the items: the built-in templates or a model (--tutor-model).",
)
@click.option("--tutor-model", help="Model for --tutor llm (default: the student's model).")
@click.option("--tutor-provider", help="Provider for --tutor llm (default: the student's endpoint).")
@_dial_options
@click.option(
    "--dials",
    "dials_mode",
    type=click.Choice(["explicit", "auto"]),
    default="explicit",
    help="auto: start from the model's recommended dials (warehouse defaults).",
)
@click.option("--defaults", "defaults_file", metavar="TOML", help="Model defaults file for --dials auto.")
@click.option(
    "--guardrails",
    metavar="JSON",
    type=click.Path(dir_okay=False),
    help="Token band (warehouse token-curve --guardrails-out); each step logs guardrail_alerts.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False),
    help="Log file (default: an auto path under the runs dir).",
)
@click.option("--runs-dir", help="Where auto log paths go (default: [paths].runs, else runs/).")
@click.option("--resume", is_flag=True, help="Continue the log's incomplete run (skip if complete).")
@click.option("--append", is_flag=True, help="Add a new run to an existing log.")
@click.option(
    "--rerun",
    is_flag=True,
    help="Run even when the warehouse already holds an identical complete run (archived included).",
)
@click.option("--deadline", type=float, help="Stop the run after this many seconds (aborted, resumable).")
@click.option("--timeout", type=float, help="Per-request timeout in seconds (llm).")
@click.option("--max-retries", type=int, help="Retries per request on 429/5xx/timeouts (llm).")
@click.option(
    "--log-messages",
    type=click.Choice(["none", "counts", "text"]),
    default="text",
    show_default=True,
    help="Each call's transcript in the log: none, counts (lengths) or text (prompt and completion).",
)
@config_option
def run_command(**kw: Any) -> None:
    """Run one eval run and write its log (one JSON summary line on stdout).

    Keys are read from the environment variable of the provider (e.g. $DEEPINFRA_API_KEY),
    never from flags. A killed run is continued with --resume.

    \b
    Examples:
      warehouse run --student oracle --steps 5
      warehouse run --student llm --provider deepinfra --model mistralai/Mixtral-8x7B-Instruct-v0.1 \\
          --steps 20 --self-consistency 3 --cards-budget 8 --idk --log runs/mixtral.jsonl
      warehouse run --student llm --model gpt-4.1 --dials auto --steps 30
      warehouse run --student lexical --task alias_swap --steps 8 --dial accumulate_notes=true
      warehouse run --student lexical --steps 10 --guardrails runner/templates/guardrails.example.json
    """
    from runner.run import Mode, execute

    if kw["resume"] and kw["append"]:
        raise UsageError("--resume and --append exclude each other")
    spec = _spec_from_options(kw)
    mode: Mode = "resume" if kw["resume"] else "append" if kw["append"] else "new"
    held = None if kw["rerun"] or kw["append"] else _held_copy(spec, kw["config_path"])
    if held is not None:
        click.echo(
            f"skipped: the warehouse already holds this run complete ({held}); pass --rerun to run it again",
            err=True,
        )
        click.echo(json.dumps({"log": str(spec.log), "run_id": None, "status": "skipped", "held": held}))
        return
    click.echo(f"run -> {spec.log}", err=True)
    result = execute(spec, mode, progress=_step_printer(spec.steps))
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(
        json.dumps(
            {
                "log": str(result.log),
                "run_id": result.run_id,
                "status": result.status,
                "steps_logged": result.steps_logged,
                "new_steps": result.new_steps,
                "correct": result.correct,
                "credited": result.credited,
            }
        )
    )


def _held_copy(spec: Any, config_path: str | None) -> str | None:
    """Where the warehouse holds a complete run identical to `spec` (None: it does not)."""
    from runner.identity import spec_identity
    from warehouse.cli.launch_support import held_runs
    from warehouse.cli.options import resolve_db

    return held_runs(resolve_db(None, config_path)).get(spec_identity(spec))


def _spec_from_options(kw: dict[str, Any]) -> Any:
    from runner.defaults import applied_dials
    from runner.dials import Dials, with_overrides
    from runner.endpoint import resolve_endpoint
    from runner.guardrails import load_guardrails
    from runner.plan import _slug
    from runner.run import RunSpec
    from warehouse.core.config import load_config

    config = load_config(kw["config_path"])
    student = kw["student"]
    if student == "llm" and not kw["model"]:
        raise UsageError("--student llm needs --model")
    model = kw["model"] or student
    changes = _collect_dials(kw)
    dials = Dials()
    if kw["dials_mode"] == "auto":
        auto, where = applied_dials(model, kw["defaults_file"])
        dials = with_overrides(dials, auto, where)
        shown = ", ".join(f"{k}={v}" for k, v in auto.items()) or "none"
        click.echo(f"dials auto: {shown} (from {where})", err=True)
    dials = with_overrides(dials, changes, "options")
    endpoint = None
    if student == "llm":
        endpoint = resolve_endpoint(
            kw["provider"],
            config.raw.get("providers"),
            base_url=kw["base_url"],
            api_key_env=kw["api_key_env"],
            timeout_s=kw["timeout"],
            max_retries=kw["max_retries"],
        )
    tutor_endpoint = None
    if kw["tutor"] == "llm" and (kw["tutor_provider"] or endpoint is None):
        tutor_endpoint = resolve_endpoint(kw["tutor_provider"] or kw["provider"], config.raw.get("providers"))
    if kw["tutor"] == "llm" and not (kw["tutor_model"] or kw["model"]):
        raise UsageError("--tutor llm needs --tutor-model (or an llm student's --model)")
    seed = kw["seed"] if kw["seed"] is not None else int(os.environ.get("ANON_SEED") or 424242)
    log = kw["log_path"] or str(
        Path(kw["runs_dir"] or config.runs_dir)
        / "single"
        / f"{_slug(model)}_seed{seed}_N{kw['steps']}_{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    )
    return RunSpec(
        student=student,
        model=model,
        steps=kw["steps"],
        log=Path(log),
        seed=seed,
        dials=dials,
        provider=endpoint.provider if endpoint else None,
        endpoint=endpoint,
        coverage_tau=kw["tau"],
        num_options=kw["num_options"],
        task_file=kw["task_file"],
        task=kw["task"],
        deadline_s=kw["deadline"],
        tutor=kw["tutor"],
        tutor_model=kw["tutor_model"],
        tutor_endpoint=tutor_endpoint,
        argv=tuple(sys.argv),
        guardrails=load_guardrails(kw["guardrails"]) if kw["guardrails"] else None,
        log_messages=kw["log_messages"],
    )


def _step_printer(total: int) -> Any:
    tty = sys.stderr.isatty()

    def show(spec: Any, done: int) -> None:
        click.echo(f"\r  step {done}/{total}" if tty else f"  step {done}/{total}", nl=not tty, err=True)

    return show


def register(group: Any) -> None:
    group.add_to_section("launch", run_command)
