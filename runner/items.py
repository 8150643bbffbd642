"""Items to ask: MCQs with options, the gold index and a context passage.

Two sources: a task file (JSONL, one item per line) or the built-in offline tutor, which fills a
small shipped template set with anonymised entities. The tutor is deterministic: item k of a run
depends only on (ANON_SEED, k), so a resumed run asks exactly the questions it would have asked.
"""

from __future__ import annotations

import json
import random
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from warehouse.core.errors import DataError, UsageError

_SLOT = re.compile(r"\{([A-Z])(\d)\}")
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class Item:
    item_id: str
    stem: str
    options: tuple[str, ...]
    correct_index: int
    context: str
    sentences: tuple[str, ...]
    points: tuple[tuple[str, str], ...] = ()  # SAQ key points: (key, the gold's words for it)


class ItemSource(Protocol):
    vocab_size: int

    def item(self, step: int) -> Item: ...


@lru_cache(maxsize=1)
def _templates() -> dict[str, Any]:
    text = resources.files("runner").joinpath("data/templates.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


class TemplateTutor:
    """Abstract MCQs from templates; entity codes are drawn from the anonymisation seed."""

    def __init__(self, anon_seed: int, num_options: int = 5) -> None:
        data = _templates()
        self.templates: list[dict[str, Any]] = data["template"]
        self.vocab: dict[str, list[str]] = data["vocab"]
        self.anon_seed = anon_seed
        self.num_options = num_options
        self.vocab_size = sum(len(v) for v in self.vocab.values())
        usable = min(len(t["distractors"]) for t in self.templates) + 1
        if not 2 <= num_options <= usable:
            raise UsageError(f"--options must be between 2 and {usable} for the built-in tutor")

    def item(self, step: int) -> Item:
        rng = random.Random(f"{self.anon_seed}:{step}")
        template = self.templates[rng.randrange(len(self.templates))]
        return self._fill(template, rng, f"tutor:{template['id']}:{self.anon_seed}:{step}")

    def alias_pair(self, family: int) -> tuple[str, Item, Item]:
        """Alias family k: one template asked twice; phase B renames the entities (E slots) and keeps
        the rule (group codes, verbs, directions, numbers), so the same link reappears under new names."""
        rng = random.Random(f"{self.anon_seed}:alias:{family}")
        template = self.templates[rng.randrange(len(self.templates))]
        base = f"tutor:{template['id']}:{self.anon_seed}:alias{family}"
        rng_a = random.Random(f"{self.anon_seed}:alias:{family}:A")
        slots = self._slots(rng_a)
        a = self._fill(template, rng_a, f"{base}:A", slots)
        rng_b = random.Random(f"{self.anon_seed}:alias:{family}:B")
        fresh = [c for c in _codes(rng_b, 8, 2) if c not in slots.values()][:4]
        renamed = {**slots, **{f"{{E{i + 1}}}": code for i, code in enumerate(fresh)}}
        b = self._fill(template, rng_b, f"{base}:B", renamed)
        return str(template["id"]), a, b

    def _fill(
        self, template: dict[str, Any], rng: random.Random, item_id: str, slots: dict[str, str] | None = None
    ) -> Item:
        slots = slots or self._slots(rng)
        fill = lambda text: _SLOT.sub(lambda m: slots[m.group(0)], text)
        sentences = [fill(s) for s in template["context"]]
        rng.shuffle(sentences)
        gold = _cap(fill(template["gold"]))
        wrong = [_cap(fill(d)) for d in template["distractors"][: self.num_options - 1]]
        options = [gold, *wrong]
        rng.shuffle(options)
        return Item(
            item_id=item_id,
            stem=fill(template["stem"]),
            options=tuple(options),
            correct_index=options.index(gold),
            context=" ".join(sentences),
            sentences=tuple(sentences),
            points=_points(template, slots),
        )

    def _slots(self, rng: random.Random) -> dict[str, str]:
        pools = {
            "R": _codes(rng, 3, 4),
            "E": _codes(rng, 4, 2),
            "V": rng.sample(self.vocab["verbs"], 3),
            "D": rng.sample(self.vocab["directions"], 3),
            "C": rng.sample(self.vocab["compass"], 3),
            "P": rng.sample(self.vocab["properties"], 4),
            "N": [str(n) for n in rng.sample(range(2, 10), 4)],
        }
        return {f"{{{k}{i + 1}}}": v for k, values in pools.items() for i, v in enumerate(values)}


def _codes(rng: random.Random, n: int, letters: int) -> list[str]:
    codes: dict[str, None] = {}  # distinct, in drawing order (a set's order follows the hash seed)
    while len(codes) < n:
        head = "".join(rng.choice(_LETTERS) for _ in range(letters))
        codes[f"{head}-{rng.randrange(10, 300)}"] = None
    return sorted(codes, key=lambda _: rng.random())


_ROLES = {
    "R": "group",
    "E": "entity",
    "V": "action",
    "D": "direction",
    "C": "compass",
    "P": "property",
    "N": "number",
}


def _points(template: dict[str, Any], slots: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Key points of the gold answer: its slots the stem does not give away, named by role."""
    found = [m.group(0) for m in _SLOT.finditer(template["gold"]) if m.group(0) not in template["stem"]]
    roles = [_ROLES[slot[1]] for slot in found]
    keys = [
        f"{template['id']}-{role}" + (slot[2] if roles.count(role) > 1 else "")
        for slot, role in zip(found, roles, strict=True)
    ]
    return tuple(dict.fromkeys(zip(keys, (slots[s] for s in found), strict=True)))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class TaskFile:
    """Items from a JSONL file: {"stem", "options", "correct_index", "context"?, "id"?} per line.

    Step k asks item k modulo the number of items, in file order.
    """

    vocab_size = 0

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise UsageError(f"task file {path} not found")
        self.items = [self._parse(no, line) for no, line in self._lines()]
        if not self.items:
            raise DataError(f"task file {path} has no items")

    def _lines(self) -> list[tuple[int, str]]:
        text = self.path.read_text(encoding="utf-8")
        return [(no, line) for no, line in enumerate(text.splitlines(), 1) if line.strip()]

    def _parse(self, no: int, line: str) -> Item:
        where = f"{self.path}:{no}"
        try:
            raw = json.loads(line)
            options = tuple(str(o) for o in raw["options"])
            gold = int(raw["correct_index"])
            stem = str(raw["stem"])
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(f"{where}: need stem, options and correct_index ({e})") from e
        if len(options) < 2 or not 0 <= gold < len(options):
            raise DataError(f"{where}: need >= 2 options and 0 <= correct_index < len(options)")
        context = str(raw.get("context") or "")
        sentences = tuple(s for s in re.split(r"(?<=[.!?])\s+", context) if s.strip())
        item_id = str(raw.get("id") or f"{self.path.name}:{no}")
        return Item(item_id, stem, options, gold, context, sentences)

    def item(self, step: int) -> Item:
        return self.items[step % len(self.items)]
