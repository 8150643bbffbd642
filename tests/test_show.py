"""`warehouse show RUN [STEP]` on a warehouse of real transcripts (fake OpenAI server runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
import view_support
from test_cli_errors import error_line, warehouse

from warehouse.core.errors import ExitCode


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> view_support.Warehouse:
    mp = pytest.MonkeyPatch()
    mp.setenv(view_support.ENV, view_support.KEY)
    try:
        return view_support.build(tmp_path_factory.mktemp("show"))
    finally:
        mp.undo()


def test_show_run_prints_header_dials_and_every_step(wh: view_support.Warehouse) -> None:
    run_id = wh.run_ids["test/smart"]
    done = warehouse("show", run_id[:8], "--db", str(wh.db))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert run_id in out and "test/smart" in out and "self_consistency_n=1" in out
    assert "\x1b[" not in out  # plain when piped
    table = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in table] == [str(i) for i in range(view_support.STEPS)]


def test_show_step_prints_the_exact_prompt_and_completion(wh: view_support.Warehouse) -> None:
    run_id = wh.run_ids["test/first"]
    done = warehouse("show", run_id, "2", "--db", str(wh.db), "--width", "400")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # step 2's calls are the 3rd pair of requests (one LEARN, one USE per step)
    learn, use = wh.sent["test/first"][4:6]
    for body in (learn, use):
        for message in body["messages"]:
            for line in message["content"].splitlines():
                assert line in out
    assert '"choice": "A"' in out and "question" in out and "verdict" in out
    assert view_support.KEY not in out


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["no-such-run"], ExitCode.QUERY, "no run 'no-such-run'"),
        (["RUN", "99"], ExitCode.QUERY, "has no step 99"),
    ],
)
def test_unknown_run_or_step_is_one_line(
    wh: view_support.Warehouse, args: list[str], code: ExitCode, words: str
) -> None:
    args = [wh.run_ids["test/smart"] if a == "RUN" else a for a in args]
    line = error_line(warehouse("show", *args, "--db", str(wh.db)), code)
    assert words in line


def test_missing_database_is_a_usage_error(tmp_path: Path) -> None:
    line = error_line(warehouse("show", "x", "--db", str(tmp_path / "none.duckdb")), ExitCode.USAGE)
    assert "no database" in line


def test_an_older_logs_messages_events_and_presented_stem_are_shown_as_logged(tmp_path: Path) -> None:
    import json

    events = [
        {
            "ts": 1,
            "role_group": "student",
            "api": "openai.chat",
            "model": "gpt-x",
            "system_len": 9,
            "user_len": 11,
            "system": "SYS-TEXT-1",
            "user": "USER-TEXT-1",
        },
        {
            "ts": 2,
            "role_group": "tutor",
            "api": "openai.chat",
            "model": "gpt-t",
            "system_len": 5,
            "user_len": 6,
        },
    ]
    step = {
        "run_id": "old-run-1",
        "step": 0,
        "ts": 1,
        "presented_stem": "CONTEXT:\nold notes\n\nQUESTION: q?",
        "task": {"type": "mcq", "stem": "q?", "options": ["a", "b"], "correct_index": 0},
        "answer": {"chosen_index": 0, "votes": [0]},
        "evaluation": {"correct": True, "chosen_index": 0, "correct_index": 0},
        "messages": events,
    }
    header = {"run_header": True, "run_id": "old-run-1", "ts": 1, "config": {"task": "mcq", "num_steps": 1}}
    runs = tmp_path / "runs" / "old"
    runs.mkdir(parents=True)
    (runs / "deepinfra_m_sc3_b8.jsonl").write_text(json.dumps(header) + "\n" + json.dumps(step) + "\n")
    db = tmp_path / "r.duckdb"
    assert warehouse("ingest", str(tmp_path / "runs"), "--db", str(db), "-q").returncode == 0
    done = warehouse("show", "old-run-1", "0", "--db", str(db))
    assert done.returncode == 0, done.stderr
    for text in ("SYS-TEXT-1", "USER-TEXT-1", "gpt-t", "(length only)", "old notes", "QUESTION: q?"):
        assert text in done.stdout
