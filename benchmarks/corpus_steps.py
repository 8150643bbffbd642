"""Step lines of the benchmark corpus (stdlib only): task, answer, evaluation, fact cards, usage.

The invented question / option / note texts and one step record per call, in the key order of the
format spec (see corpus_shapes.py for the run settings and the header lines). Every value comes
from the caller's random.Random, in a fixed order of draws, so the same seed gives the same bytes.
"""

from __future__ import annotations

import json
import random
from typing import Any

from corpus_shapes import RunSpec

VERBS = ("Shift", "Map", "Repeat", "Drop", "Mirror", "Swap", "Rotate", "Append", "Pair", "Reverse")
MOVES = ("left", "right", "forward", "back", "outward", "inward", "once", "twice", "fwd", "out")
STEMS = (
    "Which option applies {a} {p} to the {b} {q}?",
    "Pick the {a} that matches {b} {q}.",
    "Under {a} {p}, what does {b} become?",
    "Which {a} completes the {b} {p} {q}?",
)
NOTES = (
    "Dated 2026-03-14: under rule {p} every token is shifted one place right before pairing.",
    "The pattern labelled {p} repeats after three steps; {q} breaks the cycle.",
    "When {a} meets {b}, the mapping is applied twice and then mirrored.",
    "A {a} keeps its order unless rule {p} is active, in which case {q} moves first.",
)
REASONS = (
    "no_citations",
    "tag_or_quote_filter",
    "no_option_quote_for_choice",
    "no_snippet_quote",
    "coverage_below_tau",
    "witness_mismatch",
)
ABSTAIN = ("no_option_quote_for_choice", "coverage_below_tau", "required_card_not_cited", "no_citations")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _code(rng: random.Random) -> str:
    return "".join(rng.choices(LETTERS, k=4)) + f"-{3 * rng.randint(0, 99) + 7}"


def _ph(rng: random.Random) -> str:
    return f"{rng.choice('XYZRQ')}{rng.randint(1, 9)}"


def _fill(template: str, rng: random.Random) -> str:
    return template.format(a=_code(rng), b=_code(rng), p=_ph(rng), q=_ph(rng))


def _option(rng: random.Random) -> str:
    tail = rng.choice(MOVES)
    if rng.random() < 0.4:
        tail += f" by {rng.randint(1, 9)}"
    return f"{rng.choice(VERBS)} {rng.choice((_code(rng), _ph(rng)))} {tail}"


def _quote(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace(".", "").replace(",", "").split()[:15])


def _cards(options: list[str], budget: int, rng: random.Random) -> list[dict[str, Any]]:
    n = rng.randint(1, max(2, budget // 4))
    cards: list[dict[str, Any]] = []
    opts = sorted(rng.sample(range(len(options)), k=min(len(options), max(1, n - 1))))
    for k, oi in enumerate(opts):
        quote = options[oi] if rng.random() < 0.3 else _quote(options[oi])
        cards.append(
            {
                "id": f"f{k + 1}",
                "quote": quote,
                "where": {
                    "scope": "option",
                    "option_index": oi,
                    "start": 0,
                    "end": len(quote),
                    "source_id": f"option:{oi}",
                },
                "tags": ["general-concepts"],
            }
        )
    for k in range(len(cards), n):
        quote = _quote(_fill(rng.choice(NOTES), rng))
        start = rng.randint(0, 40)
        cards.append(
            {
                "id": f"f{k + 1}",
                "quote": quote,
                "where": {
                    "scope": "context",
                    "start": start,
                    "end": start + len(quote),
                    "source_id": f"notes:para:{rng.randint(1, 9)}",
                },
                "tags": ["general-concepts"],
            }
        )
    return cards


def _example(rng: random.Random) -> str:
    return (
        f"\n\n{_code(rng)}:\nQ: Which option best illustrates a {_code(rng)}?\n"
        "Options: An abstract idea, A random number, A misspelling, An unknown\nA: An abstract idea"
    )


def _usage(rng: random.Random, calls: int, scale: int) -> dict[str, Any]:
    prompt = rng.randint(scale // 2, scale * 2) * calls
    completion = rng.randint(scale // 10, scale // 2) * calls
    return {
        "calls": calls,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "request_ms_sum": round(rng.uniform(800, 9000) * calls, 3),
    }


def _tool_outputs(spec: RunSpec, step: int, cards_json: str, rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in spec.tools:
        if name == "option_retriever":
            snippets = [
                {
                    "text": cards_json if step == 0 else _fill(rng.choice(NOTES), rng),
                    "source_id": f"notes:para:{rng.randint(1, 9)}",
                    "option_index": oi,
                }
                for oi in range(5)
                for _ in range(rng.randint(0, 1))
            ]
            out.append({"name": name, "snippets": snippets})
        else:
            out.append(
                {"name": name, "snippets": [_fill(rng.choice(NOTES), rng)] if rng.random() < 0.9 else []}
            )
    return out


def _messages(spec: RunSpec, ts: int, n_student: int, rng: random.Random) -> list[dict[str, Any]]:
    api = "openai.chat" if spec.provider == "openai" else "deepinfra.chat"
    events = [
        {
            "ts": ts - 60,
            "role_group": "tutor",
            "api": "openai.chat",
            "model": "gpt-5-nano-2025-08-07",
            "prompt_tokens": rng.randint(150, 260),
            "completion_tokens": rng.randint(600, 1200),
            "total_tokens": 0,
            "request_ms": round(rng.uniform(3000, 11000), 3),
            "system_len": 512,
            "user_len": rng.randint(180, 260),
        }
    ]
    for k in range(n_student):
        events.append(
            {
                "ts": ts - 50 + 5 * k,
                "role_group": "student",
                "api": api,
                "model": spec.model,
                "prompt_tokens": rng.randint(900, 2400),
                "completion_tokens": rng.randint(100, 700),
                "total_tokens": 0,
                "request_ms": round(rng.uniform(900, 9000), 3),
                "system_len": rng.randint(900, 1500),
                "user_len": rng.randint(2000, 6000),
            }
        )
    for e in events:
        e["total_tokens"] = e["prompt_tokens"] + e["completion_tokens"]
    return events


def step_record(
    spec: RunSpec,
    run_id: str | None,
    step: int,
    ts: int,
    prev_cards: list[dict[str, Any]],
    rng: random.Random,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One step line and the cards it leaves for the next step's fact_cards_before."""
    options = [_option(rng) for _ in range(5)]
    correct_index = rng.randrange(5)
    task = {
        "type": "mcq",
        "stem": _fill(rng.choice(STEMS), rng),
        "options": options,
        "correct_index": correct_index,
    }
    if spec.era == "v0":
        chosen = rng.randrange(5)
        return (
            {
                "step": step,
                "task": task,
                "presented_stem": task["stem"],
                "answer": {"chosen_index": chosen, "scores": [[0, 4 - k] for k in range(5)]},
                "evaluation": {
                    "correct": chosen == correct_index,
                    "chosen_index": chosen,
                    "correct_index": correct_index,
                },
            },
            [],
        )
    if spec.era == "v1":
        chosen = rng.randrange(5)
        return (
            {
                "run_id": run_id,
                "step": step,
                "ts": ts,
                "task": task,
                "presented_stem": task["stem"] + _example(rng),
                "answer": {"chosen_index": chosen, "votes": [chosen] * spec.sc},
                "evaluation": {
                    "correct": chosen == correct_index,
                    "chosen_index": chosen,
                    "correct_index": correct_index,
                },
            },
            [],
        )
    return _current_step(spec, run_id, step, ts, task, prev_cards, rng)


def _current_step(
    spec: RunSpec,
    run_id: str | None,
    step: int,
    ts: int,
    task: dict[str, Any],
    prev_cards: list[dict[str, Any]],
    rng: random.Random,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    options, correct_index = task["options"], task["correct_index"]
    cards = _cards(options, spec.budget, rng) if spec.fact_cards else []
    cards_json = json.dumps({"cards": [dict(c, quote=_quote(c["quote"])) for c in cards]})
    context = f"CONTEXT:\n{cards_json}\n\nQUESTION: " if spec.fact_cards else "QUESTION: "
    n_votes = max(spec.sc, spec.best_of, 1)
    abstained = spec.idk and rng.random() < 0.05
    chosen = None if abstained else (correct_index if rng.random() < 0.62 else rng.randrange(5))
    votes = [chosen if rng.random() < 0.7 else rng.randrange(5) for _ in range(n_votes)]
    answer: dict[str, Any] = {"chosen_index": chosen, "votes": votes}
    cited = [c for c in cards if rng.random() < 0.35][:3] or cards[:1]
    if cited and spec.fact_cards:
        answer["citations"] = [c["id"] for c in cited]
        if chosen is not None:
            answer["witness"] = {
                "rule": {"card_id": cited[-1]["id"], "quote": cited[-1]["quote"]},
                "choice": {"card_id": cited[0]["id"], "quote": cited[0]["quote"]},
            }
    correct = chosen == correct_index
    coverage = rng.choice((0.0, 0.25, 0.5, 1.0, 1.0, 1.0))
    witness_pass = coverage >= spec.tau and rng.random() < 0.85
    credited = correct and witness_pass
    reasons = [] if credited else sorted(rng.sample(REASONS, k=rng.randint(1, 2)), key=REASONS.index)
    evaluation: dict[str, Any] = {
        "correct": correct,
        "chosen_index": chosen,
        "correct_index": correct_index,
        "abstained": abstained,
    }
    if spec.fact_cards:
        ids = [c["id"] for c in cited]
        evaluation["evidence_report"] = {
            "post_pass": credited,
            "abstain_reason": None,
            "coverage": coverage,
            "witness_idx": chosen,
            "witness_pass": witness_pass,
            "has_option_quote_chosen": True,
            "required_ok_chosen": coverage > 0,
            "cited_ids": ids,
            "metrics": {
                "num_cited_cards": len(ids),
                "coverage": coverage,
                "witness_idx": chosen,
                "witness_pass": witness_pass,
            },
        }
    if spec.idk:
        t = spec.target_conf
        evaluation["calibrated_score"] = 1.0 if correct else (0.0 if abstained else round(-t / (1 - t), 4))
        evaluation["t"] = t
        if abstained:
            evaluation["abstain_reason"] = rng.choice(ABSTAIN)
    evaluation["citations_evidence"] = {
        "coverage": coverage,
        "witness_pass": witness_pass,
        "credited": credited,
        "reasons": reasons,
    }
    rec: dict[str, Any] = {"run_id": run_id, "step": step, "ts": ts}
    if spec.schema_version:
        rec = {"schema_version": 2, **rec}
    rec.update(
        task=task, presented_stem=context + task["stem"] + _example(rng), answer=answer, evaluation=evaluation
    )
    if spec.tools:
        rec["tool_outputs"] = _tool_outputs(spec, step, '{"cards": []}', rng)
        rec["tools_used"] = list(spec.tools)
    if spec.fact_cards:
        rec["fact_cards_before"] = {"cards": prev_cards}
        rec["fact_cards_after"] = {"cards": cards}
        by_scope = sum(1 for c in cards if c["where"]["scope"] == "option")
        rec["card_validation"] = {
            "counts": {"option": by_scope, "context": len(cards) - by_scope, "other": 0},
            "issues": [
                f"missing_option_card:{k}"
                for k in range(5)
                if k not in {c["where"].get("option_index") for c in cards}
            ],
            "validator_modes": {"offset": by_scope, "canon-substring": 0, "fail": 0},
        }
    if spec.ews:
        rec["evidence_telemetry"] = {
            "min_quotes_per_option": spec.q_min,
            "coverage_by_option": {str(k): rng.choice((0.0, 0.5, 1.0)) for k in range(5)},
            "coverage_chosen": coverage,
            "witness_overlap_ratio": round(rng.random(), 3),
            "num_distinct_sources": rng.randint(1, 4),
            "learn_tokens": rng.randint(500, 4000),
            "learn_time_s": round(rng.uniform(2, 40), 3),
        }
    student_calls = n_votes + max(spec.sc_extract, 1) + spec.boosts
    rec["duration_ms"] = rng.randint(4000, 120000)
    if spec.student != "oracle":
        rec["student_usage"] = _usage(rng, student_calls, 1200)
    rec["tutor_usage"] = _usage(rng, 1, 400)
    if spec.messages:
        rec["messages"] = _messages(spec, ts, min(student_calls, 2), rng)
    if spec.guardrails:
        tokens = rec.get("student_usage", {}).get("total_tokens", 0)
        rec["guardrail_alerts"] = {
            "tokens_step": {
                "tokens": tokens,
                "state": rng.choice(("in_band", "above_band", "below_band")),
                "band_low": 14400.0,
                "band_high": 20400.0,
                "opt": 17400.0,
                "autonudge": True,
                "action": rng.choice((None, "nudge_leaner", "warn_richer")),
            },
            "tokens_run": {
                "tokens_cum": tokens * (step + 1),
                "band_low": 288000.0,
                "band_high": 408000.0,
                "opt": 348000.0,
            },
            "turns": {"limit": 24, "resolve_triggered": False},
        }
    if spec.schema_version:
        rec["calls"] = [
            {
                "role": "student",
                "phase": "use",
                "ms": round(rng.uniform(800, 9000), 1),
                "prompt_tokens": rng.randint(900, 2400),
                "completion_tokens": rng.randint(100, 700),
                "attempts": 1,
                "error": None,
            }
            for _ in range(min(student_calls, 3))
        ]
    return rec, cards
