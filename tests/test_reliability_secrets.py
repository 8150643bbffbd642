"""The API key never lands anywhere the warehouse writes.

The real `warehouse run` talks to failing servers on 127.0.0.1 that echo the key back (a 401
repeating the Authorization header, 429/500 messages and a raw 502 page quoting it, a redirect);
then the logs are ingested, exported, archived, and an ingest is killed after its commit so a
WAL exists. Every file under the test directory is searched: raw bytes, gzip/tar.gz contents,
Parquet values, and every row of every table of the published and the live database.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from fake_openai import EchoKey, FakeOpenAI, Raw, Redirect, Reply, Status, smart_student
from reliability_support import cli

from warehouse.store.snapshot import paths_for

KEY = "sk-TESTSECRET-reliability-0123456789abcdef"
NEEDLES = (KEY.encode(), b"TESTSECRET", b"Bearer sk-")
ENV = "RW_RELIABILITY_KEY"


def _run(fake: FakeOpenAI, log: Path, out: Path, model: str) -> int:
    """`warehouse run` against the fake server; its stdout/stderr become files we search too."""
    with open(out.with_suffix(".stdout"), "w") as so, open(out.with_suffix(".stderr"), "w") as se:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "warehouse",
                "run",
                "--student",
                "llm",
                "--provider",
                "local",
                "--base-url",
                fake.base_url,
                "--api-key-env",
                ENV,
                "--model",
                model,
                "--steps",
                "2",
                "--max-retries",
                "1",
                "--timeout",
                "5",
                "--log",
                str(log),
            ],
            stdout=so,
            stderr=se,
            env={**os.environ, ENV: KEY},
            timeout=300,
        ).returncode


def _hits_in_bytes(data: bytes) -> list[bytes]:
    found = [n for n in NEEDLES if n in data]
    if data[:2] == b"\x1f\x8b":  # gzip, tar.gz, csv.gz: search what is inside too
        with contextlib.suppress(OSError, EOFError):
            found += _hits_in_bytes(gzip.decompress(data))
    return found


def _hits_in_database(path: Path) -> list[str]:
    """Every row of every table, cast to text (compressed columns hide strings from a raw grep)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        found = []
        for table in tables:
            n = con.execute(
                f'SELECT count(*) FROM "{table}" AS t WHERE contains(t::VARCHAR, ?)'
                " OR contains(t::VARCHAR, ?)",
                [KEY, "TESTSECRET"],
            ).fetchone()
            if n and n[0]:
                found.append(f"{path.name}:{table}")
        return found
    finally:
        con.close()


def _search(root: Path) -> tuple[list[str], dict[str, int]]:
    hits: list[str] = []
    kinds: dict[str, int] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()  # no writer is running any more
        hits += [f"{path}: {n!r}" for n in _hits_in_bytes(data)]
        if path.suffix == ".parquet" or path.name.endswith(".parquet"):
            text = str(pq.read_table(path).to_pylist())
            hits += [f"{path} (parquet)" for n in ("TESTSECRET",) if n in text]
            kinds["parquet"] = kinds.get("parquet", 0) + 1
        if data[8:12] == b"DUCK":  # a DuckDB database file (the WAL is searched raw)
            hits += _hits_in_database(path)
            kinds["database"] = kinds.get("database", 0) + 1
        for suffix in (".wal", ".tar.gz", ".csv.gz", ".jsonl", ".stderr"):
            if path.name.endswith(suffix):
                kinds[suffix] = kinds.get(suffix, 0) + 1
    return hits, kinds


def test_the_key_is_nowhere_after_failing_servers_ingest_export_archive(tmp_path: Path) -> None:
    runs, db = tmp_path / "runs", tmp_path / "runs" / "runs.duckdb"
    logs = runs / "llm"
    logs.mkdir(parents=True)
    behaviours: dict[str, Any] = {
        "echo401": lambda _body: EchoKey(),
        "msg429": lambda _body: Status(429, f"slow down, Bearer {KEY}"),
        "msg500": lambda _body: Status(500, f"upstream failed for api_key={KEY}"),
        "raw502": lambda _body: Raw(
            502, f"<html>502 Bad Gateway (Authorization: Bearer {KEY})</html>".encode()
        ),
    }
    codes = {}
    for name, default in behaviours.items():
        with FakeOpenAI(default=default) as fake:
            codes[name] = _run(
                fake, logs / f"local_acme-{name}_sc1_b6.jsonl", tmp_path / name, f"acme/{name}"
            )
            auth = {r.headers.get("authorization") for r in fake.requests}
        assert auth == {f"Bearer {KEY}"}  # the key really was sent, so it could have leaked
    with (
        FakeOpenAI() as other,
        FakeOpenAI(default=lambda _b: Redirect(other.base_url + "/chat/completions")) as fake,
    ):
        codes["redirect"] = _run(
            fake, logs / "local_acme-redirect_sc1_b6.jsonl", tmp_path / "redirect", "acme/r"
        )
        assert other.requests == []
    with FakeOpenAI() as fake:
        codes["ok"] = _run(fake, logs / "local_acme-ok_sc1_b6.jsonl", tmp_path / "ok", "acme/ok")
    assert codes["ok"] == 0 and all(codes[k] != 0 for k in behaviours), codes
    with open(logs / "local_acme-ok_sc1_b6.jsonl", "a", encoding="utf-8") as fh:
        fh.write("not json: a quarantined line\n")
    assert cli("ingest", str(runs), "--db", str(db), "-q").returncode == 0
    exported = cli("export", "--db", str(db), "--out-dir", str(runs / "_aggregated"))
    assert exported.returncode == 0, exported.stderr
    archived = cli("archive", "--db", str(db), "--runs-dir", str(runs), "--min-age-minutes", "0")
    assert archived.returncode == 0, archived.stderr
    with FakeOpenAI(default=lambda _body: EchoKey()) as fake:  # one more failed run ...
        _run(fake, logs / "local_acme-late_sc1_b6.jsonl", tmp_path / "late", "acme/late")
    killed = cli("ingest", str(runs), "--db", str(db), "-q", env={"WAREHOUSE_KILL_AT": "ingest:after_commit"})
    assert killed.returncode == -9  # ... ingested up to its commit: its WAL is on disk
    live = paths_for(db).live
    assert live.with_name(live.name + ".wal").stat().st_size > 0
    counts = duckdb.connect(str(db), read_only=True)
    try:
        quarantined, errors = counts.execute(
            "SELECT (SELECT count(*) FROM quarantine),"
            " (SELECT count(*) FROM records WHERE end_reason IS NOT NULL OR (line -> '$.calls') IS NOT NULL)"
        ).fetchone() or (0, 0)
    finally:
        counts.close()
    assert quarantined >= 1 and errors >= 1
    hits, kinds = _search(tmp_path)
    assert hits == []
    assert {".wal", ".tar.gz", ".csv.gz", ".jsonl", ".stderr", "parquet", "database"} <= set(kinds), kinds
    print(f"\nsecrets: searched {sum(kinds.values())} files by kind {kinds}: 0 hits for the key")


def _reflecting(body: dict[str, Any]) -> Any:
    """A normal, successful answer (200) that quotes the key: in a fact card, a citation, a key."""
    reply = smart_student(body)
    assert isinstance(reply, Reply) and isinstance(reply.content, dict)
    content = dict(reply.content)
    if "cards" in content:
        content["cards"] = [*content["cards"], {"quote": f"the server said {KEY}", "option": "A"}]
    else:
        content["citations"] = [*content["citations"], f"source {KEY}"]
        content[KEY] = f"note: {KEY} / Bearer {KEY}"
    return Reply(content, reply.prompt_tokens, reply.completion_tokens)


def test_a_key_echoed_in_successful_answers_is_redacted_everywhere(tmp_path: Path) -> None:
    """The server answers 200 every time, quoting the key inside the content: the run completes,
    and the key is in no log, database row, export, archive or spare copy."""
    runs, db = tmp_path / "runs", tmp_path / "runs" / "runs.duckdb"
    log = runs / "llm" / "local_acme-reflect_sc1_b6.jsonl"
    log.parent.mkdir(parents=True)
    with FakeOpenAI(default=_reflecting) as fake:
        assert _run(fake, log, tmp_path / "reflect", "acme/reflect") == 0
        replied = [r for r in fake.requests if r.headers.get("authorization") == f"Bearer {KEY}"]
    assert replied  # the key was sent and echoed back in each answer
    assert KEY.encode() not in log.read_bytes() and b"[REDACTED]" in log.read_bytes()
    assert cli("ingest", str(runs), "--db", str(db), "-q").returncode == 0
    exported = cli("export", "--db", str(db), "--out-dir", str(runs / "_aggregated"))
    assert exported.returncode == 0, exported.stderr
    archived = cli("archive", "--db", str(db), "--runs-dir", str(runs), "--min-age-minutes", "0")
    assert archived.returncode == 0, archived.stderr
    hits, kinds = _search(tmp_path)
    assert hits == []
    assert {".tar.gz", ".csv.gz", "database"} <= set(kinds), kinds


def test_the_search_finds_a_planted_key(tmp_path: Path) -> None:
    """Negative control: the key in a plain file, a .gz, a Parquet file and a database table."""
    (tmp_path / "a.log").write_text(f"oops {KEY}\n", encoding="utf-8")
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(f"x,{KEY}\n".encode()))
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    con.execute("CREATE TABLE t AS SELECT ? AS s FROM range(5000)", [KEY])
    con.execute(f"COPY t TO '{tmp_path / 'd.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    hits, _kinds = _search(tmp_path)
    assert {Path(h.split(":")[0].split(" (")[0]).name for h in hits} >= {
        "a.log",
        "b.csv.gz",
        "c.duckdb",
        "d.parquet",
    }, hits


def test_the_writer_masks_environment_keys_in_any_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any record type and field (a transcript, a key of a dict, nested lists) passes the writer's
    redactor, with every *API_KEY* value of the environment and the keys the run adds."""
    from runner.logfile import LogWriter
    from runner.redact import Redactor

    monkeypatch.setenv("DEEPINFRA_API_KEY", KEY)
    monkeypatch.setenv("SHORT_API_KEY", "test")  # a placeholder: too short to mask words with
    added = "another-secret-added-by-an-endpoint"
    redactor = Redactor()
    log = tmp_path / "t.jsonl"
    with LogWriter(log, redactor) as writer:
        redactor.add(added)
        writer.write({"messages": [{"role": "assistant", "content": f"key {KEY} and {added}"}], KEY: [[KEY]]})
        writer.write({"run_end": True, "reason": f'quoted "{KEY}" test'})
    text = log.read_text(encoding="utf-8")
    assert KEY not in text and added not in text and text.count("[REDACTED]") == 5
    assert "test" in text  # the short placeholder value is not masked
