"""A small warehouse of real transcripts for the show / view tests.

Two llm runs on the same items (same seed), each against its own tests/fake_openai.py server on
127.0.0.1: model "test/smart" answers from the cards it was given, model "test/first" always
answers A. Both log --log-messages text; the logs are ingested into a real DuckDB file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fake_openai import Action, FakeOpenAI, Reply, smart_student

from ingest import ingest_runs
from runner.dials import Dials
from runner.endpoint import EndpointConfig
from runner.run import RunSpec, execute

KEY = "sk-VIEWTEST-0123456789abcdefghij"
ENV = "RW_VIEW_TEST_KEY"
STEPS = 6


def first_option(body: dict[str, Any]) -> Action:
    """Extracts like the smart student, then always answers A (citing A's PRO card)."""
    reply = smart_student(body)
    assert isinstance(reply, Reply) and isinstance(reply.content, dict)
    if "cards" in reply.content:
        return reply
    user = body["messages"][-1]["content"]
    pro = json.loads(user.rsplit("OPTION_CARDS: ", 1)[1])
    return Reply({"choice": "A", "citations": [pro.get("A")], "confidence": 0.5}, 190, 20)


@dataclass
class Warehouse:
    db: Path
    runs: Path
    run_ids: dict[str, str]  # model -> run_id
    sent: dict[str, list[dict[str, Any]]]  # model -> request bodies, in order


def build(root: Path) -> Warehouse:
    """Run both models into root/runs/view/, ingest into root/runs/runs.duckdb."""
    runs = root / "runs"
    run_ids: dict[str, str] = {}
    sent: dict[str, list[dict[str, Any]]] = {}
    for model, default in (("test/smart", smart_student), ("test/first", first_option)):
        with FakeOpenAI(default=default) as fake:
            cfg = EndpointConfig("local", fake.base_url, ENV, timeout_s=5.0, max_retries=0)
            spec = RunSpec(
                "llm",
                model,
                STEPS,
                runs / "view" / f"{model.split('/')[1]}.jsonl",
                endpoint=cfg,
                provider="local",
                coverage_tau=0.35,
                dials=Dials(self_consistency_n=1),
                log_messages="text",
            )
            result = execute(spec)
            sent[model] = [r.body for r in fake.requests]
        assert result.status == "complete" and result.run_id
        run_ids[model] = result.run_id
    db = runs / "runs.duckdb"
    ingest_runs(str(runs), str(db))
    return Warehouse(db, runs, run_ids, sent)
