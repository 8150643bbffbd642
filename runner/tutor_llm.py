"""`--tutor llm`: items written by a model through the same kind of endpoint as the student.

The item is asked for as JSON {context, stem, options, correct_index}; an unusable reply falls
back to the built-in template item for that step (the call is logged with error "bad_item").
Unlike the template tutor, an LLM tutor is not deterministic: a resumed run asks new questions.
"""

from __future__ import annotations

import re
from typing import Any

from runner.endpoint import Endpoint
from runner.items import Item, TemplateTutor
from runner.students import Call

TUTOR_SYSTEM = (
    "You write one multiple-choice question for a reading test. Reply with one JSON object only: "
    '{"context": "<3 to 5 short factual sentences about invented entities>", '
    '"stem": "<the question>", "options": ["<option>", ...], "correct_index": <0-based int>}. '
    "Exactly one option is right, and the context must contain the fact that decides it. "
    "Use invented codes such as QRBV-70 or ZQ-49 for every name, never real ones."
)


class LLMTutor:
    def __init__(
        self, endpoint: Endpoint, model: str, anon_seed: int, num_options: int = 5, difficulty: str = "medium"
    ) -> None:
        self.endpoint, self.model = endpoint, model
        self.fallback = TemplateTutor(anon_seed, num_options)
        self.vocab_size = self.fallback.vocab_size
        self.num_options, self.difficulty, self.anon_seed = num_options, difficulty, anon_seed
        self._calls: list[Call] = []

    def item(self, step: int) -> Item:
        user = (
            f"Item {step} of a run with seed {self.anon_seed}. {self.num_options} options. "
            f"Difficulty: {self.difficulty}."
        )
        messages = [{"role": "system", "content": TUTOR_SYSTEM}, {"role": "user", "content": user}]
        reply, call = self.endpoint.chat_json(
            self.model, messages, role="tutor", phase="tutor", temperature=0.7
        )
        self._calls.append(call)
        item = _parse_item(reply, self.num_options, f"llm:{self.model}:{self.anon_seed}:{step}")
        if item is None:
            call.error = call.error or "bad_item"
            return self.fallback.item(step)
        return item

    def drain_calls(self) -> list[Call]:
        calls, self._calls = self._calls, []
        return calls

    def close(self) -> None:
        self.endpoint.close()


def _parse_item(reply: dict[str, Any] | None, n: int, item_id: str) -> Item | None:
    if not reply:
        return None
    options, gold = reply.get("options"), reply.get("correct_index")
    stem, context = reply.get("stem"), reply.get("context")
    if not isinstance(options, list) or len(options) != n:
        return None
    if not all(isinstance(o, str) and o for o in options):
        return None
    if isinstance(gold, bool) or not isinstance(gold, int) or not 0 <= gold < n:
        return None
    if not isinstance(stem, str) or not stem or not isinstance(context, str):
        return None
    sentences = tuple(s for s in re.split(r"(?<=[.!?])\s+", context) if s.strip())
    return Item(item_id, stem, tuple(options), gold, context, sentences)
