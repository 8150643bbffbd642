"""`warehouse sweep | wait | defaults | demo`: launch eval runs and close the loop (`run`: run_cmd.py).

Thin commands over runner/ (which writes logs) and ingest/ + the views (which read them).
"""

from __future__ import annotations

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
    enough_evidence,
    held_runs,
    ingest_logs,
    print_view,
    recommended_rows,
    run_report_if_available,
    write_defaults,
)
from warehouse.cli.options import config_option, db_option, resolve_db
from warehouse.cli.simq_cmd import with_profiles
from warehouse.core.errors import EndpointError, UsageError, WarehouseError


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
      warehouse sweep runner/templates/minisuite.toml --dry-run
      warehouse sweep runner/templates/scattergun.toml --jobs 4
    """
    from runner.plan import expand, load_plan
    from warehouse.core.config import load_config

    config = load_config(config_path)
    plan = load_plan(plan_file)
    root = runs_dir or plan.get("runs_dir") or config.runs_dir
    specs = expand(plan, root, source=plan_file, providers=config.raw.get("providers"), argv=tuple(sys.argv))
    _say_auto_dials(plan)
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


def _say_auto_dials(plan: dict[str, Any]) -> None:
    """For plan models with dials = "auto": which dials were applied, from where (stderr)."""
    from runner.defaults import applied_dials

    for model in plan.get("models", []):
        if isinstance(model, dict) and model.get("dials") == "auto":
            name = str(model.get("model", model.get("student", "llm")))
            auto, where = applied_dials(name, plan.get("defaults_file"))
            shown = ", ".join(f"{k}={v}" for k, v in auto.items()) or "none"
            click.echo(f"dials auto for {name}: {shown} (from {where})", err=True)


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

    planned = plan_actions(specs, redo, held_runs(db))
    if dry_run:
        for p in planned:
            click.echo(f"{p.action}\t{p.steps_done}/{p.spec.steps}\t{p.spec.log}\t{p.why}".rstrip("\t"))
        return None
    counts = {a: sum(p.action == a for p in planned) for a in ("run", "resume", "redo", "skip")}
    click.echo(f"{len(planned)} runs: " + ", ".join(f"{n} {a}" for a, n in counts.items() if n), err=True)
    _explain_skips(planned)
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


def _explain_skips(planned: list[Any]) -> None:
    """Why runs are skipped, on stderr: complete logs, and runs the warehouse already holds."""
    held = [p for p in planned if p.action == "skip" and p.why.startswith("held")]
    complete = sum(p.action == "skip" and not p.why.startswith("held") for p in planned)
    if complete:
        click.echo(f"  skipped {complete} run(s) whose log is complete", err=True)
    if held:
        archived = sum("archive://" in p.why for p in held)
        click.echo(
            f"  skipped {len(held)} run(s) the warehouse already holds complete "
            f"({archived} archived), e.g. {held[0].spec.log}: {held[0].why}",
            err=True,
        )


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
@click.option("--runs-dir", help="Runs directory to ingest (default: [paths].runs, if it holds the logs).")
@click.option("--no-ingest", is_flag=True, help="Only report the logs' status; ingest nothing.")
@db_option
@config_option
def wait_command(
    pids: tuple[str, ...],
    logs: tuple[str, ...],
    poll: float,
    timeout: float | None,
    runs_dir: str | None,
    no_ingest: bool,
    db: str | None,
    config_path: str | None,
) -> None:
    """Wait for runs launched elsewhere, then ingest and rank like sweep.

    Prints status, steps/planned and path per log, tab-separated. Returns when every PID has
    exited (or, with no PIDs, when every log is complete). Then, as `sweep` does, ingests the
    runs directory and prints the ranking of the logs' models (skipped with --no-ingest, or
    when the logs are not under the runs directory). Exit code 7 if a log is left incomplete.

    \b
    Example:
      warehouse wait --pids 4121,4122 --logs runs/a.jsonl --logs runs/b.jsonl
      warehouse wait --logs runs/exp/a.jsonl --runs-dir runs --db runs/runs.duckdb
    """
    from runner.wait import wait_for
    from warehouse.cli.launch_support import ingest_and_rank_logs

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
    if not no_ingest and logs:
        ingest_and_rank_logs([Path(p) for p in logs], runs_dir, db, config_path)
    if alive:
        raise UsageError(f"timed out; still running: {', '.join(map(str, alive))}")
    if any(s.status != "complete" for s in statuses):
        from warehouse.core.errors import DataError

        raise DataError("some logs are incomplete: resume them with 'warehouse run --resume' or the sweep")


@click.command("defaults")
@click.option("--out", default="model_defaults.toml", show_default=True, help="File to write ('-' = stdout).")
@click.option(
    "--min-steps",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Refuse a model whose recommended setting rests on fewer steps.",
)
@db_option
@config_option
def defaults_command(out: str, min_steps: int, db: str | None, config_path: str | None) -> None:
    """Write each model's recommended dials (best_settings) to a TOML file.

    Then applies model_profiles: an override whose rule its interval decides, each explained
    (stderr and a comment in the file); undecided rules are listed, not applied.

    `warehouse run --dials auto` and plan models with dials = "auto" read the file. A model whose
    recommended setting rests on fewer than --min-steps steps is refused (said on stderr); each
    block carries its n, credited and 95% interval as a comment.

    \b
    Example:
      warehouse defaults --out model_defaults.toml
      warehouse run --student llm --model gpt-4.1 --dials auto --steps 30
    """
    db_path = resolve_db(db, config_path)
    rows = recommended_rows(db_path)
    if not rows:
        raise UsageError("best_settings recommends nothing yet: ingest some complete runs first")
    rows = enough_evidence(rows, min_steps)
    if not rows:
        raise UsageError(
            f"no model has a recommended setting with at least {min_steps} steps: run more first"
        )
    rows = with_profiles(rows, db_path)
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

    Three baseline students over a few dials, plus one SAQ and one alias-swap run each, then the
    ranking and best settings. Needs no network and no key; re-running it resumes or skips what
    is already there.

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
    for command in (sweep_command, wait_command, defaults_command, demo_command):
        group.add_to_section("launch", command)


__all__ = ["WarehouseError", "register"]
