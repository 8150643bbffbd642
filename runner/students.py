"""Students: the interface, the call record, and the offline baselines.

oracle  -- upper bound: answers the gold option and cites its PRO card and the best context card.
lexical -- a real baseline: links context sentences to options by token overlap, weights each
           sentence by its overlap with the stem, and answers the best-supported option.
random  -- lower bound: a seeded random option, citing its PRO card.
The `llm` student (runner/llm.py) talks to an OpenAI-compatible endpoint.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from runner.cards import CardSet, RawCard
from runner.items import Item
from runner.text import token_set

STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "of",
        "to",
        "by",
        "in",
        "on",
        "at",
        "it",
        "its",
        "and",
        "or",
        "every",
        "any",
        "each",
        "that",
        "which",
        "what",
        "when",
        "does",
        "do",
        "how",
        "many",
        "where",
        "who",
        "unless",
        "after",
        "before",
        "be",
        "can",
        "not",
        "no",
    }
)


@dataclass
class Call:
    """One endpoint call (LOG contract: step.calls[])."""

    role: str
    phase: str
    ms: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 1
    error: str | None = None
    messages: list[dict[str, str]] | None = None  # what was sent (already redacted)
    completion: str | None = None  # the raw reply text (already redacted)

    def as_log(self, log_messages: str = "none") -> dict[str, Any]:
        """The call's log entry; `log_messages` adds the transcript: "counts" the length of each
        message and of the completion, "text" their text as well."""
        out: dict[str, Any] = {
            "role": self.role,
            "phase": self.phase,
            "ms": round(self.ms, 3),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "attempts": self.attempts,
            "error": self.error,
        }
        if log_messages in ("counts", "text") and self.messages is not None:
            text = log_messages == "text"
            out["messages"] = [_message_log(m, text) for m in self.messages]
            out["completion_chars"] = len(self.completion or "")
            if text:
                out["completion"] = self.completion or ""
        return out


def _message_log(message: dict[str, str], text: bool) -> dict[str, Any]:
    content = message.get("content", "")
    entry: dict[str, Any] = {"role": message.get("role", ""), "chars": len(content)}
    if text:
        entry["content"] = content
    return entry


@dataclass
class Vote:
    choice: int | None
    citations: list[Any] = field(default_factory=list)
    confidence: float | None = None


@dataclass
class StepContext:
    """What a student may know about the step besides the item: where to record its calls."""

    step: int
    seed: int
    calls: list[Call] = field(default_factory=list)
    snippets: list[str] = field(default_factory=list)


class Student(Protocol):
    kind: str
    provider: str
    model: str

    def extract(self, item: Item, source: str, pass_index: int, ctx: StepContext) -> list[RawCard]:
        """LEARN: propose cards from `source` (the context, or retrieved snippets)."""
        ...

    def answer(
        self, item: Item, cards: CardSet, vote_index: int, temperature: float, ctx: StepContext
    ) -> Vote:
        """USE: one vote, citing card ids."""
        ...


def content_words(text: str) -> set[str]:
    return token_set(text) - STOPWORDS


def _sentences(source: str) -> list[str]:
    import re

    return [s for s in re.split(r"(?<=[.!?])\s+", source) if s.strip()]


def _option_cards(item: Item) -> list[RawCard]:
    return [RawCard(opt, "option", i) for i, opt in enumerate(item.options)]


class OracleStudent:
    kind = provider = model = "oracle"

    def extract(self, item: Item, source: str, pass_index: int, ctx: StepContext) -> list[RawCard]:
        gold = content_words(item.options[item.correct_index])
        best = max(_sentences(source), key=lambda s: len(content_words(s) & gold), default="")
        extra = [RawCard(best, "context", item.correct_index)] if best else []
        return _option_cards(item) + extra

    def answer(
        self, item: Item, cards: CardSet, vote_index: int, temperature: float, ctx: StepContext
    ) -> Vote:
        gold = item.correct_index
        cites = [c.id for c in cards.cards if c.option_index == gold]
        pro = cards.pro_ids.get(gold)
        ordered = ([pro] if pro else []) + [c for c in cites if c != pro]
        return Vote(gold, ordered, 1.0)


class LexicalStudent:
    kind = provider = model = "lexical"

    def extract(self, item: Item, source: str, pass_index: int, ctx: StepContext) -> list[RawCard]:
        out = _option_cards(item)
        for sentence in _sentences(source):
            words = content_words(sentence)
            scores = [len(words & content_words(o)) for o in item.options]
            best = max(scores, default=0)
            if best >= 2 and scores.count(best) == 1:
                out.append(RawCard(sentence, "context", scores.index(best)))
        return out

    def answer(
        self, item: Item, cards: CardSet, vote_index: int, temperature: float, ctx: StepContext
    ) -> Vote:
        stem = content_words(item.stem)
        scores = [0.0] * len(item.options)
        for card in cards.cards:
            if card.scope != "context" or card.option_index is None:
                continue
            words = content_words(card.quote)
            overlap = len(words & content_words(item.options[card.option_index]))
            scores[card.option_index] += overlap * (1 + len(words & stem))
        best = max(scores)
        if best <= 0:  # no linked evidence: guess by overlap with the stem, cite the PRO card
            guess = [len(content_words(o) & stem) for o in item.options]
            choice = guess.index(max(guess))
            pro = cards.pro_ids.get(choice)
            return Vote(choice, [pro] if pro else [], 0.0)
        choice = scores.index(best)
        linked = [c.id for c in cards.cards if c.option_index == choice and c.scope == "context"]
        pro = cards.pro_ids.get(choice)
        return Vote(choice, ([pro] if pro else []) + linked, round(best / (sum(scores) or 1), 3))


class RandomStudent:
    kind = provider = model = "random"

    def extract(self, item: Item, source: str, pass_index: int, ctx: StepContext) -> list[RawCard]:
        return []

    def answer(
        self, item: Item, cards: CardSet, vote_index: int, temperature: float, ctx: StepContext
    ) -> Vote:
        rng = random.Random(f"{ctx.seed}:{ctx.step}:{vote_index}")
        choice = rng.randrange(len(item.options))
        pro = cards.pro_ids.get(choice)
        return Vote(choice, [pro] if pro else [], None)


OFFLINE: dict[str, Callable[[], Student]] = {
    "oracle": OracleStudent,
    "lexical": LexicalStudent,
    "random": RandomStudent,
}


# ------------------------------------------------------------------ SAQ drafts (offline students)


def explain(student: Student, item: Item, draft: int, ctx: StepContext) -> str:
    """One short-answer draft for the question behind `item` (offline students only)."""
    if isinstance(student, OracleStudent):
        return f"{item.options[item.correct_index]}."
    if isinstance(student, LexicalStudent):
        stem = content_words(item.stem)
        ranked = sorted(item.sentences, key=lambda s: -len(content_words(s) & stem))
        return ranked[draft % len(ranked)] if ranked else item.stem
    rng = random.Random(f"{ctx.seed}:{ctx.step}:saq:{draft}")
    return f"{item.options[rng.randrange(len(item.options))]}."
