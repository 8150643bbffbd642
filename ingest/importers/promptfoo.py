"""promptfoo results (`promptfoo eval -o results.json`), read directly: plain JSON, no library.

One run per provider x prompt, one step per test case; the test passes (every assertion holds)
= correct. credited = correct when no assertion is graded by a model (see docs/importers.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from ingest.importers import common
from ingest.importers.common import ImportFailed

HARNESS = "promptfoo"
# Assertion types whose verdict comes from a model (a grader, an embedding or a classifier): a
# test graded by one of these carries no mechanical evidence (credited stays unset).
MODEL_GRADED = frozenset(
    {
        "llm-rubric",
        "g-eval",
        "factuality",
        "model-graded-factuality",
        "model-graded-closedqa",
        "closed-qa",
        "answer-relevance",
        "context-faithfulness",
        "context-recall",
        "context-relevance",
        "select-best",
        "max-score",
        "search-rubric",
        "similar",
        "classifier",
        "moderation",
        "pi",
    }
)


class PromptfooImporter:
    name = HARNESS

    def sniff(self, path: str, head: bytes) -> bool:
        start = head.lstrip()
        return start.startswith(b"{") and b'"evalId"' in start[:4096] and b'"results"' in start[:4096]

    def records(self, path: str) -> Iterator[dict[str, Any]]:
        with open(path, "rb") as fh:
            doc = orjson.loads(fh.read())
        if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
            raise ImportFailed("not a promptfoo results file: no `results` object")
        yield from convert(doc)


IMPORTER = PromptfooImporter()


def convert(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    outer = doc["results"]
    results = outer.get("results")
    if not isinstance(results, list):
        raise ImportFailed("promptfoo results file has no `results.results` list (an old format?)")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for result in results:
        key = (_provider_id(result), str(result.get("promptId") or result.get("promptIdx")))
        runs.setdefault(key, []).append(result)
    prompts = {str(p.get("id")): p for p in outer.get("prompts") or [] if isinstance(p, dict)}
    config = doc.get("config") or {}
    ts = _ts(outer.get("timestamp"))
    version = (doc.get("metadata") or {}).get("promptfooVersion")
    rest = {k: v for k, v in doc.items() if k != "results"}
    rest["results"] = {k: v for k, v in outer.items() if k != "results"}
    for (provider_id, prompt_id), cases in runs.items():
        cases.sort(key=lambda r: (r.get("testIdx", 0), r.get("id", "")))
        run_id = common.run_id_for(HARNESS, doc.get("evalId"), provider_id, prompt_id)
        prompt = prompts.get(prompt_id) or (cases[0].get("prompt") or {})
        provider, model = split_provider(provider_id)
        yield common.header(
            harness=HARNESS,
            version=version,
            run_id=run_id,
            ts=ts,
            task=str(config.get("description") or "promptfoo"),
            model=model,
            provider=provider,
            steps=len(cases),
            dials={
                "prompt": prompt.get("label") or prompt.get("raw"),
                **_provider_config(config, provider_id),
            },
            source={**rest, "prompt": prompt, "provider_id": provider_id},
        )
        for n, case in enumerate(cases):
            yield case_step(run_id, n, case, ts)
        yield common.run_end(run_id, ts, "complete", None, len(cases))


def split_provider(provider_id: str) -> tuple[str | None, str]:
    """`openai:gpt-4o` -> ('openai', 'gpt-4o'); `openai:chat:gpt-4o` -> ('openai', 'gpt-4o');
    a provider without a model (`echo`) is its own model name."""
    parts = provider_id.split(":")
    if len(parts) == 1:
        return None, provider_id
    return parts[0], parts[-1]


def case_step(run_id: str, n: int, case: dict[str, Any], ts: float | None) -> dict[str, Any]:
    grading = case.get("gradingResult") or {}
    correct = case.get("success")
    if not isinstance(correct, bool):
        correct = grading.get("pass") if isinstance(grading.get("pass"), bool) else None
    kinds = [str((c.get("assertion") or {}).get("type", "")) for c in grading.get("componentResults") or []]
    evidence = bool(kinds) and not any(k.removeprefix("not-") in MODEL_GRADED for k in kinds)
    response = case.get("response") or {}
    output = response.get("output")
    answer = output if isinstance(output, str) or output is None else orjson.dumps(output).decode()
    use = response.get("tokenUsage") or case.get("tokenUsage") or {}
    prompt = case.get("prompt") or {}
    return common.step(
        run_id=run_id,
        step_no=n,
        ts=ts,
        stem=common.item_text(case.get("vars"), str(prompt.get("raw", ""))),
        answer=answer,
        evaluation=common.verdict(
            correct, evidence, "promptfoo assertions " + ",".join(kinds), case.get("score")
        ),
        usage=common.usage(use.get("prompt"), use.get("completion"), use.get("total")),
        duration_ms=case.get("latencyMs") if isinstance(case.get("latencyMs"), int | float) else None,
        messages=None,
        source={"harness": HARNESS, **case},
    )


def _provider_id(result: dict[str, Any]) -> str:
    provider = result.get("provider")
    if isinstance(provider, dict):
        return str(provider.get("id") or provider.get("label") or "unknown")
    return str(provider or "unknown")


def _provider_config(config: dict[str, Any], provider_id: str) -> dict[str, Any]:
    """The `config` options (temperature, ...) the eval's config gave this provider, if any."""
    for entry in config.get("providers") or []:
        if isinstance(entry, dict) and entry.get("id") == provider_id:
            options = entry.get("config")
            return dict(options) if isinstance(options, dict) else {}
    return {}


def _ts(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
