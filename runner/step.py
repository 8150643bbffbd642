"""One step: ask an item, LEARN cards, USE the cards to answer (votes, best-of, IDK), evaluate.

Returns the step record (warehouse/core/logformat.py StepRecord), with the schema-version-2 `calls`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from runner import evaluate as ev
from runner.cards import CardSet, RawCard, build_cards
from runner.dials import Dials
from runner.items import Item, ItemSource
from runner.students import STOPWORDS, Call, StepContext, Student, Vote
from runner.text import token_set
from warehouse.core.logformat import SCHEMA_VERSION, Answer, Evaluation, StepRecord, Usage


@dataclass(frozen=True)
class StepSettings:
    dials: Dials
    tau: float
    seed: int
    log_messages: str = "text"  # none | counts | text: the calls' transcripts in the log


def run_step(
    student: Student,
    source: ItemSource,
    step: int,
    run_id: str,
    before: dict[str, Any],
    s: StepSettings,
) -> StepRecord:
    start = time.perf_counter()
    ctx = StepContext(step=step, seed=s.seed)
    item = source.item(step)
    if s.dials.accumulate_notes:
        item = with_notes(item, before)
    drain = getattr(source, "drain_calls", None)
    if drain is not None:
        ctx.calls.extend(drain())  # tutor calls (an LLM tutor) count in tutor_usage
    tools = run_tools(item, s.dials) if s.dials.use_tools else []
    ctx.snippets = provenance_snippets(tools)
    cards = learn(student, item, s.dials, ctx)
    votes = [_clean(v) for v in use(student, item, cards, s.dials, ctx)]
    choice, citations = decide(votes, item, cards, s)
    answer, evaluation = judge(item, cards, votes, choice, citations, s, ctx.snippets)
    record: StepRecord = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "step": step,
        "ts": int(time.time()),
        "task": {
            "type": "mcq",
            "stem": item.stem,
            "options": list(item.options),
            "correct_index": item.correct_index,
        },
        "presented_stem": presented_stem(item, cards, s.dials.context_position),
        "answer": answer,
        "evaluation": evaluation,
    }
    if tools:
        record["tool_outputs"] = tools
        record["tools_used"] = [t["name"] for t in tools]
    record["fact_cards_before"] = before
    record["fact_cards_after"] = cards.as_log()
    record["card_validation"] = cards.validation
    record["duration_ms"] = round((time.perf_counter() - start) * 1000, 3)
    record["student_usage"] = usage(ctx.calls, "student")
    record["tutor_usage"] = usage(ctx.calls, "tutor")
    record["calls"] = [c.as_log(s.log_messages) for c in ctx.calls]
    return record


# ------------------------------------------------------------------ notes carried across steps


def carried_notes(before: dict[str, Any]) -> list[str]:
    """The context quotes of the previous step's cards (what accumulate_notes carries), in order."""
    seen: list[str] = []
    for card in before.get("cards") or []:
        if not isinstance(card, dict):
            continue
        where = card.get("where")
        quote = card.get("quote")
        if (
            isinstance(where, dict)
            and where.get("scope") == "context"
            and isinstance(quote, str)
            and quote
            and quote not in seen
        ):
            seen.append(quote)
    return seen


def with_notes(item: Item, before: dict[str, Any]) -> Item:
    """The item with the carried notes appended to its context as sentences (accumulate_notes): the
    student can extract and cite them, and evaluation checks quotes against the same context."""
    notes = carried_notes(before)
    if not notes:
        return item
    sentences = tuple(f"{note.rstrip('.')}." for note in notes)
    context = " ".join((item.context, *sentences))
    return dataclasses.replace(item, context=context, sentences=(*item.sentences, *sentences))


# ------------------------------------------------------------------ tools (retrieval)


def _sentence_scores(item: Item, query: set[str]) -> list[float]:
    n = len(item.sentences)
    df = Counter(w for s in item.sentences for w in token_set(s) - STOPWORDS)
    idf = {w: math.log(1 + n / c) for w, c in df.items()}
    # fsum: exactly rounded whatever the set's iteration order (a plain sum differs in the last
    # bits between runs with different hash seeds, and equal scores then tie-break differently)
    return [math.fsum(idf.get(w, 0.0) for w in (token_set(s) - STOPWORDS) & query) for s in item.sentences]


def run_tools(item: Item, dials: Dials) -> list[dict[str, Any]]:
    """tool_outputs: tfidf/retriever -> top sentences for the stem; option_retriever -> per option."""
    outputs: list[dict[str, Any]] = []
    for name in dials.tools:
        if name in ("retriever", "tfidf_retriever"):
            scores = _sentence_scores(item, token_set(item.stem))
            ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
            top = [item.sentences[i] for i in ranked[:3] if scores[i] > 0]
            outputs.append({"name": name, "snippets": top})
        elif name == "option_retriever":
            outputs.append({"name": name, "snippets": _per_option(item)})
        elif name == "pyexec":
            outputs.append({"name": name, "ok": True, "skipped": True})
    return outputs


def _per_option(item: Item) -> list[dict[str, Any]]:
    out = []
    for i, option in enumerate(item.options):
        scores = _sentence_scores(item, token_set(option) | token_set(item.stem))
        if scores and max(scores) > 0:
            best = scores.index(max(scores))
            out.append({"text": item.sentences[best], "source_id": f"context:sent:{best}", "option_index": i})
    return out


def provenance_snippets(tools: list[dict[str, Any]]) -> list[str]:
    texts: list[str] = []
    for tool in tools:
        for snippet in tool.get("snippets", []):
            text = snippet["text"] if isinstance(snippet, dict) else snippet
            if text not in texts:
                texts.append(text)
    return texts


# ------------------------------------------------------------------ LEARN


def learn(student: Student, item: Item, dials: Dials, ctx: StepContext) -> CardSet:
    """Extraction passes, then boosts while an option has fewer than q_min linked cards."""
    source = " ".join(ctx.snippets) if ctx.snippets else item.context
    raw: list[RawCard] = []

    def build() -> CardSet:
        return build_cards(
            raw, item.options, item.context, budget=dials.fact_cards_budget, dedup_sim=dials.dedup_sim
        )

    if dials.freeze_cards:
        return build()
    passes = dials.extract_passes()
    for p in range(passes):
        raw += student.extract(item, source, p, ctx)
    cards = build()
    for boost in range(dials.max_learn_boosts):
        if all(cards.linked_count(i) >= dials.q_min for i in range(len(item.options))):
            break
        raw += student.extract(item, source, passes + boost, ctx)
        cards = build()
    return cards


def presented_stem(item: Item, cards: CardSet, position: str) -> str:
    context = json.dumps(cards.as_log(), ensure_ascii=False)
    if position == "post":
        return f"QUESTION: {item.stem}\n\nCONTEXT:\n{context}"
    if position == "none":
        return item.stem
    return f"CONTEXT:\n{context}\n\nQUESTION: {item.stem}"


# ------------------------------------------------------------------ USE


def use(student: Student, item: Item, cards: CardSet, dials: Dials, ctx: StepContext) -> list[Vote]:
    """self_consistency_n votes, topped up to best_of_n candidates."""
    total = max(dials.self_consistency_n, dials.best_of_n)
    temperature = dials.temp_answer if total == 1 else dials.temp_sc
    return [student.answer(item, cards, v, temperature, ctx) for v in range(total)]


def _clean(vote: Vote) -> Vote:
    return Vote(vote.choice, ev.normalise_citations(vote.citations), vote.confidence)


def decide(votes: list[Vote], item: Item, cards: CardSet, s: StepSettings) -> tuple[int | None, list[str]]:
    """Final choice and its citations: rerank best-of candidates, else majority vote."""
    if s.dials.best_of_n > 0 and s.dials.rerank != "none":
        pick = rerank(votes, item, cards, s)
        if pick is not None:
            return pick.choice, pick.citations
    return majority(votes)


def majority(votes: list[Vote]) -> tuple[int | None, list[str]]:
    """Most frequent non-null choice (ties: first seen); citations of its first citing vote."""
    counts = Counter(v.choice for v in votes if v.choice is not None)
    if not counts:
        return None, []
    top = max(counts.values())
    choice = next(v.choice for v in votes if v.choice is not None and counts[v.choice] == top)
    cites = next((v.citations for v in votes if v.choice == choice and v.citations), [])
    return choice, cites


def rerank(votes: list[Vote], item: Item, cards: CardSet, s: StepSettings) -> Vote | None:
    """confidence: highest self-reported confidence. evidence: the candidate whose own
    citations best support its own choice (witness = own choice, coverage >= tau). No gold."""
    answered = [v for v in votes if v.choice is not None]
    if not answered:
        return None
    if s.dials.rerank == "confidence":
        return max(answered, key=lambda v: v.confidence or 0.0)
    scored = []
    for vote in answered:
        assert vote.choice is not None
        cited = ev.cited_cards(cards.cards, vote.citations)
        own = ev.coverage_of(item.options[vote.choice], cited)
        if vote.citations and ev.witness_of(item.options, cited) == vote.choice and own >= s.tau:
            scored.append((own, vote))
    return max(scored, key=lambda pair: pair[0])[1] if scored else None


# ------------------------------------------------------------------ evaluation


def judge(
    item: Item,
    cards: CardSet,
    votes: list[Vote],
    choice: int | None,
    citations: list[str],
    s: StepSettings,
    snippets: list[str],
) -> tuple[Answer, Evaluation]:
    d, gold = s.dials, item.correct_index
    report = ev.evidence_report(item.options, gold, choice, cards, citations, s.tau)
    reason = None
    if d.idk_enabled and d.require_citations:
        reason = ev.gate_reason(item.options, choice, cards, citations, s.tau)
        choice = None if reason else choice
    ordered = ev.order_citations(citations, choice, cards)
    answer: Answer = {"chosen_index": choice, "votes": [v.choice for v in votes]}
    if ordered:
        answer["citations"] = ordered
    witness = ev.witness_block(ordered, choice, cards)
    if witness:
        answer["witness"] = witness
    correct = choice is not None and choice == gold
    evaluation: Evaluation = {
        "correct": correct,
        "chosen_index": choice,
        "correct_index": gold,
        "abstained": choice is None,
    }
    if d.require_citations:
        evaluation["evidence_report"] = report
    if d.idk_enabled:
        evaluation["calibrated_score"] = ev.calibrated_score(correct, choice is None, d.target_confidence)
        evaluation["t"] = d.target_confidence
        if reason:
            evaluation["abstain_reason"] = reason
    if d.require_citations:
        evaluation["citations_evidence"] = ev.credit_check(
            item.options, gold, choice, cards, ordered, s.tau, snippets if d.use_tools else None
        )
    return answer, evaluation


def usage(calls: list[Call], role: str) -> Usage:
    mine = [c for c in calls if c.role == role]
    prompt = sum(c.prompt_tokens or 0 for c in mine)
    completion = sum(c.completion_tokens or 0 for c in mine)
    return {
        "calls": len(mine),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "request_ms_sum": round(sum(c.ms for c in mine), 3),
    }
