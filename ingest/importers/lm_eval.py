"""lm-evaluation-harness `--log_samples` output, read directly: JSON lines, no library (lm-eval
pulls in torch and transformers).

A `samples_<task>_<date>.jsonl` file is one run (model x task; one per filter when the task
scores its responses under several filters), one step per doc. The results
file the same `lm_eval` call wrote beside it (`results_<date>.json`, same date) gives the model,
its arguments and the task's config; without it the model is 'unknown'. Correct: the task's
first metric (acc, exact_match, ...) at full marks. credited = correct (the harness compares the
response with the target itself, see docs/importers.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from ingest.importers import common
from ingest.importers.common import ImportFailed

HARNESS = "lm-eval"
_NAME = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[\d.\-]+)\.jsonl$")
# Metrics in the order they are taken as the verdict when a sample has several.
VERDICT_METRICS = ("acc", "exact_match", "acc_norm", "em", "f1", "mcc", "bleu")


class LmEvalImporter:
    name = HARNESS

    def sniff(self, path: str, head: bytes) -> bool:
        start = head.lstrip()[:2048]
        return (
            os.path.basename(path).startswith("samples_")
            and start.startswith(b'{"doc_id"')
            and b'"doc"' in start
        )

    def records(self, path: str) -> Iterator[dict[str, Any]]:
        name = os.path.basename(path)
        match = _NAME.match(name)
        task = match["task"] if match else name.removeprefix("samples_").removesuffix(".jsonl")
        date = match["date"] if match else None
        results = companion(path, date)
        with open(path, "rb") as fh:
            docs = [_doc(line, n) for n, line in enumerate(fh, 1) if line.strip()]
        yield from convert(task, date, docs, results)


IMPORTER = LmEvalImporter()


def _doc(line: bytes, n: int) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise ImportFailed(f"line {n} is not JSON: {e}") from e
    if not isinstance(value, dict):
        raise ImportFailed(f"line {n} is not a JSON object")
    return value


def companion(path: str, date: str | None) -> dict[str, Any]:
    """The results JSON written with these samples (`results_<date>.json` beside them), else {}."""
    if date is None:
        return {}
    candidate = os.path.join(os.path.dirname(path), f"results_{date}.json")
    try:
        with open(candidate, "rb") as fh:
            value = orjson.loads(fh.read())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def convert(
    task: str, date: str | None, docs: list[dict[str, Any]], results: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """One run per filter the samples were scored under (most tasks have one, `none`)."""
    by_filter: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_filter.setdefault(str(doc.get("filter", "none")), []).append(doc)
    for filter_name, filtered in by_filter.items():
        yield from _run(task, date, filter_name if len(by_filter) > 1 else None, filtered, results)


def _run(
    task: str, date: str | None, filter_name: str | None, docs: list[dict[str, Any]], results: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    config = results.get("config") or {}
    model = model_name(config) or str(results.get("model_name") or "unknown")
    backend = config.get("model")
    docs.sort(key=lambda d: d.get("doc_id", 0))
    run_id = common.run_id_for(HARNESS, model, config.get("model_args"), task, date, filter_name)
    ts = _ts(date)
    task_config = (results.get("configs") or {}).get(task) or {}
    dials = _dials(config, task_config, (results.get("n-shot") or {}).get(task))
    if filter_name is not None:
        dials["filter"] = filter_name
    yield common.header(
        harness=HARNESS,
        version=results.get("lm_eval_version") or results.get("git_hash"),
        run_id=run_id,
        ts=ts,
        task=task,
        model=model,
        provider=str(backend) if backend else None,
        steps=len(docs),
        dials=dials,
        source={
            "harness": HARNESS,
            "results_file": f"results_{date}.json" if results else None,
            "task_results": (results.get("results") or {}).get(task),
            "task_config": task_config,
            **{k: v for k, v in results.items() if k not in ("results", "configs", "samples")},
        },
    )
    for n, doc in enumerate(docs):
        yield doc_step(run_id, n, doc, ts)
    yield common.run_end(run_id, ts, "complete", None, len(docs))


def model_name(config: dict[str, Any]) -> str | None:
    """The model: `pretrained` or `model` of the model arguments (a dict, or the older
    "k=v,k=v" text), else the backend itself (`dummy`; its results' model_name is a random tag)."""
    args = config.get("model_args")
    if isinstance(args, str):
        args = dict(part.split("=", 1) for part in args.split(",") if "=" in part)
    if isinstance(args, dict):
        for key in ("pretrained", "model", "model_name"):
            if isinstance(args.get(key), str) and args[key]:
                return str(args[key])
    backend = config.get("model")
    return str(backend) if backend else None


def _dials(config: dict[str, Any], task_config: dict[str, Any], n_shot: object) -> dict[str, Any]:
    dials: dict[str, Any] = {}
    for key in ("model_args", "batch_size", "limit", "gen_kwargs", "random_seed", "fewshot_seed"):
        if config.get(key) is not None:
            dials[key] = config[key]
    if n_shot is not None:
        dials["num_fewshot"] = n_shot
    generation = task_config.get("generation_kwargs")
    if isinstance(generation, dict):
        dials.update({f"gen.{k}": v for k, v in generation.items()})
    return dials


def doc_step(run_id: str, n: int, doc: dict[str, Any], ts: float | None) -> dict[str, Any]:
    metrics = [m for m in doc.get("metrics") or [] if isinstance(m, str)]
    name = next((m for m in VERDICT_METRICS if m in metrics and m in doc), None)
    name = name or next((m for m in metrics if isinstance(doc.get(m), int | float)), None)
    value = doc.get(name) if name else None
    correct = value >= 1.0 if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(value, bool):
        correct = value
    prompt = _prompt(doc.get("arguments"))
    return common.step(
        run_id=run_id,
        step_no=n,
        ts=ts,
        stem=common.item_text(doc.get("doc"), prompt),
        answer=_response(doc.get("filtered_resps")),
        evaluation=common.verdict(correct, correct is not None, f"lm-eval metric {name}", value),
        usage=None,
        duration_ms=None,
        messages=None,
        source={"harness": HARNESS, "verdict_metric": name, **doc},
    )


def _prompt(arguments: object) -> str:
    """The first request's context: `arguments` is a list of [context, ...] (older releases) or
    {"gen_args_0": {"arg_0": context, ...}} (newer)."""
    first: object = None
    if isinstance(arguments, list) and arguments:
        first = arguments[0][0] if isinstance(arguments[0], list) and arguments[0] else arguments[0]
    elif isinstance(arguments, dict) and arguments:
        request = next(iter(arguments.values()))
        first = request.get("arg_0") if isinstance(request, dict) else request
    return first if isinstance(first, str) else ""


def _response(filtered: object) -> str | None:
    """The filtered response as text (a loglikelihood answer is a list of [logprob, greedy])."""
    if isinstance(filtered, list) and len(filtered) == 1 and isinstance(filtered[0], str):
        return filtered[0]
    return None if filtered is None else orjson.dumps(filtered).decode()


def _ts(date: str | None) -> float | None:
    """`2024-05-01T12-00-00.123456` (lm-eval's file-name date) as epoch seconds (UTC assumed)."""
    if not date:
        return None
    day, _, clock = date.partition("T")
    try:
        return datetime.fromisoformat(f"{day}T{clock.replace('-', ':')}+00:00").timestamp()
    except ValueError:
        return None
