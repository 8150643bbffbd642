"""Inspect AI eval logs (`.eval`, a zip of JSON documents, and the `.json` log format).

One run per log (task, model, generation config as dials), one step per sample and epoch.
`.eval` files are read with Inspect's own reader (`inspect_ai.log.read_eval_log`, the optional
`inspect` extra): the zip members are zstd-compressed, which Python's zipfile cannot read, and the
reader also resolves attachments and older log versions. `.json` logs are plain JSON of the same
shape and are read directly when Inspect is not installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from ingest.importers import common
from ingest.importers.common import ImportFailed

HARNESS = "inspect"
# Scorers whose verdict compares an extracted answer with the target mechanically (credited =
# correct); model-graded and custom scorers are not (credited stays unset), see docs/importers.md.
MECHANICAL = frozenset({"match", "includes", "pattern", "choice", "exact", "f1", "answer"})
_JSON_LOG = re.compile(rb'\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')
LETTERS = {"C": (True, 1.0), "I": (False, 0.0), "P": (False, 0.5), "N": (False, 0.0)}


class InspectImporter:
    name = HARNESS

    def sniff(self, path: str, head: bytes) -> bool:
        if head.startswith(b"PK\x03\x04"):  # a zip whose members are Inspect's journal/header
            return b"_journal/start.json" in head[:512] or b"header.json" in head[:512]
        return _JSON_LOG.match(head) is not None and b'"eval"' in head  # a JSON log starts so

    def records(self, path: str) -> Iterator[dict[str, Any]]:
        log = read_log(path)
        yield from convert(log)


IMPORTER = InspectImporter()


def read_log(path: str) -> dict[str, Any]:
    """The log as the JSON log format's dict (samples included)."""
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        if path.endswith(".eval"):
            raise ImportFailed(
                "an Inspect .eval log needs Inspect's reader: pip install -e '.[inspect]', then ingest again"
            ) from None
        value = orjson.loads(open(path, "rb").read())  # noqa: SIM115 - read whole, closed by GC
        if not isinstance(value, dict):
            raise ImportFailed("not an Inspect log: the JSON is not an object") from None
        return value
    try:
        log = read_eval_log(path, resolve_attachments=True)
    except Exception as e:  # the reader raises many kinds (zip, pydantic, json): one reason line
        raise ImportFailed(f"Inspect's reader cannot read this log: {type(e).__name__}: {e}") from e
    dumped: dict[str, Any] = log.model_dump(mode="json", exclude_none=True)
    return dumped


def convert(log: dict[str, Any]) -> Iterator[dict[str, Any]]:
    ev = log.get("eval")
    if not isinstance(ev, dict):
        raise ImportFailed("not an Inspect log: no `eval` section")
    samples = sorted(log.get("samples") or [], key=lambda s: (s.get("epoch", 1), str(s.get("id"))))
    run_id = f"{HARNESS}-{ev.get('eval_id') or common.run_id_for(HARNESS, ev)}"
    provider, model = split_model(str(ev.get("model", "unknown")))
    plan = log.get("plan") or {}
    dials = {**(ev.get("model_generate_config") or {}), **(plan.get("config") or {})}
    started = _ts((log.get("stats") or {}).get("started_at") or ev.get("created"))
    rest = {k: v for k, v in log.items() if k != "samples"}
    yield common.header(
        harness=HARNESS,
        version=(ev.get("packages") or {}).get("inspect_ai"),
        run_id=run_id,
        ts=started,
        task=str(ev.get("task", "unknown")),
        model=model,
        provider=provider,
        steps=len(samples),
        dials=dials,
        source=rest,
    )
    scorer = headline_scorer(log)
    for n, sample in enumerate(samples):
        yield sample_step(run_id, n, sample, scorer)
    status = log.get("status")
    completed = _ts((log.get("stats") or {}).get("completed_at")) or started
    end = "complete" if status == "success" else "aborted"
    reason = None if status == "success" else f"inspect status {status}: {_error(log)}"
    if status != "started":
        yield common.run_end(run_id, completed, end, reason, len(samples))


def split_model(name: str) -> tuple[str | None, str]:
    """`openai/gpt-4o` -> ('openai', 'gpt-4o'); a name without a provider keeps provider None."""
    provider, sep, model = name.partition("/")
    return (provider, model) if sep else (None, name)


def headline_scorer(log: dict[str, Any]) -> str | None:
    results = log.get("results") or {}
    headline = results.get("headline") or {}
    if headline.get("scorer"):
        return str(headline["scorer"])
    scores = results.get("scores") or (log.get("eval") or {}).get("scorers") or []
    return str(scores[0].get("name")) if scores else None


def sample_step(run_id: str, n: int, sample: dict[str, Any], scorer: str | None) -> dict[str, Any]:
    scores = sample.get("scores") or {}
    name = scorer if scorer in scores else next(iter(scores), None)
    score = scores.get(name) if name else None
    correct, value = score_verdict(score)
    evidence = (
        name is not None
        and name.rsplit("/", 1)[-1] in MECHANICAL
        and isinstance(score, dict)
        and score.get("answer") is not None
        and sample.get("target") is not None
    )
    output = sample.get("output") or {}
    use = output.get("usage") or {}
    mapped = {"messages", "input"}
    return common.step(
        run_id=run_id,
        step_no=n,
        ts=_ts(sample.get("completed_at") or sample.get("started_at")),
        stem=input_text(sample.get("input")),
        answer=output.get("completion"),
        evaluation=common.verdict(correct, evidence, name or "?", value),
        usage=common.usage(use.get("input_tokens"), use.get("output_tokens"), use.get("total_tokens")),
        duration_ms=_ms(sample.get("total_time")),
        messages=sample.get("messages"),
        source={
            "harness": HARNESS,
            "scorer": name,
            **{k: v for k, v in sample.items() if k not in mapped},
            "input": sample.get("input"),
        },
    )


def score_verdict(score: object) -> tuple[bool | None, float | None]:
    """(correct, numeric value) of an Inspect score: C/I/P/N letters, booleans, numbers (1 = full
    marks); any other value (a dict of values, free text) has no verdict."""
    value = score.get("value") if isinstance(score, dict) else None
    if isinstance(value, str) and value in LETTERS:
        return LETTERS[value]
    if isinstance(value, bool):
        return value, float(value)
    if isinstance(value, int | float):
        return value >= 1.0, float(value)
    return None, None


def input_text(value: object) -> str:
    """A sample's input as text: the string, or the text of its user messages joined."""
    if isinstance(value, str):
        return value
    parts: list[str] = []
    for message in value if isinstance(value, list) else []:
        if isinstance(message, dict) and message.get("role", "user") == "user":
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts += [
                    c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text"
                ]
    return "\n".join(parts)


def _ts(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _ms(seconds: object) -> float | None:
    return round(seconds * 1000, 3) if isinstance(seconds, int | float) else None


def _error(log: dict[str, Any]) -> str:
    error = log.get("error")
    return str(error.get("message", "")) if isinstance(error, dict) else "no error logged"
