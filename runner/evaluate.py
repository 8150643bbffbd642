"""The one evaluator: correctness, coverage, witness, the credit check and the IDK gate.

Definitions (the old simulator's, T = runner.text.tokens):
  cited cards  = cards whose id is cited (all cards when nothing is cited) with a valid quote
  coverage     = |T(gold option) ∩ T(cited quotes)| / |T(gold option)|
  witness      = the option i maximising |T(option i) ∩ T(cited cards linked to i)| (all cited
                 quotes when none is linked); first index on ties; none when every score is 0
  credited     = correct ∧ reasons == [], which for an answered step means: citations given,
                 one of them linked to the chosen option, snippet provenance (tools on),
                 coverage ≥ τ and witness == gold.
The IDK gate never looks at the gold answer: it checks the hard evidence for the *chosen* option
(a cited context quote linked to it covering >= τ of its tokens; see gate_reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runner.cards import SKILL_TAG, Card, CardSet
from runner.items import Item
from runner.text import norm, quote_ok, token_set, tokens


@dataclass(frozen=True)
class Evidence:
    coverage: float
    witness_idx: int | None
    witness_pass: bool
    cited: list[Card]


def normalise_citations(raw: Any) -> list[str]:
    """Card ids as strings, in order, without repeats (ints and {"id": ...} objects accepted)."""
    out: list[str] = []
    for item in raw if isinstance(raw, list) else []:
        value = item.get("id") if isinstance(item, dict) else item
        if isinstance(value, bool) or value is None:
            continue
        text = f"f{value}" if isinstance(value, int) else str(value).strip()
        if text and text not in out:
            out.append(text)
    return out


def cited_cards(cards: list[Card], citations: list[str]) -> list[Card]:
    pool = [c for c in cards if c.id in set(citations)] if citations else list(cards)
    return [c for c in pool if quote_ok(c.quote) and SKILL_TAG in c.tags]


def coverage_of(option: str, cited: list[Card]) -> float:
    target = token_set(option)
    if not target:
        return 0.0
    have: set[str] = set()
    for card in cited:
        have |= token_set(card.quote)
    return round(len(target & have) / len(target), 6)


def witness_of(options: tuple[str, ...], cited: list[Card]) -> int | None:
    linked = [c for c in cited if c.option_index is not None and 0 <= c.option_index < len(options)]
    scores = []
    for i, option in enumerate(options):
        pool = [c for c in linked if c.option_index == i] if linked else cited
        words: set[str] = set()
        for card in pool:
            words |= token_set(card.quote)
        scores.append(len(token_set(option) & words))
    best = max(scores, default=0)
    return scores.index(best) if best > 0 else None


def evidence(options: tuple[str, ...], gold: int, cards: list[Card], citations: list[str]) -> Evidence:
    cited = cited_cards(cards, citations)
    witness = witness_of(options, cited)
    return Evidence(coverage_of(options[gold], cited), witness, witness == gold, cited)


def _linked_to(cited: list[Card], choice: int | None) -> bool:
    return choice is not None and any(c.option_index == choice for c in cited)


def _provenance_ok(cited: list[Card], snippets: list[str]) -> bool:
    texts = [norm(s) for s in snippets]
    return any(norm(c.quote) in t for c in cited for t in texts)


def credit_check(
    options: tuple[str, ...],
    gold: int,
    choice: int | None,
    cards: CardSet,
    citations: list[str],
    tau: float,
    snippets: list[str] | None = None,
) -> dict[str, Any]:
    """evaluation.citations_evidence: {coverage, witness_pass, credited, reasons}."""
    ev = evidence(options, gold, cards.cards, citations)
    reasons = []
    if not citations:
        reasons.append("no_citations")
    elif not ev.cited:
        reasons.append("tag_or_quote_filter")
    if choice is not None and not _linked_to(ev.cited, choice):
        reasons.append("no_option_quote_for_choice")
    if snippets and not _provenance_ok(ev.cited, snippets):
        reasons.append("no_snippet_quote")
    if ev.coverage < tau:
        reasons.append("coverage_below_tau")
    if not ev.witness_pass:
        reasons.append("witness_mismatch")
    blocking = [r for r in reasons if r != "tag_or_quote_filter"]
    credited = choice is not None and choice == gold and not blocking
    return {
        "coverage": ev.coverage,
        "witness_pass": ev.witness_pass,
        "credited": credited,
        "reasons": reasons,
    }


def gate_reason(
    options: tuple[str, ...],
    choice: int | None,
    cards: CardSet,
    citations: list[str],
    tau: float,
) -> str | None:
    """Why the hard evidence for the chosen option fails (None when it holds). No gold involved.

    Hard evidence = a cited context quote linked to the choice that covers >= tau of its tokens;
    the PRO card alone (the option's own words) is not evidence.
    """
    if choice is None:
        return "no_option_quote_for_choice"
    if not citations:
        return "no_citations"
    cited = cited_cards(cards.cards, citations)
    if not _linked_to(cited, choice):
        return "no_option_quote_for_choice"
    if cards.pro_ids.get(choice) not in citations:
        return "required_card_not_cited"
    support = [c for c in cited if c.scope == "context" and c.option_index == choice]
    if not support:
        return "no_context_quote_for_choice"
    if coverage_of(options[choice], support) < tau:
        return "coverage_below_tau"
    return None


def evidence_report(
    options: tuple[str, ...],
    gold: int,
    choice: int | None,
    cards: CardSet,
    citations: list[str],
    tau: float,
) -> dict[str, Any]:
    """evaluation.evidence_report on the raw citations and the voted choice."""
    ev = evidence(options, gold, cards.cards, citations)
    reason = gate_reason(options, choice, cards, citations, tau)
    answered = choice is not None
    metrics = {
        "num_cited_cards": len(ev.cited),
        "coverage": ev.coverage,
        "witness_idx": ev.witness_idx,
        "witness_pass": ev.witness_pass,
    }
    return {
        "post_pass": reason is None,
        "abstain_reason": reason,
        "coverage": ev.coverage,
        "witness_idx": ev.witness_idx,
        "witness_pass": ev.witness_pass,
        "has_option_quote_chosen": _linked_to(ev.cited, choice) if answered else None,
        "required_ok_chosen": (cards.pro_ids.get(choice) in citations) if choice is not None else None,
        "cited_ids": list(citations),
        "metrics": metrics,
    }


def calibrated_score(correct: bool, abstained: bool, t: float) -> float:
    """1 if correct, 0 if abstained, -t/(1-t) if wrong."""
    if abstained:
        return 0.0
    return 1.0 if correct else round(-t / (1.0 - t), 6)


def order_citations(citations: list[str], choice: int | None, cards: CardSet) -> list[str]:
    """PRO card of the choice first, then other cards of that option, then the rest.

    Only reorders what the student cited: nothing is added, so credit measures real attribution.
    """
    by_id = cards.by_id()
    pro = cards.pro_ids.get(choice) if choice is not None else None

    def rank(cid: str) -> int:
        card = by_id.get(cid)
        if cid == pro:
            return 0
        return 1 if card is not None and card.option_index == choice else 2

    return sorted(citations, key=rank)


def witness_block(citations: list[str], choice: int | None, cards: CardSet) -> dict[str, Any] | None:
    """answer.witness: the cited card for the choice and the cited rule (context) card."""
    by_id = cards.by_id()
    cited = [by_id[c] for c in citations if c in by_id]
    if choice is None or not cited:
        return None
    pick = next((c for c in cited if c.option_index == choice), cited[0])
    rule = next((c for c in cited if c.scope == "context"), pick)
    return {
        "rule": {"card_id": rule.id, "quote": rule.quote},
        "choice": {"card_id": pick.id, "quote": pick.quote},
    }


# ------------------------------------------------------------------ SAQ grading, alias evidence


def _point_words(item: Item) -> list[tuple[str, set[str]]]:
    """(key, words) of each key point: the tutor's slots, else the gold's words not in the stem."""
    if item.points:
        return [(key, token_set(value)) for key, value in item.points]
    stem = token_set(item.stem)
    words = [w for w in dict.fromkeys(tokens(item.options[item.correct_index])) if w not in stem]
    return [(w, {w}) for w in words if w not in SAQ_STOPWORDS]


def key_points(item: Item) -> list[dict[str, Any]]:
    """task.expected_points of the SAQ behind an MCQ item, as {key, required}.

    A point is required unless at least half of the distractors carry its words too (then it does
    not tell the right rule from a wrong one).
    """
    wrong = [token_set(o) for i, o in enumerate(item.options) if i != item.correct_index]
    out = []
    for key, words in _point_words(item):
        shared = sum(words <= w for w in wrong)
        out.append({"key": key, "required": shared * 2 < max(1, len(wrong))})
    return out


def grade_saq(item: Item, points: list[dict[str, Any]], answer: str) -> dict[str, Any]:
    """The offline tutor's grading: {score, correct, found_points, missing_points,
    misconception_tags, feedback}. A point is found when the answer has all its words; score =
    weight of found points (required 2, optional 1) over the total, less 0.25 for a wrong rule
    (words only a distractor has); correct = score >= 0.6 and no misconception."""
    said = token_set(answer)
    words = dict(_point_words(item))
    found = [p["key"] for p in points if words.get(p["key"], {p["key"]}) <= said]
    missing = [p["key"] for p in points if p["key"] not in found]
    weight = {p["key"]: 2 if p["required"] else 1 for p in points}
    total = sum(weight.values())
    gold = token_set(item.options[item.correct_index])
    tags = []
    wrong_words = {w for i, o in enumerate(item.options) if i != item.correct_index for w in token_set(o)}
    if (wrong_words - gold - token_set(item.stem) - SAQ_STOPWORDS) & said:
        tags.append("wrong-rule")
    if not found:
        tags.append("no-key-points")
    score = sum(weight[k] for k in found) / total if total else 0.0
    score = round(max(0.0, score - (0.25 if "wrong-rule" in tags else 0.0)), 3)
    correct = score >= 0.6 and not tags
    feedback = f"Found {len(found)} of {len(points)} key points" + (
        "; describes a different rule." if "wrong-rule" in tags else "."
    )
    return {
        "score": score,
        "correct": correct,
        "found_points": found,
        "missing_points": missing,
        "misconception_tags": tags,
        "feedback": feedback,
    }


def t3(text: str) -> set[str]:
    """T3: T tokens of length >= 3, as a set (the alias-evidence tokenizer)."""
    return {t for t in tokens(text) if len(t) >= 3}


def alias_evidence(item: Item, choice: int | None, memory: str, tau: float) -> dict[str, Any]:
    """alias_evidence of a phase-B step: coverage of the gold text by the notes memory (T3),
    witness = the option with the largest T3 overlap with memory (ties: higher index),
    credited = correct and coverage >= tau and witness_pass."""
    have = t3(memory)
    gold = t3(item.options[item.correct_index])
    coverage = round(len(gold & have) / len(gold), 6) if gold else 0.0
    scores = [(len(t3(o) & have), i) for i, o in enumerate(item.options)]
    witness = max(scores)[1] if scores else None
    witness_pass = witness == item.correct_index
    correct = choice is not None and choice == item.correct_index
    return {
        "coverage": coverage,
        "witness_pass": witness_pass,
        "credited": correct and coverage >= tau and witness_pass,
    }


SAQ_STOPWORDS = frozenset({"the", "and", "any", "its", "it", "is", "a", "an", "of", "by", "to", "when"})
