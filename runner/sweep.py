"""Run many RunSpecs: skip complete logs, resume (or redo) incomplete ones, run N at a time.

Runs execute in threads of this process (the work is waiting on endpoints), so a killed sweep
takes its runs with it and a re-run finds every log either complete, incomplete (resumed from
its last step) or absent. Ctrl-C stops every run at its next step boundary with an "aborted"
closing record, so it can be resumed later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from runner.identity import spec_identity
from runner.logfile import inspect_log
from runner.run import Mode, Progress, RunResult, RunSpec, execute
from warehouse.core.errors import WarehouseError


@dataclass
class Planned:
    spec: RunSpec
    action: str  # run | resume | redo | skip
    steps_done: int = 0
    why: str = ""  # why a run is skipped: "log complete" or "held in the warehouse: <where>"


@dataclass
class SweepReport:
    results: list[RunResult] = field(default_factory=list)
    failures: list[tuple[RunSpec, str]] = field(default_factory=list)
    skipped: list[RunSpec] = field(default_factory=list)
    interrupted: bool = False

    @property
    def new_logs(self) -> list[RunResult]:
        return [r for r in self.results if r.new_steps > 0 or r.status != "skipped"]


def plan_actions(
    specs: list[RunSpec], redo_incomplete: bool = False, held: Mapping[str, str] | None = None
) -> list[Planned]:
    """What a sweep would do with each run, from the state of its log and `held`: identities
    (runner.identity) of complete runs the warehouse already holds -> where they are. A held run
    is skipped even when its log is gone (archived) or was never here."""
    out = []
    for spec in specs:
        state = inspect_log(spec.log)
        where = (held or {}).get(spec_identity(spec))
        if state.status == "complete":
            out.append(Planned(spec, "skip", len(state.steps), "log complete"))
        elif where is not None:
            out.append(Planned(spec, "skip", spec.steps, f"held in the warehouse: {where}"))
        elif state.status in ("incomplete", "aborted"):
            out.append(Planned(spec, "redo" if redo_incomplete else "resume", len(state.steps)))
        else:
            out.append(Planned(spec, "run"))
    return out


Notify = Callable[[Planned, RunResult | None, str | None], None]


def run_sweep(
    planned: list[Planned],
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    notify: Notify | None = None,
    stop: threading.Event | None = None,
) -> SweepReport:
    """Execute the planned runs, `jobs` at a time; failures are collected, not raised."""
    report = SweepReport(skipped=[p.spec for p in planned if p.action == "skip"])
    todo = [p for p in planned if p.action != "skip"]
    stop = stop or threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="run") as pool:
        pending: dict[Future[RunResult], Planned] = {}
        queue = list(reversed(todo))
        try:
            while queue or pending:
                while queue and len(pending) < max(1, jobs) and not stop.is_set():
                    item = queue.pop()
                    mode: Mode = "append" if item.action == "redo" else "resume"
                    pending[pool.submit(execute, item.spec, mode, stop=stop, progress=progress)] = item
                if not pending:
                    break
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    _collect(future, pending.pop(future), report, notify)
        except KeyboardInterrupt:
            stop.set()
            report.interrupted = True
            for future, item in pending.items():
                _collect(future, item, report, notify)
    report.interrupted = report.interrupted or stop.is_set()
    return report


def _collect(future: Future[RunResult], item: Planned, report: SweepReport, notify: Notify | None) -> None:
    try:
        result = future.result()
    except WarehouseError as e:
        report.failures.append((item.spec, str(e)))
        if notify:
            notify(item, None, str(e))
        return
    report.results.append(result)
    if result.status == "aborted":
        report.failures.append((item.spec, result.reason or "aborted"))
    if notify:
        notify(item, result, result.reason if result.status == "aborted" else None)
