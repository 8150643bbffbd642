"""Transcripts in the run log: each call's messages and raw completion (--log-messages), redacted.

Runs the llm student against tests/fake_openai.py, a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply, smart_student
from test_runner_llm import ENV, KEY, assert_no_secret, records, spec


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, KEY)


def _run(tmp_path: Path, level: str, **kw: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    from runner.run import execute

    log = tmp_path / f"{level}.jsonl"
    with FakeOpenAI(**kw) as fake:
        result = execute(spec(fake, log, steps=2, log_messages=level))
        sent = [r.body for r in fake.requests]
    assert result.status == "complete"
    return records(log), sent


def test_text_logs_the_exact_prompt_and_completion_of_every_call(tmp_path: Path) -> None:
    recs, sent = _run(tmp_path, "text")
    head, *steps, _end = recs
    assert head["runner"]["log_messages"] == "text"
    calls = [c for s in steps for c in s["calls"]]
    assert len(calls) == len(sent)
    for call, body in zip(calls, sent, strict=True):
        assert [m["content"] for m in call["messages"]] == [m["content"] for m in body["messages"]]
        assert [m["role"] for m in call["messages"]] == ["system", "user"]
        reply = smart_student(body)
        assert isinstance(reply, Reply)
        assert call["completion"] == json.dumps(reply.content)
        assert call["completion_chars"] == len(call["completion"])
        assert [m["chars"] for m in call["messages"]] == [len(m["content"]) for m in body["messages"]]


def test_counts_logs_lengths_only_and_none_logs_nothing(tmp_path: Path) -> None:
    counts, _ = _run(tmp_path, "counts")
    call = counts[1]["calls"][0]
    assert set(call["messages"][0]) == {"role", "chars"} and "completion" not in call
    assert call["completion_chars"] > 0
    none, _ = _run(tmp_path, "none")
    assert all("messages" not in c and "completion_chars" not in c for c in none[1]["calls"])


def _echo(body: dict[str, Any]) -> Reply:
    """A server that answers well but repeats the key it was sent, in the reply text."""
    reply = smart_student(body)
    assert isinstance(reply, Reply) and isinstance(reply.content, dict)
    return Reply({**reply.content, "note": f"your key is {KEY}"}, 5, 5)


def test_a_key_echoed_in_a_successful_reply_never_reaches_the_log(tmp_path: Path) -> None:
    recs, _ = _run(tmp_path, "text", default=_echo)
    calls = [c for r in recs[1:-1] for c in r["calls"]]
    assert calls and all("[REDACTED]" in c["completion"] for c in calls)
    assert_no_secret(tmp_path)


def test_unknown_level_is_a_usage_error(tmp_path: Path) -> None:
    from runner.run import execute
    from warehouse.core.errors import UsageError

    with FakeOpenAI() as fake, pytest.raises(UsageError, match="log-messages"):
        execute(spec(fake, tmp_path / "x.jsonl", log_messages="all"))
