"""The web view's data: one published snapshot, opened read-only, with its runs and steps cached.

A published snapshot never changes (an ingest publishes a new file), so what the pages list is
read once per snapshot into Arrow tables (the `runs` and `steps` views cost ~0.2 s a query to plan
and run, at any size); pages then filter, sort and pair those copies in milliseconds. Each
request reads through its own cursor, where the copies are registered as `runs_t` and `steps_t`.
When a newer snapshot is published, the next request opens it and rebuilds the copies. Costly
page results (a comparison: paired_comparison's statistic plus the step pairs, 0.1-0.5 s on 100k
steps) are kept per snapshot too, the few most recent ones.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from warehouse.apps.runview import RUN_COLUMNS, STEP_COLUMNS, dicts
from warehouse.apps.web import paired
from warehouse.apps.web.queries import SideIds
from warehouse.core.errors import DataError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

T = TypeVar("T")
CACHE_ENTRIES = 32  # results of costly pages (a comparison) kept per snapshot

# occ_model / occ_setting: the i-th occurrence of an item among a model's (a model and setting's)
# MCQ steps, by run start, run, step, line: the compare page pairs steps by it to show transcripts
# side by side (its test is paired_comparison's); computed once here, not per compare.
_ELIGIBLE = "task_type = 'mcq' AND item_id IS NOT NULL"
_OCC = "ORDER BY run_started_at, run_key, step, line_no) END"
STEPS_SQL = f"""
SELECT run_key, run_id, model, setting_id, run_started_at, task_type, {paired.COLUMNS}, {STEP_COLUMNS},
       CASE WHEN {_ELIGIBLE} THEN row_number() OVER (
           PARTITION BY {_ELIGIBLE}, model, item_id {_OCC} AS occ_model,
       CASE WHEN {_ELIGIBLE} THEN row_number() OVER (
           PARTITION BY {_ELIGIBLE}, model, setting_id, item_id {_OCC} AS occ_setting
FROM steps
"""
RUNS_SQL = f"""
WITH s AS (
    SELECT run_key, count(*) AS n, avg(credited::INT) AS credited, avg(correct::INT) AS correct,
           sum(student_tokens) AS tokens
    FROM steps_t GROUP BY run_key
)
SELECT {", ".join("r." + c.strip() for c in RUN_COLUMNS.split(","))}, r.dial_kv,
       coalesce(s.n, 0) AS n, s.credited, s.correct, s.tokens
FROM runs r LEFT JOIN s USING (run_key)
"""


class Snapshot:
    """One opened snapshot and what is cached from it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._cache: dict[tuple[str, ...], object] = {}
        self._cache_lock = threading.Lock()
        self.steps: pa.Table = con.execute(STEPS_SQL).to_arrow_table()
        cur = con.cursor()
        try:
            cur.register("steps_t", self.steps)
            self.runs: pa.Table = cur.execute(RUNS_SQL).to_arrow_table()
            cur.register("runs_t", self.runs)
            self.ranking = dicts(cur.execute("SELECT * FROM model_ranking ORDER BY task_type, tau, rank"))
            order = "model, task_type, tau, is_recommended DESC, could_be_best DESC, rate DESC, setting_id"
            self.settings = dicts(cur.execute(f"SELECT * FROM best_settings ORDER BY {order}"))
            self.choices = {name: _distinct(cur, name) for name in ("model", "campaign", "status", "tau")}
            settings = cur.execute(
                "SELECT DISTINCT model, setting_id, setting FROM runs_t"
                " WHERE setting_id IS NOT NULL ORDER BY 1, 3"
            ).fetchall()
            others = cur.execute("SELECT run_id FROM runs_t UNION SELECT setting_id FROM runs_t").fetchall()
        finally:
            cur.close()
        self.sides = [(m, m) for m in self.choices["model"]] + [
            (f"{m}@{sid}", f"{m} @ {label}") for m, sid, label in settings
        ]
        self.ids = SideIds(
            frozenset(self.choices["model"]),
            frozenset(f"{m}@{sid}" for m, sid, _ in settings),
            frozenset(str(r) for (r,) in others if r is not None),
        )

    def cached(self, key: tuple[str, ...], build: Callable[[], T]) -> T:
        """`build()`, remembered for this snapshot (it never changes); the last few are kept."""
        with self._cache_lock:
            if key in self._cache:
                self._cache[key] = self._cache.pop(key)  # most recently used last
                return cast("T", self._cache[key])
        value = build()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.pop(next(iter(self._cache)))
        return value

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.con.cursor()
        cur.register("steps_t", self.steps)
        cur.register("runs_t", self.runs)
        return cur


def _distinct(cur: duckdb.DuckDBPyConnection, column: str) -> list[Any]:
    sql = f"SELECT DISTINCT {column} FROM runs_t WHERE {column} IS NOT NULL ORDER BY 1"
    return [r[0] for r in cur.execute(sql).fetchall()]


class Snapshots:
    """The current snapshot of one database, reopened when a newer one is published."""

    def __init__(self, db: str) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._at: Any = None

    def _stamp(self) -> Any:
        try:
            st = os.stat(self.db)
        except OSError:
            return None  # a lake: no file to watch (its reader is reopened only on a restart)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> Snapshot:
        from warehouse.store.db import open_reader

        stamp = self._stamp()
        with self._lock:
            if self._current is None:
                self._current, self._at = Snapshot(open_reader(self.db)), stamp
            elif stamp != self._at:
                # the old snapshot is left to the garbage collector: requests still reading it finish
                self._current, self._at = Snapshot(_open_again(self.db)), stamp
            return self._current


_opened = itertools.count(1)


def _open_again(db: str) -> duckdb.DuckDBPyConnection:
    """A connection to the snapshot now published at `db`, while one to an older snapshot is open.

    DuckDB hands a second connect() to the same path the database instance already open (the old
    file, which an open reader keeps); so the new file is opened through a hard link of its own
    name, removed once open (the connection keeps the inode, like any reader)."""
    from warehouse.store.db import open_reader

    path = Path(db)
    link = path.with_name(f".{path.name}.view-{os.getpid()}-{next(_opened)}")
    try:
        os.link(path, link)
    except OSError as e:
        raise DataError(
            f"cannot open the new snapshot of {db} beside the old one ({e.strerror}): "
            "restart 'warehouse view'"
        ) from None
    try:
        return open_reader(link)
    finally:
        link.unlink(missing_ok=True)
