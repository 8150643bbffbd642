"""The `llm` student: LEARN and USE through an OpenAI-compatible chat endpoint, JSON replies."""

from __future__ import annotations

import json
from typing import Any

from runner.cards import LETTERS, CardSet, RawCard
from runner.endpoint import Endpoint
from runner.items import Item
from runner.students import Call, StepContext, Vote

LEARN_SYSTEM = (
    "You extract fact cards for a multiple-choice question. Reply with one JSON object only: "
    '{"cards": [{"quote": "<words copied exactly from SOURCE, at most 15 words>", '
    '"option": "<letter of the option the quote supports, or null>"}]}. '
    "Copy quotes verbatim; never paraphrase. Prefer quotes that decide between the options."
)
USE_SYSTEM = (
    "Answer the multiple-choice question using only the fact cards in CONTEXT. Reply with one "
    'JSON object only: {"choice": "<option letter>", "citations": ["<card id>", ...], '
    '"confidence": <number from 0 to 1>}. The first citation must be the PRO card of your chosen '
    "option (OPTION_CARDS maps each letter to it); then cite the cards whose quotes support it."
)
IDK_RULE = ' If the cards do not support any option, reply with "choice": "IDK".'


def options_block(options: tuple[str, ...]) -> str:
    return "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(options))


def parse_choice(value: Any, n_options: int) -> int | None:
    """'B', 'b', 'B.', 'B) text', or a 0-based int; 'IDK' or anything else -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < n_options else None
    text = str(value or "").strip().upper()
    if not text or text.startswith("IDK"):
        return None
    index = LETTERS.find(text[0])
    if index < 0 or (len(text) > 1 and text[1].isalnum()):
        return None
    return index if index < n_options else None


class LLMStudent:
    kind = "llm"

    def __init__(
        self,
        endpoint: Endpoint,
        model: str,
        *,
        idk: bool = False,
        instruction_header: str | None = None,
        top_p: float = 1.0,
    ) -> None:
        self.endpoint, self.model = endpoint, model
        self.provider = endpoint.cfg.provider
        self.idk, self.header, self.top_p = idk, instruction_header, top_p

    def extract(self, item: Item, source: str, pass_index: int, ctx: StepContext) -> list[RawCard]:
        user = f"SOURCE:\n{source}\n\nQUESTION: {item.stem}\nOPTIONS:\n{options_block(item.options)}"
        temperature = 0.0 if pass_index == 0 else 0.7
        reply, _call = self._ask(LEARN_SYSTEM, user, "learn", temperature, ctx)
        cards = reply.get("cards") if reply else None
        if not isinstance(cards, list):
            return []
        return [c for c in (self._raw_card(x, len(item.options)) for x in cards) if c is not None]

    def _raw_card(self, value: Any, n_options: int) -> RawCard | None:
        if not isinstance(value, dict) or not isinstance(value.get("quote"), str):
            return None
        option = parse_choice(value.get("option"), n_options)
        scope = "option" if value.get("scope") == "option" else "context"
        return RawCard(value["quote"], scope, option)

    def answer(
        self, item: Item, cards: CardSet, vote_index: int, temperature: float, ctx: StepContext
    ) -> Vote:
        context = json.dumps(cards.as_log(), ensure_ascii=False)
        user = (
            f"CONTEXT:\n{context}\n\nQUESTION: {item.stem}\nOPTIONS:\n"
            f"{options_block(item.options)}\n\nOPTION_CARDS: {json.dumps(cards.option_card_ids())}"
        )
        system = USE_SYSTEM + (IDK_RULE if self.idk else "")
        reply, call = self._ask(system, user, "use", temperature, ctx)
        if reply is None:
            return Vote(None)
        choice = parse_choice(reply.get("choice", reply.get("chosen_index")), len(item.options))
        said_idk = str(reply.get("choice", "")).upper().startswith("IDK")
        if choice is None and call.error is None and not said_idk:
            call.error = "bad_answer"
        raw = reply.get("citations")
        citations: list[Any] = raw if isinstance(raw, list) else []
        confidence = reply.get("confidence")
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
            return Vote(choice, citations, None)
        return Vote(choice, citations, float(confidence))

    def close(self) -> None:
        self.endpoint.close()

    def _ask(
        self, system: str, user: str, phase: str, temperature: float, ctx: StepContext
    ) -> tuple[dict[str, Any] | None, Call]:
        """One student call in `phase`; the call is recorded in the step's `calls`."""
        if self.header:
            system = f"{self.header}\n\n{system}"
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        reply, call = self.endpoint.chat_json(
            self.model, messages, role="student", phase=phase, temperature=temperature, top_p=self.top_p
        )
        ctx.calls.append(call)
        return reply, call
