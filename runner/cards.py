"""Fact cards: normalise what LEARN extracted, guarantee a PRO card per option, apply the budget.

A card quotes at most 15 tokens of an option or of the context and may be linked to an option.
The PRO card of option i is its first option-scope card; when LEARN produced none, a stub with id
`opt<i+1>` quotes the option's first 15 tokens. PRO cards are reserved first in the budget, then
up to two context cards, then the rest in extraction order, as the old simulator did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from runner.text import MAX_QUOTE_TOKENS, canon, quote_ok, slice_tokens, token_set

SKILL_TAG = "general-concepts"
LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class RawCard:
    """What a student proposes: a quote, its scope, and the option it supports (if any)."""

    quote: str
    scope: str = "context"
    option_index: int | None = None


@dataclass(frozen=True)
class Card:
    id: str
    quote: str
    scope: str
    option_index: int | None
    start: int | None
    end: int | None
    source_id: str
    tags: tuple[str, ...] = (SKILL_TAG,)

    def as_log(self) -> dict[str, Any]:
        where: dict[str, Any] = {"scope": self.scope}
        if self.option_index is not None:
            where["option_index"] = self.option_index
        if self.start is not None and self.end is not None:
            where["start"], where["end"] = self.start, self.end
        where["source_id"] = self.source_id
        return {"id": self.id, "quote": self.quote, "where": where, "tags": list(self.tags)}


@dataclass
class CardSet:
    cards: list[Card]
    pro_ids: dict[int, str]
    validation: dict[str, Any] = field(default_factory=dict)

    def by_id(self) -> dict[str, Card]:
        return {c.id: c for c in self.cards}

    def option_card_ids(self) -> dict[str, str]:
        """{"A": id, ...} as shown to the student."""
        return {LETTERS[i]: cid for i, cid in sorted(self.pro_ids.items())}

    def linked_count(self, option: int) -> int:
        return sum(1 for c in self.cards if c.option_index == option)

    def as_log(self) -> dict[str, Any]:
        return {"cards": [c.as_log() for c in self.cards]}


def _locate(quote: str, text: str) -> tuple[str, int, int, str] | None:
    """Find `quote` in `text`: exact first, then canonical (case/dash/space-insensitive)."""
    at = text.find(quote)
    if quote and at >= 0:
        exact, start, end = _cut(text, at, at + len(quote))
        return exact, start, end, "offset"
    target = canon(quote)
    if not target:
        return None
    for start in range(len(text)):
        if text[start].isalnum() and (start == 0 or not text[start - 1].isalnum()):
            for end in range(start + 1, len(text) + 1):
                piece = canon(text[start:end])
                if piece == target and (end == len(text) or not text[end].isalnum()):
                    exact, s, e = _cut(text, start, end)
                    return exact, s, e, "canon-substring"
                if len(piece) > len(target):
                    break
    return None


def _cut(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The slice, shortened to at most 15 tokens."""
    quote, s, e = slice_tokens(text[start:end], MAX_QUOTE_TOKENS)
    return quote, start + s, start + e


class _Builder:
    def __init__(self, options: tuple[str, ...], context: str) -> None:
        self.options, self.context = options, context
        self.modes = {"offset": 0, "canon-substring": 0, "fail": 0}
        self.issues: list[str] = []
        self.cards: list[Card] = []

    def add(self, raw: RawCard) -> None:
        n = len(self.options)
        index = raw.option_index if isinstance(raw.option_index, int) else None
        if index is not None and not 0 <= index < n:
            self.issues.append(f"bad_option_index:{index}")
            index = None
        if raw.scope == "option":
            self._add_option(raw.quote, index)
        elif raw.scope == "context":
            self._add_context(raw.quote, index)
        else:
            self.issues.append("unknown_scope")

    def _add_option(self, quote: str, index: int | None) -> None:
        if index is None:
            self.issues.append("bad_option_index:None")
            return
        option = self.options[index]
        found = _locate(quote, option)
        if found is None:
            self.modes["fail"] += 1
            self.issues.append("quote_not_in_option")
            exact, start, end = slice_tokens(option)
        else:
            exact, start, end, mode = found
            self.modes[mode] += 1
        self._push(exact, "option", index, start, end, f"option:{index}")

    def _add_context(self, quote: str, index: int | None) -> None:
        found = _locate(quote, self.context)
        if found is None:
            self.issues.append("quote_not_in_context")
            return
        exact, start, end, _ = found
        self._push(exact, "context", index, start, end, "context")

    def _push(self, quote: str, scope: str, index: int | None, start: int, end: int, src: str) -> None:
        if not quote_ok(quote):
            return
        key = (quote.lower(), scope, index)
        if any((c.quote.lower(), c.scope, c.option_index) == key for c in self.cards):
            return
        self.cards.append(Card(f"f{len(self.cards) + 1}", quote, scope, index, start, end, src))


def build_cards(
    raw: Iterable[RawCard],
    options: tuple[str, ...],
    context: str,
    *,
    budget: int,
    dedup_sim: float = 0.88,
) -> CardSet:
    """Validate, add PRO stubs, reserve PRO cards first in the budget, de-duplicate, order."""
    builder = _Builder(options, context)
    for card in raw:
        builder.add(card)
    pro = _pro_cards(builder.cards, options)
    chosen = _apply_budget(builder.cards, pro, budget)
    chosen = _dedup(chosen, {c.id for c in pro.values()}, dedup_sim)
    chosen.sort(key=lambda c: (c.option_index is None, c.option_index or 0, c.scope != "option"))
    kept = {c.id for c in chosen}
    pro_ids = {i: c.id for i, c in pro.items() if c.id in kept}
    return CardSet(chosen, pro_ids, _validation(chosen, options, builder))


def _pro_cards(cards: list[Card], options: tuple[str, ...]) -> dict[int, Card]:
    pro: dict[int, Card] = {}
    for card in cards:
        if card.scope == "option" and card.option_index is not None:
            pro.setdefault(card.option_index, card)
    for i, option in enumerate(options):
        if i not in pro:
            quote, start, end = slice_tokens(option)
            if quote:
                pro[i] = Card(f"opt{i + 1}", quote, "option", i, start, end, f"option:{i}")
    return dict(sorted(pro.items()))


def _apply_budget(cards: list[Card], pro: dict[int, Card], budget: int) -> list[Card]:
    chosen = list(pro.values())[:budget]
    rest = [c for c in cards if c not in chosen]
    context = [c for c in rest if c.scope == "context"][:2]
    for card in context + [c for c in rest if c not in context]:
        if len(chosen) >= budget:
            break
        chosen.append(card)
    return chosen


def _dedup(cards: list[Card], protected: set[str], threshold: float) -> list[Card]:
    kept: list[Card] = []
    for card in cards:
        words = token_set(card.quote)
        twins = (
            k
            for k in kept
            if k.option_index == card.option_index and _jaccard(words, token_set(k.quote)) >= threshold
        )
        if card.id in protected or next(twins, None) is None:
            kept.append(card)
    return kept


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _validation(cards: list[Card], options: tuple[str, ...], builder: _Builder) -> dict[str, Any]:
    counts = {"option": 0, "context": 0, "other": 0}
    for card in cards:
        counts[card.scope if card.scope in counts else "other"] += 1
    issues = list(builder.issues)
    linked = {c.option_index for c in cards if c.scope == "option"}
    issues += [f"missing_option_card:{i}" for i in range(len(options)) if i not in linked]
    return {"counts": counts, "issues": issues, "validator_modes": dict(builder.modes)}
