"""The 58 dials of a run, in the order the old simulator serialised them (the log-format contract,
warehouse/core/logformat.py DialValues, names them and their order).

Every header carries all of them so old and new runs share the `runs` view. This runner honours
the dials listed in HONOURED; the others are recorded with their values but change nothing.
Defaults are the simulator CLI's, except that a run here is always the "apples" setting
(closed book, fact cards, citations required).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, cast

from warehouse.core.errors import ConfigError
from warehouse.core.logformat import DIAL_NAMES, DialValues


@dataclass(frozen=True)
class Dials:
    closed_book: bool = True
    anonymize: bool = True
    rich: bool = False
    verify: bool = False
    reflection_every: int = 0
    context_position: str = "pre"
    self_consistency_n: int = 1
    adaptive_sc: bool = False
    sc_quorum: int = 0
    reasoning: str = "none"
    temp_answer: float = 0.3
    temp_sc: float = 0.7
    top_p: float = 1.0
    min_p: float | None = None
    grammar: str = "json"
    sc_extract_n: int = 0
    q_min: int = 1
    max_learn_boosts: int = 0
    mmr_lambda: float = 0.4
    span_window: int = 240
    citation_mode: str = "strict"
    min_sources_chosen: int = 2
    dedup_sim: float = 0.88
    sc_policy: str = "fixed"
    sc_k_easy: int = 3
    sc_k_medium: int = 5
    sc_k_hard: int = 7
    best_of_n: int = 0
    rerank: str = "none"
    reflexion: bool = False
    compress_examples: bool = False
    compress_ratio: float = 3.0
    controller: str = "basic"
    controller_budget: int = 6
    tot_width: int = 2
    tot_depth: int = 2
    tot_judge: str = "self"
    uncertainty_gate: bool = False
    conf_threshold: float = 0.45
    entropy_threshold: float = 0.90
    max_k_escalated: int = 12
    escalate_reasoning: bool = False
    instruction_header: str | None = None
    accumulate_notes: bool = False
    rare_emphasis: bool = False
    use_tools: bool = False
    tools: list[str] = field(default_factory=lambda: ["tfidf_retriever"])
    use_fact_cards: bool = True
    fact_cards_budget: int = 10
    require_citations: bool = True
    freeze_cards: bool = False
    idk_enabled: bool = False
    target_confidence: float = 0.75
    min_cqs: float = 0.0
    min_card_len: int = 40
    max_card_len: int = 300
    per_option_top_k: int = 3
    evidence_weighted_selection: bool = False

    def as_dict(self) -> DialValues:
        """The header's `config.dials`: every dial of the contract, in its order (lists copied)."""
        return cast(DialValues, {name: _copy(getattr(self, name)) for name in DIAL_NAMES})

    def replace(self, **changes: Any) -> Dials:
        return with_overrides(self, changes)

    def extract_passes(self) -> int:
        """LEARN passes: sc_extract_n, or max(1, self_consistency_n) when it is 0."""
        return self.sc_extract_n if self.sc_extract_n > 0 else max(1, self.self_consistency_n)


# Dials this runner acts on (docs/runner.md explains each).
HONOURED = (
    "self_consistency_n",
    "temp_answer",
    "temp_sc",
    "top_p",
    "sc_extract_n",
    "q_min",
    "max_learn_boosts",
    "dedup_sim",
    "best_of_n",
    "rerank",
    "use_tools",
    "tools",
    "fact_cards_budget",
    "require_citations",
    "freeze_cards",
    "accumulate_notes",
    "idk_enabled",
    "target_confidence",
    "context_position",
    "instruction_header",
)

# Short names used in log file names and plan files.
ABBREVIATIONS = {
    "self_consistency_n": "sc",
    "fact_cards_budget": "b",
    "best_of_n": "bo",
    "sc_extract_n": "scx",
    "q_min": "q",
    "idk_enabled": "idk",
    "max_learn_boosts": "mlb",
    "use_tools": "tools",
    "rerank": "rr",
    "target_confidence": "t",
    "freeze_cards": "frz",
}

_FIELDS = {f.name: f for f in dataclasses.fields(Dials)}
if tuple(_FIELDS) != DIAL_NAMES:  # a dial added here and not to the contract would never be logged
    raise ImportError("runner.dials.Dials and warehouse.core.logformat.DialValues name different dials")
_RERANKS = ("none", "confidence", "evidence")
_POSITIONS = ("pre", "post", "none")


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def with_overrides(base: Dials, changes: dict[str, Any], source: str = "dials") -> Dials:
    """A copy of `base` with checked, type-coerced `changes`; unknown names are an error."""
    values: dict[str, Any] = dict(base.as_dict())
    for name, raw in changes.items():
        if name not in _FIELDS:
            raise ConfigError(f"{source}: unknown dial {name!r}; see docs/runner.md for the list")
        values[name] = _coerce(name, raw, values[name], source)
    dials = Dials(**values)
    _check(dials, source)
    return dials


def _coerce(name: str, raw: Any, current: Any, source: str) -> Any:
    kind: type[Any] = type(Dials.__dataclass_fields__[name].default) if name != "tools" else list
    if name in ("min_p", "instruction_header"):
        return None if raw is None else (float(raw) if name == "min_p" else str(raw))
    try:
        if kind is bool:
            return _to_bool(raw)
        if kind is int and not isinstance(raw, bool):
            if float(raw) != int(float(raw)):
                raise ValueError("not a whole number")
            return int(float(raw))
        if kind is float and not isinstance(raw, bool):
            return float(raw)
        if kind is str:
            return str(raw)
        if kind is list:
            return [s.strip() for s in raw.split(",")] if isinstance(raw, str) else list(raw)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{source}: dial {name}={raw!r} is not a valid {kind.__name__}") from e
    raise ConfigError(f"{source}: dial {name}={raw!r} is not a valid {kind.__name__}")


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not a boolean")


def _check(d: Dials, source: str) -> None:
    problems = []
    if d.self_consistency_n < 1:
        problems.append("self_consistency_n must be >= 1")
    if d.q_min < 1:
        problems.append("q_min must be >= 1")
    if min(d.sc_extract_n, d.max_learn_boosts, d.best_of_n) < 0:
        problems.append("sc_extract_n, max_learn_boosts and best_of_n must be >= 0")
    if d.fact_cards_budget < 1:
        problems.append("fact_cards_budget must be >= 1")
    if not 0.0 < d.target_confidence < 1.0:
        problems.append("target_confidence must be between 0 and 1")
    if d.rerank not in _RERANKS:
        problems.append(f"rerank must be one of {', '.join(_RERANKS)}")
    if d.context_position not in _POSITIONS:
        problems.append(f"context_position must be one of {', '.join(_POSITIONS)}")
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))


def parse_assignments(pairs: tuple[str, ...] | list[str], source: str = "--dial") -> dict[str, Any]:
    """NAME=VALUE strings (abbreviations allowed) to a dict of dial values (still strings)."""
    full = {v: k for k, v in ABBREVIATIONS.items()}
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"{source} {pair!r}: use NAME=VALUE, e.g. self_consistency_n=3")
        out[full.get(name.strip(), name.strip())] = value.strip()
    return out


def tag(values: dict[str, Any]) -> str:
    """A short file-name tag for some dial values: {'self_consistency_n': 3} -> 'sc3'."""
    parts = []
    for name, value in values.items():
        short = ABBREVIATIONS.get(name, name)
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, float):
            value = f"{value:g}".replace(".", "p")
        parts.append(f"{short}{value}")
    return "_".join(parts)
