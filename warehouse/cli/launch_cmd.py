"""`warehouse run | sweep | wait | defaults | demo`: launch eval runs and close the loop.

Thin commands over runner/ (which writes logs) and ingest/ + the views (which read them).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from warehouse.cli.launch_support import (
    RANKING_COLUMNS,
    SETTINGS_COLUMNS,
    ingest_logs,
    print_view,
    recommended_rows,
    run_report_if_available,
    write_defaults,
)
from warehouse.cli.options import config_option, db_option, resolve_db
from warehouse.errors import EndpointError, UsageError, WarehouseError

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
    "--log",
    "log_path",
    type=click.Path(dir_okay=False),
    help="Log file (default: an auto path under the runs dir).",
)
@click.option("--runs-dir", help="Where auto log paths go (default: [paths].runs, else runs/).")
@click.option("--resume", is_flag=True, help="Continue the log's incomplete run (skip if complete).")
@click.option("--append", is_flag=True, help="Add a new run to an existing log.")
@click.option("--deadline", type=float, help="Stop the run after this many seconds (aborted, resumable).")
@click.option("--timeout", type=float, help="Per-request timeout in seconds (llm).")
@click.option("--max-retries", type=int, help="Retries per request on 429/5xx/timeouts (llm).")
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
    """
    from runner.run import Mode, execute

    if kw["resume"] and kw["append"]:
        raise UsageError("--resume and --append exclude each other")
    spec = _spec_from_options(kw)
    mode: Mode = "resume" if kw["resume"] else "append" if kw["append"] else "new"
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


def _spec_from_options(kw: dict[str, Any]) -> Any:
    from runner.defaults import dials_for_model
    from runner.dials import Dials, with_overrides
    from runner.endpoint import resolve_endpoint
    from runner.plan import _slug
    from runner.run import RunSpec
    from warehouse.config import load_config

    config = load_config(kw["config_path"])
    student = kw["student"]
    if student == "llm" and not kw["model"]:
        raise UsageError("--student llm needs --model")
    model = kw["model"] or student
    changes = _collect_dials(kw)
    dials = Dials()
    if kw["dials_mode"] == "auto":
        dials = dials_for_model(dials, model, kw["defaults_file"])
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
        deadline_s=kw["deadline"],
        tutor=kw["tutor"],
        tutor_model=kw["tutor_model"],
        tutor_endpoint=tutor_endpoint,
        argv=tuple(sys.argv),
    )


def _step_printer(total: int) -> Any:
    tty = sys.stderr.isatty()

    def show(spec: Any, done: int) -> None:
        click.echo(f"\r  step {done}/{total}" if tty else f"  step {done}/{total}", nl=not tty, err=True)

    return show


@click.command("sweep")
@click.argument("plan_file", metavar="PLAN.toml", type=click.Path(dir_okay=False))
@click.option("--jobs", "-j", type=int, default=1, show_default=True, help="Runs at a time.")
@click.option("--dry-run", is_flag=True, help="Show what would run, skip or resume; run nothing.")
@click.option(
    "--redo-incomplete",
    is_flag=True,
    help="Start incomplete logs over (a new run appended) instead of resuming them.",
)
@click.option("--runs-dir", help="Root for runs/<plan>/... (default: plan runs_dir, else [paths].runs).")
@click.option("--no-ingest", is_flag=True, help="Do not ingest the new logs at the end.")
@db_option
@config_option
@click.pass_context
def sweep_command(
    ctx: click.Context,
    plan_file: str,
    jobs: int,
    dry_run: bool,
    redo_incomplete: bool,
    runs_dir: str | None,
    no_ingest: bool,
    db: str | None,
    config_path: str | None,
) -> None:
    """Run a plan (stages x models x dials x seeds), then ingest and rank.

    Complete logs are skipped; incomplete ones are resumed from their last step (or redone
    with --redo-incomplete). Re-run the same command after a crash or Ctrl-C. Failures are
    listed at the end (exit code 6 when any run failed).

    \b
    Example:
      warehouse sweep plans/minisuite.toml --dry-run
      warehouse sweep plans/minisuite.toml --jobs 4
    """
    from runner.plan import expand, load_plan
    from warehouse.config import load_config

    config = load_config(config_path)
    plan = load_plan(plan_file)
    root = runs_dir or plan.get("runs_dir") or config.runs_dir
    specs = expand(plan, root, source=plan_file, providers=config.raw.get("providers"), argv=tuple(sys.argv))
    _sweep_and_report(
        ctx,
        specs,
        root,
        resolve_db(db, config_path),
        config_path,
        jobs=jobs,
        dry_run=dry_run,
        redo=redo_incomplete,
        ingest=not no_ingest,
    )


def _sweep_and_report(
    ctx: click.Context,
    specs: list[Any],
    root: str,
    db: str,
    config_path: str | None,
    *,
    jobs: int,
    dry_run: bool,
    redo: bool,
    ingest: bool,
) -> Any:
    from runner.sweep import plan_actions

    planned = plan_actions(specs, redo)
    if dry_run:
        for p in planned:
            click.echo(f"{p.action}\t{p.steps_done}/{p.spec.steps}\t{p.spec.log}")
        return None
    counts = {a: sum(p.action == a for p in planned) for a in ("run", "resume", "redo", "skip")}
    click.echo(f"{len(planned)} runs: " + ", ".join(f"{n} {a}" for a, n in counts.items() if n), err=True)
    report = _run_with_signals(planned, jobs)
    if report.failures:
        click.echo(f"{len(report.failures)} run(s) failed:", err=True)
        for spec, why in report.failures:
            click.echo(f"  {spec.log}: {why}", err=True)
    if ingest and any(r.new_steps or r.status != "skipped" for r in report.results):
        ingest_logs(root, db, config_path)
        models = sorted({s.model for s in specs})
        print_view(db, "model_ranking", RANKING_COLUMNS, models, "ranking (credited, 95% interval):")
    if report.interrupted:
        raise click.exceptions.Abort()
    if report.failures:
        raise EndpointError(f"{len(report.failures)} run(s) failed; rerun the same command to resume them")
    return report


def _run_with_signals(planned: list[Any], jobs: int) -> Any:
    """Run the sweep; SIGTERM behaves like Ctrl-C (runs stop at a step boundary, resumable)."""
    from runner.sweep import run_sweep

    stop = threading.Event()
    done = [0]
    total = sum(p.action != "skip" for p in planned)

    def notify(item: Any, result: Any, error: str | None) -> None:
        done[0] += 1
        what = error or (
            f"{result.status}, credited {result.credited}/{result.new_steps} new steps" if result else ""
        )
        click.echo(f"[{done[0]}/{total}] {item.spec.log}: {what}", err=True)

    last: dict[Any, float] = {}

    def progress(spec: Any, step: int) -> None:  # a heartbeat per run, at most every 10 s
        now = time.monotonic()
        if now - last.setdefault(spec.log, now) >= 10:
            last[spec.log] = now
            click.echo(f"  {spec.log}: step {step}/{spec.steps}", err=True)

    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return run_sweep(planned, jobs=jobs, notify=notify, stop=stop, progress=progress)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


@click.command("wait")
@click.option("--pids", "pids", multiple=True, metavar="PID[,PID...]", help="Processes to wait for.")
@click.option("--logs", "logs", multiple=True, type=click.Path(dir_okay=False), help="Logs to watch.")
@click.option("--poll", type=float, default=5.0, show_default=True, help="Seconds between checks.")
@click.option("--timeout", type=float, help="Give up after this many seconds.")
def wait_command(pids: tuple[str, ...], logs: tuple[str, ...], poll: float, timeout: float | None) -> None:
    """Wait for runs launched elsewhere, then print each log's status.

    Prints status, steps/planned and path per log, tab-separated. Returns when every PID has
    exited (or, with no PIDs, when every log is complete). Exit code 7 if a log is left
    incomplete.

    \b
    Example:
      warehouse wait --pids 4121,4122 --logs runs/a.jsonl --logs runs/b.jsonl
    """
    from runner.wait import wait_for

    pid_list = [int(p) for chunk in pids for p in chunk.split(",") if p.strip()]
    if not pid_list and not logs:
        raise UsageError("give --pids and/or --logs")

    def tick(alive: list[int], statuses: list[Any]) -> None:
        steps = ", ".join(f"{Path(s.path).name} {s.steps}/{s.planned or '?'}" for s in statuses)
        click.echo(f"\r{len(alive)} process(es) running; {steps}", err=True, nl=False)

    alive, statuses = wait_for(pid_list, [Path(p) for p in logs], poll_s=poll, timeout_s=timeout, tick=tick)
    click.echo("", err=True)
    for s in statuses:
        click.echo(f"{s.status}\t{s.steps}/{s.planned if s.planned is not None else '?'}\t{s.path}")
    if alive:
        raise UsageError(f"timed out; still running: {', '.join(map(str, alive))}")
    if any(s.status != "complete" for s in statuses):
        from warehouse.errors import DataError

        raise DataError("some logs are incomplete: resume them with 'warehouse run --resume' or the sweep")


@click.command("defaults")
@click.option("--out", default="model_defaults.toml", show_default=True, help="File to write ('-' = stdout).")
@db_option
@config_option
def defaults_command(out: str, db: str | None, config_path: str | None) -> None:
    """Write each model's recommended dials (best_settings) to a TOML file.

    `warehouse run --dials auto` and plan models with dials = "auto" read the file.

    \b
    Example:
      warehouse defaults --out model_defaults.toml
      warehouse run --student llm --model gpt-4.1 --dials auto --steps 30
    """
    db_path = resolve_db(db, config_path)
    rows = recommended_rows(db_path)
    if not rows:
        raise UsageError("best_settings recommends nothing yet: ingest some complete runs first")
    write_defaults(rows, out, db_path)


@click.command("demo")
@click.option("--runs-dir", default="runs", show_default=True, help="Where the demo logs go (runs/demo/...).")
@click.option("--steps", type=int, default=20, show_default=True, help="Steps per run.")
@click.option("--seeds", type=int, default=3, show_default=True, help="Seeds per setting.")
@click.option("--jobs", "-j", type=int, default=2, show_default=True, help="Runs at a time.")
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Write the insights report (warehouse report) at the end.",
)
@db_option
@config_option
@click.pass_context
def demo_command(
    ctx: click.Context,
    runs_dir: str,
    steps: int,
    seeds: int,
    jobs: int,
    report: bool,
    db: str | None,
    config_path: str | None,
) -> None:
    """Offline demo: run baseline students, ingest, rank, write the report.

    Three baseline students over a few dials, then the ranking and best settings. Needs no
    network and no key; re-running it resumes or skips what is already there.

    \b
    Example:
      warehouse demo
      warehouse query "select * from model_ranking" -t
    """
    from runner.demo import demo_plan
    from runner.plan import expand

    started = time.perf_counter()
    default_db = resolve_db(None, config_path) if runs_dir == "runs" else str(Path(runs_dir) / "runs.duckdb")
    db_path = db or default_db
    specs = expand(demo_plan(steps, seeds), runs_dir, source="demo plan", argv=tuple(sys.argv))
    _sweep_and_report(
        ctx, specs, runs_dir, db_path, config_path, jobs=jobs, dry_run=False, redo=False, ingest=False
    )
    ingest_logs(runs_dir, db_path, config_path)
    models = sorted({s.model for s in specs})
    print_view(db_path, "model_ranking", RANKING_COLUMNS, models, "ranking (credited, 95% interval):")
    print_view(db_path, "best_settings", SETTINGS_COLUMNS, models, "best settings per model:")
    if report:
        run_report_if_available(ctx, db_path, runs_dir)
    click.echo(
        f"demo done in {time.perf_counter() - started:.1f}s; logs in {runs_dir}/demo, database {db_path}",
        err=True,
    )


def register(group: Any) -> None:
    for command in (run_command, sweep_command, wait_command, defaults_command, demo_command):
        group.add_to_section("launch", command)


__all__ = ["WarehouseError", "register"]
