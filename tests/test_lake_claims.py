"""Per-file claims in the catalog database: one owner per file, freed on release, death or lease end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from lake_support import Services, require_services

from warehouse.core.errors import LockedError
from warehouse.store.lake.claims import Claims, list_claims

pytestmark = pytest.mark.lake


@pytest.fixture(scope="session")
def svc() -> Services:
    return require_services()


@pytest.fixture
def conninfo(svc: Services) -> str:
    return svc.pg.new_database("claims")


def test_one_owner_per_file_until_release(conninfo: str) -> None:
    with Claims(conninfo, "a") as a, Claims(conninfo, "b") as b:
        assert a.claim(["/r/1", "/r/2", "/r/3"]) == {"/r/1", "/r/2", "/r/3"}
        assert b.claim(["/r/2", "/r/3", "/r/4"]) == {"/r/4"}
        assert a.claim(["/r/1"]) == {"/r/1"}  # re-claiming one's own is fine
        a.release(["/r/2"])
        assert b.claim(["/r/2", "/r/3"]) == {"/r/2"}
        a.fence(["/r/1", "/r/3"])
        with pytest.raises(LockedError):
            a.fence(["/r/2"])  # b owns it now
    assert list_claims(conninfo) == []  # leaving the with-block releases everything


def test_claims_of_a_dead_session_are_free_at_once(conninfo: str) -> None:
    script = (
        "import sys, time; from warehouse.store.lake.claims import Claims\n"
        "c = Claims(sys.argv[1], 'victim').__enter__()\n"
        "c.claim(['/r/a', '/r/b']); print('held', flush=True); time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, conninfo], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with Claims(conninfo, "thief") as thief:
            assert thief.claim(["/r/a"]) == set()  # its owner is alive
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            got: set[str] = set()
            deadline = time.monotonic() + 30  # the server notices the closed socket at once
            while got != {"/r/a", "/r/b"} and time.monotonic() < deadline:
                got |= thief.claim(["/r/a", "/r/b"])
                time.sleep(0.05)
            assert got == {"/r/a", "/r/b"}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_expired_lease_can_be_taken_over_and_the_old_owner_cannot_commit(conninfo: str) -> None:
    with Claims(conninfo, "slow", lease_seconds=0.2) as slow, Claims(conninfo, "next") as nxt:
        assert slow.claim(["/r/x"]) == {"/r/x"}
        assert nxt.claim(["/r/x"]) == set()
        time.sleep(0.4)
        assert nxt.claim(["/r/x"]) == {"/r/x"}
        with pytest.raises(LockedError, match="nothing was committed"):
            slow.fence(["/r/x"])
        rows = list_claims(conninfo)
        assert [(r["path"], r["owner"], r["live"]) for r in rows] == [("/r/x", nxt.owner, True)]


def test_a_runs_dir_path_belongs_to_one_host_unless_shared(conninfo: str) -> None:
    from warehouse.core.errors import UsageError
    from warehouse.store.lake.claims import pg_connect

    with Claims(conninfo, "a") as a:
        a.register_root("/data/runs")
        a.register_root("/data/runs")  # the same host again: fine
        con = pg_connect(conninfo)
        con.execute("INSERT INTO warehouse_roots (root, host) VALUES ('/data/runs', 'other-host')")
        con.close()
        with pytest.raises(UsageError, match="other-host"):
            a.register_root("/data/runs")
        a.register_root("/data/runs", shared=True)
