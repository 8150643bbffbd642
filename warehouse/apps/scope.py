"""Scope of a statistic: a campaign, a time window and a `--where` predicate over runs.

The statistics are table macros taking `campaign`, `since`, `until` and `runs` (a JSON array
of run_key as text; '*', '-infinity', 'infinity', '*' mean no limit). A `--where` predicate is
never pasted into a statistic: it is evaluated once, as
`SELECT run_key FROM runs WHERE (<predicate>)`, on a read-only connection with external access
and configuration locked, must be a single statement, and only the keys it returns go on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from warehouse.core.errors import QueryError, UsageError

ARGS = "campaign := ?, since := ?, until := ?, runs := ?"


@dataclass(frozen=True)
class Scope:
    campaign: str | None = None
    since: str | None = None
    until: str | None = None
    runs: tuple[str, ...] | None = None

    @property
    def params(self) -> list[Any]:
        """Bound values for ARGS, in order."""
        runs = "*" if self.runs is None else json.dumps(list(self.runs))
        return [self.campaign or "*", self.since or "-infinity", self.until or "infinity", runs]

    @property
    def empty(self) -> bool:
        return self.campaign is None and self.since is None and self.until is None and self.runs is None

    def describe(self) -> str:
        parts = [f"campaign {self.campaign}"] if self.campaign else []
        parts += [f"since {self.since}"] if self.since else []
        parts += [f"until {self.until}"] if self.until else []
        parts += [f"{len(self.runs)} run(s) matching --where"] if self.runs is not None else []
        return ", ".join(parts) or "all runs"


def where_runs(db: str | os.PathLike[str], predicate: str) -> tuple[str, ...]:
    """run_keys of the runs the predicate holds for, evaluated on a locked-down reader."""
    import duckdb

    from warehouse.store.db import open_reader

    text = predicate.strip()
    if not text:
        raise UsageError("--where needs a predicate, e.g. --where \"campaign = 'exp'\"")
    con = open_reader(db, locked_down=True)
    try:
        sql = f"SELECT run_key FROM runs WHERE ({text})"
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as e:
            raise QueryError(f"--where is not a valid predicate: {str(e).splitlines()[0]}") from e
        if len(statements) != 1:
            raise QueryError("--where must be one predicate, not several statements")
        try:
            found = con.execute(sql).fetchall()
        except duckdb.Error as e:
            raise QueryError(f"--where failed: {str(e).splitlines()[0]}") from e
    finally:
        con.close()
    return tuple(str(r[0]) for r in found)


def resolve(
    db: str | os.PathLike[str],
    campaign: str | None = None,
    since: str | None = None,
    until: str | None = None,
    where: str | None = None,
) -> Scope:
    runs = where_runs(db, where) if where is not None else None
    return Scope(campaign or None, since or None, until or None, runs)
