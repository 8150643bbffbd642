"""Wait for runs launched elsewhere: until their processes exit and/or their logs are complete."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.logfile import RunState, inspect_log
from warehouse.core.procs import pid_alive


@dataclass
class LogStatus:
    path: Path
    status: str
    steps: int
    planned: int | None


def log_status(path: Path) -> LogStatus:
    state: RunState = inspect_log(path)
    return LogStatus(path, state.status, len(state.steps), state.planned)


def wait_for(
    pids: list[int],
    logs: list[Path],
    *,
    poll_s: float = 5.0,
    timeout_s: float | None = None,
    tick: Callable[[list[int], list[LogStatus]], None] | None = None,
) -> tuple[list[int], list[LogStatus]]:
    """Return when every pid has exited and, with no pids, when every log is complete.

    Returns the pids still alive (non-empty only on timeout) and the final log statuses.
    """
    end = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        alive = [p for p in pids if pid_alive(p)]
        statuses = [log_status(p) for p in logs]
        if tick:
            tick(alive, statuses)
        done_logs = all(s.status == "complete" for s in statuses)
        if (pids and not alive) or (not pids and done_logs):
            return alive, statuses
        if end is not None and time.monotonic() >= end:
            return alive, statuses
        time.sleep(poll_s)
