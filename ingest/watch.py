"""`warehouse ingest --watch`: keep the published database within about a second of the logs.

The watcher (this process) waits on inotify through `watchfiles`, asleep in the kernel while
nothing changes. Each burst of changes to log files under RUNS_DIR becomes one round: an ordinary
ingest (the no-op check, then one transaction, published at once) run by a worker process
(ingest/watch_worker.py). Changes that arrive during a round are the next round, so a sweep
writing many lines costs one ingest per round, not one per line. The worker stays up while
rounds keep coming (no interpreter start or DuckDB import per round) and exits after
IDLE_EXIT_S without one: the watcher alone keeps no database and no DuckDB in memory.

A round that fails is one line on stderr; the watcher retries it later (RETRY_S) or sooner when
files change, and says the same error again only when it changes. A fatal error (the runs folder
is gone or is not a folder; a database of another schema version) ends the watch with its exit
code. Ctrl-C or SIGTERM stop it: a round in progress finishes first (for up to STOP_GRACE_S, then
it is interrupted and rolls back), so nothing is half-published.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ingest.importers import candidate
from ingest.scan import OWN_SUFFIXES, SKIP_DIRS, log_kind
from warehouse.core.errors import ExitCode, UsageError, WarehouseError

DEBOUNCE_MS = 300  # changes that keep coming are grouped for at most this long
STEP_MS = 50  # a burst ends after this long without a change
TICK_MS = 1000  # the watcher wakes this often to retire an idle worker or retry a failed round
IDLE_EXIT_S = 2.0  # the worker exits after this long without a round
RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # after the n-th failure in a row, retry after this long
STOP_GRACE_S = 10.0  # on stop, how long a round in progress may take before it is interrupted
FATAL = (ExitCode.USAGE, ExitCode.SCHEMA)  # codes that no retry can fix


@dataclass
class Round:
    """What one round did: the ingest's summary (as a dict) or its error line and exit code."""

    summary: dict[str, Any] | None = None
    error: str | None = None
    code: int = 0
    seconds: float = 0.0


class Fatal(WarehouseError):
    """A round failed in a way no retry fixes; the watch ends with the round's exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = ExitCode(code) if code in {c.value for c in ExitCode} else ExitCode.FAILURE


def relevant(root: str, change: int, path: str) -> bool:
    """True for a change ingest may care about: a log file, a folder, or anything deleted, outside
    dot-names, _aggregated/, _archive/, _catalog/ and the database's own files."""
    if not path.startswith(root + os.sep):
        return path == root
    parts = path[len(root) + 1 :].split(os.sep)
    if any(part[:1] == "." or part in SKIP_DIRS for part in parts):
        return False
    name = parts[-1]
    if name.endswith(OWN_SUFFIXES):
        return False
    if change == 3:  # watchfiles.Change.deleted: a removed folder reports no file inside it
        return True
    return log_kind(name) is not None or candidate(name) or os.path.isdir(path)


@dataclass
class Worker:
    """The worker process, started on demand; one JSON line per round on its stdout."""

    argv: list[str]
    stop: threading.Event
    proc: subprocess.Popen[str] | None = None
    last_used: float = field(default_factory=time.monotonic)

    def run(self) -> Round:
        started = time.monotonic()
        if self.proc is None or self.proc.poll() is not None:
            # Its own session: a Ctrl-C in the terminal reaches the watcher, which decides.
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # it died: the read below says how
        line = self._reply(self.proc, self.proc.stdout)
        self.last_used = time.monotonic()
        if not line:
            code = self.proc.wait()
            self.proc = None
            return Round(error=f"error: the ingest worker stopped (exit {code})", code=code or 1)
        reply = json.loads(line)
        return Round(reply.get("summary"), reply.get("error"), reply.get("code", 0), self.last_used - started)

    def _reply(self, proc: subprocess.Popen[str], out: IO[str]) -> str:
        """The worker's next line; on stop, interrupt a round that outlasts STOP_GRACE_S."""
        stopped_at: float | None = None
        while True:
            ready, _, _ = select.select([out], [], [], 0.2)
            if ready:
                return out.readline()
            if self.stop.is_set():
                stopped_at = stopped_at or time.monotonic()
                if time.monotonic() - stopped_at > STOP_GRACE_S and proc.poll() is None:
                    proc.send_signal(signal.SIGINT)  # the transaction rolls back; nothing is published
                    stopped_at = time.monotonic() + 3600  # once

    def idle(self) -> bool:
        return self.proc is not None and time.monotonic() - self.last_used >= IDLE_EXIT_S

    def close(self) -> None:
        """End the worker (it exits at the end of its stdin)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def worker_argv(root: Path, db: str, config_path: str | None, fast: bool) -> list[str]:
    argv = [sys.executable, "-m", "ingest.watch_worker", str(root), db]
    argv += ["--config", config_path] if config_path else []
    return argv + ([] if fast else ["--exact-only"])


def watch_runs(
    root: Path,
    db: str,
    config_path: str | None,
    on_round: Callable[[Round], None],
    *,
    fast: bool = True,
    stop: threading.Event | None = None,
    on_start: Callable[[], None] | None = None,
) -> None:
    """Ingest now, then after every burst of changes under `root`, until `stop` is set (SIGINT and
    SIGTERM set it when this runs in the main thread). Raises Fatal for an error no retry fixes."""
    if not root.is_dir():
        raise UsageError(f"runs directory {root} does not exist: pass the folder holding your logs")
    if on_start is not None:
        on_start()
    stop = stop or threading.Event()
    worker = Worker(worker_argv(root, db, config_path, fast), stop)
    real = os.path.realpath(root)
    with _stop_on_signals(stop):
        try:
            _loop(real, worker, stop, on_round)
        finally:
            worker.close()


def _loop(root: str, worker: Worker, stop: threading.Event, on_round: Callable[[Round], None]) -> None:
    import watchfiles

    failures, first = 0, True
    due: float | None = 0.0  # when to run a round without a change (a retry; 0: the first, at once)
    for changes in watchfiles.watch(
        root,
        watch_filter=lambda change, path: relevant(root, int(change), path),
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        rust_timeout=TICK_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        if stop.is_set():
            return
        if not changes and (due is None or time.monotonic() < due):
            if worker.idle():
                worker.close()
            continue
        result = worker.run()
        on_round(result)
        if result.error is None:
            failures, due, first = 0, None, False
            continue
        if not Path(root).is_dir() or result.code == ExitCode.SCHEMA or (first and result.code in FATAL):
            raise Fatal(result.error, result.code or 1)
        due = time.monotonic() + RETRY_S[min(failures, len(RETRY_S) - 1)]
        failures += 1
        first = False


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (main thread only; elsewhere the caller sets it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = lambda signum, frame: stop.set()
    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)
