"""The llm student against a real HTTP server on 127.0.0.1 (tests/fake_openai.py).

Retry sleeps are tiny (backoff 10 ms) and timeouts short, so the whole file runs in seconds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fake_openai import EchoKey, FakeOpenAI, Raw, Redirect, Reply, Sleep, Status

from runner.dials import Dials
from runner.endpoint import EndpointConfig, check_base_url, resolve_endpoint
from runner.redact import redact
from runner.run import RunSpec, execute
from warehouse.core.errors import ConfigError, EndpointError

KEY = "sk-TESTSECRET-0123456789abcdefghij"
ENV = "RW_TEST_KEY"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, KEY)


def spec(
    fake: FakeOpenAI, log: Path, steps: int = 2, *, timeout_s: float = 2.0, max_retries: int = 2, **kw: Any
) -> RunSpec:
    cfg = EndpointConfig(
        "local",
        fake.base_url,
        ENV,
        timeout_s=timeout_s,
        max_retries=max_retries,
        backoff_s=0.01,
        backoff_max_s=0.02,
        retry_after_max_s=5.0,
    )
    return RunSpec("llm", "test/model-1", steps, log, endpoint=cfg, provider="local", coverage_tau=0.35, **kw)


def records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def assert_no_secret(*paths: Path, texts: tuple[str, ...] = ()) -> None:
    for path in paths:
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for f in files:
            data = f.read_bytes()
            assert KEY.encode() not in data and b"Bearer " not in data, f
    for text in texts:
        assert KEY not in text and "Bearer " not in text


def test_scripted_run_logs_contract_shapes_usage_and_calls(tmp_path: Path) -> None:
    log = tmp_path / "ok.jsonl"
    with FakeOpenAI() as fake:
        result = execute(spec(fake, log, steps=3, dials=Dials(sc_extract_n=2, self_consistency_n=3)))
        sent = fake.requests
    assert result.status == "complete" and result.steps_logged == 3
    head, *steps, end = records(log)
    assert head["run_header"] and head["schema_version"] == 2
    assert head["student"] == {"type": "llm", "provider": "local", "model": "test/model-1"}
    assert head["coverage_tau"] == 0.35 and len(head["config"]["dials"]) == 58
    assert head["runner"]["name"] == "runs-warehouse" and isinstance(head["runner"]["argv"], list)
    assert [s["step"] for s in steps] == [0, 1, 2]
    step = steps[0]
    assert [c["phase"] for c in step["calls"]] == ["learn", "learn", "use", "use", "use"]
    assert step["student_usage"] == {
        "calls": 5,
        "prompt_tokens": 2 * 120 + 3 * 200,
        "completion_tokens": 2 * 40 + 3 * 30,
        "total_tokens": 1010,
        "request_ms_sum": step["student_usage"]["request_ms_sum"],
    }
    assert len(step["answer"]["votes"]) == 3 and step["tutor_usage"]["calls"] == 0
    evidence = step["evaluation"]["citations_evidence"]
    assert set(evidence) == {"coverage", "witness_pass", "credited", "reasons"}
    assert end == {
        "run_end": True,
        "schema_version": 2,
        "run_id": head["run_id"],
        "ts": end["ts"],
        "status": "complete",
        "reason": None,
        "steps_logged": 3,
    }
    body = sent[0].body
    assert body["response_format"] == {"type": "json_object"} and body["model"] == "test/model-1"
    assert sent[0].headers["authorization"] == f"Bearer {KEY}"  # the server did get the key ...
    assert_no_secret(tmp_path)  # ... and no artefact has it


def test_429_and_500_are_retried_and_attempts_logged(tmp_path: Path) -> None:
    log = tmp_path / "retry.jsonl"
    script = [Status(429, headers={"retry-after": "0.05"}), Status(500), Reply({"cards": []})]
    with FakeOpenAI(script) as fake:
        execute(spec(fake, log, steps=1))
    step = records(log)[1]
    assert step["calls"][0]["attempts"] == 3 and step["calls"][0]["error"] is None
    assert step["calls"][1]["attempts"] == 1


def test_persistent_500_gives_up_after_max_retries_and_aborts(tmp_path: Path) -> None:
    log = tmp_path / "down.jsonl"
    with FakeOpenAI([Status(503)] * 10) as fake:
        with pytest.raises(EndpointError, match="after 3 attempt"):
            execute(spec(fake, log, max_retries=2))
        assert len(fake.requests) == 3
    _, end = records(log)
    assert end["status"] == "aborted" and "503" in end["reason"] and end["steps_logged"] == 0


def test_retry_after_above_the_cap_is_not_waited_for(tmp_path: Path) -> None:
    with FakeOpenAI([Status(429, headers={"retry-after": "600"})]) as fake:
        started = time.monotonic()
        with pytest.raises(EndpointError, match="asked to wait 600s"):
            execute(spec(fake, tmp_path / "rl.jsonl"))
        assert time.monotonic() - started < 5 and len(fake.requests) == 1


def test_client_errors_are_not_retried(tmp_path: Path) -> None:
    with FakeOpenAI([Status(400, "bad request")] * 3) as fake:
        with pytest.raises(EndpointError, match="400"):
            execute(spec(fake, tmp_path / "400.jsonl"))
        assert len(fake.requests) == 1


def test_timeouts_are_retried_then_fail(tmp_path: Path) -> None:
    with FakeOpenAI([Sleep(1.5)] * 3) as fake:
        with pytest.raises(EndpointError, match="APITimeoutError"):
            execute(spec(fake, tmp_path / "slow.jsonl", timeout_s=0.3, max_retries=1))
        assert len(fake.requests) == 2


def test_malformed_json_answer_becomes_an_abstention(tmp_path: Path) -> None:
    log = tmp_path / "bad.jsonl"
    with FakeOpenAI([Reply({"cards": []}), Reply("not json {")]) as fake:
        execute(spec(fake, log, steps=1))
    step = records(log)[1]
    assert step["calls"][1]["error"] == "malformed_json"
    assert step["answer"]["chosen_index"] is None and step["evaluation"]["abstained"] is True
    assert step["evaluation"]["citations_evidence"]["credited"] is False


def test_malformed_http_body_is_retried_then_reported(tmp_path: Path) -> None:
    with FakeOpenAI([Raw(200, b"{not json")] * 5) as fake:
        with pytest.raises(EndpointError):
            execute(spec(fake, tmp_path / "raw.jsonl", max_retries=1))
        assert len(fake.requests) == 2


def test_idk_abstains_on_missing_hard_evidence(tmp_path: Path) -> None:
    log = tmp_path / "idk.jsonl"
    pro_only = Reply({"choice": "B", "citations": ["opt2"], "confidence": 0.9})
    explicit = Reply({"choice": "IDK", "citations": []})
    with FakeOpenAI([Reply({"cards": []}), pro_only, Reply({"cards": []}), explicit]) as fake:
        execute(spec(fake, log, steps=2, dials=Dials(idk_enabled=True, target_confidence=0.6)))
    first, second = records(log)[1:3]
    assert first["answer"]["votes"] == [1] and first["answer"]["chosen_index"] is None
    assert first["evaluation"]["abstain_reason"] == "no_context_quote_for_choice"
    assert first["evaluation"]["calibrated_score"] == 0.0 and first["evaluation"]["t"] == 0.6
    assert second["answer"]["votes"] == [None] and second["evaluation"]["abstained"]
    assert second["calls"][1]["error"] is None  # IDK is an answer, not a failure


def test_key_echoed_in_an_error_never_reaches_logs_or_messages(tmp_path: Path) -> None:
    log = tmp_path / "echo.jsonl"
    with FakeOpenAI([EchoKey()]) as fake, pytest.raises(EndpointError) as info:
        execute(spec(fake, log))
    message = str(info.value)
    assert "401" in message and f"${ENV}" in message
    assert_no_secret(tmp_path, texts=(message, repr(info.value)))
    assert records(log)[-1]["status"] == "aborted"


def test_redirects_are_refused(tmp_path: Path) -> None:
    with FakeOpenAI() as other:
        with (
            FakeOpenAI([Redirect(other.base_url + "/chat/completions")]) as fake,
            pytest.raises(EndpointError, match="redirect"),
        ):
            execute(spec(fake, tmp_path / "redir.jsonl"))
        assert other.requests == []  # the prompt never went to the other origin


def test_deadline_stops_the_run_and_it_resumes(tmp_path: Path) -> None:
    log = tmp_path / "deadline.jsonl"
    stall = [Reply({"cards": []}), Reply({"choice": "A", "citations": ["opt1"]}), Sleep(8)]
    with FakeOpenAI(stall) as fake:
        result = execute(spec(fake, log, steps=4, deadline_s=2.0, timeout_s=30))
    assert result.status == "aborted" and result.reason == "deadline reached"
    assert result.steps_logged == 1  # step 0 done, step 1 stalled past the deadline
    with FakeOpenAI() as fake:
        resumed = execute(spec(fake, log, steps=4), "resume")
    steps = [r["step"] for r in records(log) if "step" in r]
    assert steps == [0, 1, 2, 3] and resumed.new_steps == 3
    ends = [r for r in records(log) if r.get("run_end")]
    assert [e["status"] for e in ends] == ["aborted", "complete"] and ends[-1]["steps_logged"] == 4
    assert len({r["run_id"] for r in records(log)}) == 1


def test_missing_key_fails_before_any_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV)
    log = tmp_path / "nokey.jsonl"
    cfg = EndpointConfig("deepinfra", "https://api.deepinfra.com/v1/openai", ENV)
    with pytest.raises(ConfigError, match=ENV):
        execute(RunSpec("llm", "m", 1, log, endpoint=cfg, provider="deepinfra"))
    assert not log.exists()


def test_base_url_rules() -> None:
    assert check_base_url("https://api.example.org/v1")
    assert check_base_url("http://127.0.0.1:8000/v1") and check_base_url("http://localhost:1/v1")
    for bad in ("http://10.0.0.5/v1", "https://user:pw@host/v1", "https://host/v1?key=1", "ftp://h"):
        with pytest.raises(ConfigError):
            check_base_url(bad)
    assert resolve_endpoint("deepinfra").api_key_env == "DEEPINFRA_API_KEY"
    with pytest.raises(ConfigError, match="unknown provider"):
        resolve_endpoint("nowhere")
    cfg = resolve_endpoint("mine", {"mine": {"base_url": "https://x.example/v1", "timeout_s": 5}})
    assert cfg.timeout_s == 5.0 and cfg.api_key_env == "MINE_API_KEY"


def test_redactor_patterns() -> None:
    text = f"k={KEY} Authorization: Bearer abc.def api_key=zzz sk-live-0123456789ab"
    out = redact(text, [KEY])
    assert KEY not in out and "abc.def" not in out and "zzz" not in out and "sk-live" not in out


def test_llm_tutor_writes_items_and_counts_as_tutor_usage(tmp_path: Path) -> None:
    log = tmp_path / "tutor.jsonl"
    item = {
        "context": "Every ZQ-49 is red. Every XL-12 is blue.",
        "stem": "What colour is a ZQ-49?",
        "options": ["Red", "Blue", "Green"],
        "correct_index": 0,
    }
    script = [
        Reply(item, 50, 60),
        Reply({"cards": [{"quote": "Every ZQ-49 is red", "option": "A"}]}),
        Reply({"choice": "A", "citations": ["opt1", "f1"]}),
        Reply({"stem": "only a stem"}),
        Reply({"cards": []}),
        Reply({"choice": "B", "citations": []}),
    ]
    with FakeOpenAI(script) as fake:
        result = execute(spec(fake, log, steps=2, num_options=3, tutor="llm", tutor_model="tutor-x"))
        models = [r.body["model"] for r in fake.requests]
    first, second = records(log)[1:3]
    assert models[0] == "tutor-x" and models[1] == "test/model-1"
    assert first["task"]["stem"] == "What colour is a ZQ-49?" and result.credited == 1
    usage = first["tutor_usage"]
    assert usage == {
        "calls": 1,
        "prompt_tokens": 50,
        "completion_tokens": 60,
        "total_tokens": 110,
        "request_ms_sum": usage["request_ms_sum"],
    }
    assert first["calls"][0]["role"] == "tutor" and first["calls"][0]["phase"] == "tutor"
    assert second["calls"][0]["error"] == "bad_item" and len(second["task"]["options"]) == 3
