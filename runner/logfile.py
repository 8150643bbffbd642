"""Run-log files: append-only JSONL, one record per line, flushed per record, locked while written.

A file may hold several runs (one header each). `inspect_log` reads the last run back so a sweep
can skip a complete log, resume an incomplete one, or start a fresh run after it. A torn last
line (a writer killed mid-record) is cut off before anything is appended: those bytes never
ended with a newline, so no reader has taken them as a record.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

from runner.redact import Redactor
from warehouse.core.errors import DataError, UsageError
from warehouse.core.logformat import LogRecord


@dataclass
class RunState:
    """What the last run in a log file got to."""

    status: str  # missing | empty | complete | incomplete | aborted
    run_id: str | None = None
    header: dict[str, Any] | None = None
    steps: list[int] = field(default_factory=list)
    last_step: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    torn_bytes: int = 0
    runs_in_file: int = 0

    @property
    def next_step(self) -> int:
        return max(self.steps) + 1 if self.steps else 0

    @property
    def planned(self) -> int | None:
        config = (self.header or {}).get("config") or {}
        steps = config.get("num_steps")
        return steps if isinstance(steps, int) else None


def inspect_log(path: str | Path) -> RunState:
    p = Path(path)
    if not p.exists():
        return RunState("missing")
    data = p.read_bytes()
    cut = data.rfind(b"\n") + 1
    state = RunState("empty", torn_bytes=len(data) - cut)
    for line in data[:cut].splitlines():
        record = _parse(line)
        if record is not None:
            _absorb(state, record)
    if state.header is not None:
        state.status = _status(state)
    return state


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _absorb(state: RunState, record: dict[str, Any]) -> None:
    if record.get("run_header") is True:
        state.runs_in_file += 1
        state.header, state.run_id = record, record.get("run_id")
        state.steps, state.last_step, state.end = [], None, None
    elif record.get("run_end") is True and record.get("run_id") == state.run_id:
        state.end = record
    elif isinstance(record.get("step"), int) and record.get("run_id") == state.run_id:
        state.steps.append(record["step"])
        state.last_step = record


def _status(state: RunState) -> str:
    if state.end is not None and state.end.get("status") == "complete":
        return "complete"
    aborted = state.end is not None and state.end.get("status") == "aborted"
    if aborted and state.next_step < (state.planned or 0):
        return "aborted"
    return "incomplete"


class LogWriter:
    """Append records to one log; holds an exclusive flock so two writers never share a file.

    Every record passes through `redactor` here, whatever its type or fields (steps, headers,
    transcripts): a key a server echoes inside a normal answer never reaches the log, and so
    never the database or an archive. The redactor starts with every `*API_KEY*` variable's value
    and learns the key of each endpoint made with it (runner/endpoint.py adds it)."""

    def __init__(self, path: str | Path, redactor: Redactor | None = None) -> None:
        self.redactor = redactor if redactor is not None else Redactor()
        for secret in Redactor.from_environment().secrets:
            self.redactor.add(secret)
        self.path = Path(path)
        if self.path.is_dir():
            raise UsageError(f"--log {path} is a directory; give a .jsonl file path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._created = not self.path.exists()
        self._fh: IO[bytes] = open(self.path, "ab")  # noqa: SIM115 -- held for the writer's life
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            raise UsageError(
                f"{path} is being written by another run; wait for it (warehouse wait)"
            ) from None

    def cut_torn_tail(self) -> int:
        """Drop bytes after the last newline (call with the lock held, before appending)."""
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep == len(data):
            return 0
        os.truncate(self.path, keep)
        return len(data) - keep

    def write(self, record: LogRecord) -> None:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
        secrets = self.redactor.secrets
        # A secret inside a string value shows in the line as itself or JSON-escaped (\", \\).
        if any(s in line or json.dumps(s)[1:-1] in line for s in secrets):
            line = json.dumps(self.redactor.scrub(record), ensure_ascii=False, allow_nan=False) + "\n"
        try:
            self._fh.write(line.encode("utf-8"))
            self._fh.flush()  # a killed process loses at most the record being written
        except OSError as e:
            raise DataError(f"cannot write {self.path}: {e.strerror}; free space and resume") from e

    def close(self) -> None:
        if self._fh.closed:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        if self._created and os.fstat(self._fh.fileno()).st_size == 0:
            self.path.unlink(missing_ok=True)  # nothing was written (e.g. no key): leave no file
        self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
