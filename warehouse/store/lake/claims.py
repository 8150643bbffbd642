"""Per-file claims in the lake's PostgreSQL catalog database: each file has one ingesting owner.

DuckLake has no PRIMARY KEY or UNIQUE, so two writers that both see "file not ingested yet" both
insert it. A writer therefore claims a file in `warehouse_claims` (a real
PostgreSQL table with a primary key) before it reads the file's manifest row, keeps the claim
through its lake commit, and releases it afterwards. The next writer to claim the file starts a
new lake transaction after that commit, sees the updated manifest, and reads only what is new.

A claim is released:
- explicitly after the lake commit or rollback (`release`);
- when its owner dies: a claim names the owner's PostgreSQL session (backend pid and start
  time). A killed process's socket closes, its session ends, and its claims are free at once;
- when its lease expires (a host that vanished without closing its socket). Before committing,
  the owner re-checks and extends its claims (`fence`), so a claim taken over is never committed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Self

from warehouse.core.errors import DataError, LockedError, UsageError

if TYPE_CHECKING:
    import psycopg

TABLE = "warehouse_claims"
DDL_LOCK_KEY = 0x7275_6E73_636C_6D73  # "runsclms": serializes CREATE TABLE IF NOT EXISTS

_DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    path          text PRIMARY KEY,
    owner         text NOT NULL,
    host          text NOT NULL,
    pid           integer NOT NULL,
    command       text,
    backend_pid   integer NOT NULL,
    backend_start timestamptz NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT now(),
    lease_until   timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS warehouse_roots (
    root          text NOT NULL,
    host          text NOT NULL,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (root, host)
)"""

# Insert new claims; take over existing ones only if stale (owner session gone or lease over).
_CLAIM = f"""
INSERT INTO {TABLE} AS c (path, owner, host, pid, command, backend_pid, backend_start, lease_until)
SELECT p, %(owner)s, %(host)s, %(pid)s, %(command)s, pg_backend_pid(),
       (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()),
       now() + make_interval(secs => %(lease)s)
FROM unnest(%(paths)s::text[]) AS p ORDER BY p
ON CONFLICT (path) DO UPDATE SET
    owner = EXCLUDED.owner, host = EXCLUDED.host, pid = EXCLUDED.pid, command = EXCLUDED.command,
    backend_pid = EXCLUDED.backend_pid, backend_start = EXCLUDED.backend_start,
    claimed_at = now(), lease_until = EXCLUDED.lease_until
WHERE c.owner = EXCLUDED.owner OR c.lease_until < now() OR NOT EXISTS (
    SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.backend_pid AND a.backend_start = c.backend_start)
RETURNING c.path"""


def _psycopg() -> object:
    try:
        import psycopg
    except ImportError as e:
        raise UsageError(
            "the DuckLake backend needs psycopg for file claims: pip install 'runs-warehouse[lake]'"
        ) from e
    return psycopg


def pg_connect(conninfo: str) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit PostgreSQL session on the catalog database."""
    _psycopg()
    import psycopg

    try:
        return psycopg.connect(conninfo, autocommit=True, application_name="runs-warehouse")
    except psycopg.OperationalError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"cannot reach the lake catalog database: {first}; check --db") from e


@contextlib.contextmanager
def advisory_lock(conninfo: str, key: int, *, wait: bool = True) -> Iterator[None]:
    """Hold a session-level PostgreSQL advisory lock (freed if this process dies)."""
    con = pg_connect(conninfo)
    try:
        if wait:
            con.execute("SELECT pg_advisory_lock(%s)", [key])
        else:
            row = con.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
            if not row or not row[0]:
                raise LockedError("another process holds this lake operation; retry when it is done")
        yield
    finally:
        con.close()  # ends the session, which releases the lock


class Claims:
    """One writer's claims, held through one PostgreSQL session (a context manager)."""

    def __init__(self, conninfo: str, command: str = "warehouse", lease_seconds: float = 3600.0) -> None:
        self.conninfo = conninfo
        self.command = command
        self.lease = float(lease_seconds)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.held: set[str] = set()
        self._con: psycopg.Connection[tuple[object, ...]] | None = None

    def __enter__(self) -> Self:
        self._con = pg_connect(self.conninfo)
        ensure_table(self._con)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.held and self._con is not None and not self._con.closed:
                self.release(list(self.held))
        finally:
            if self._con is not None:
                self._con.close()

    @property
    def con(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._con is None:
            raise RuntimeError("Claims used outside its with-block")
        return self._con

    def claim(self, paths: Iterable[str]) -> set[str]:
        """Claim what is free (or stale) among paths; returns the paths now held by us."""
        wanted = sorted(set(paths))
        if not wanted:
            return set()
        import psycopg

        params = {
            "owner": self.owner,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "command": self.command,
            "lease": self.lease,
            "paths": wanted,
        }
        for attempt in range(5):
            try:
                rows = self.con.execute(_CLAIM, params).fetchall()
                break
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                if attempt == 4:
                    raise
        got = {str(r[0]) for r in rows}
        self.held |= got
        return got

    def fence(self, paths: Iterable[str]) -> None:
        """Before a lake commit: prove we still own every path, and extend the lease."""
        wanted = sorted(set(paths))
        if not wanted:
            return
        rows = self.con.execute(
            f"UPDATE {TABLE} SET lease_until = now() + make_interval(secs => %s)"
            " WHERE owner = %s AND path = ANY(%s) RETURNING path",
            [self.lease, self.owner, wanted],
        ).fetchall()
        lost = set(wanted) - {str(r[0]) for r in rows}
        if lost:
            self.held -= lost
            raise LockedError(
                f"lost the claim on {len(lost)} file(s) (e.g. {min(lost)}) "
                "to another writer after the lease expired; nothing was committed"
            )

    def register_root(self, root: str, *, shared: bool = False) -> None:
        """Refuse a runs directory path another host already ingests (unless it is one shared
        filesystem): files are identified by absolute path, so two machines' different files at
        the same path would replace each other's rows on every ingest."""
        host = socket.gethostname()
        others = [
            str(r[0])
            for r in self.con.execute(
                "SELECT host FROM warehouse_roots WHERE root = %s AND host <> %s ORDER BY host", [root, host]
            ).fetchall()
        ]
        if others and not shared:
            raise UsageError(
                f"runs directory {root} is already ingested into this lake from {others[0]}: give "
                f"each machine its own path (e.g. /data/runs/{host}/), or pass --shared-root if "
                "it is one shared filesystem seen by both"
            )
        self.con.execute(
            "INSERT INTO warehouse_roots (root, host) VALUES (%s, %s) ON CONFLICT DO NOTHING", [root, host]
        )

    def release(self, paths: Iterable[str]) -> None:
        wanted = sorted(set(paths))
        if wanted:
            self.con.execute(f"DELETE FROM {TABLE} WHERE owner = %s AND path = ANY(%s)", [self.owner, wanted])
        self.held -= set(wanted)


def ensure_table(con: psycopg.Connection[tuple[object, ...]]) -> None:
    exists = con.execute("SELECT to_regclass(%s), to_regclass('warehouse_roots')", [TABLE]).fetchone()
    if exists and exists[0] and exists[1]:
        return
    with advisory_transaction(con):
        con.execute(_DDL)


@contextlib.contextmanager
def advisory_transaction(con: psycopg.Connection[tuple[object, ...]]) -> Iterator[None]:
    """Serialize concurrent CREATE TABLE IF NOT EXISTS (it can race on the catalog)."""
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", [DDL_LOCK_KEY])
        yield


def list_claims(conninfo: str) -> list[dict[str, object]]:
    """Current claims with whether their owner session is alive (for `warehouse lake claims`)."""
    con = pg_connect(conninfo)
    try:
        ensure_table(con)
        cur = con.execute(
            f"SELECT c.path, c.owner, c.host, c.pid, c.command, c.claimed_at, c.lease_until,"
            f" EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.backend_pid"
            f"         AND a.backend_start = c.backend_start) AND c.lease_until >= now() AS live"
            f" FROM {TABLE} c ORDER BY c.claimed_at, c.path"
        )
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
