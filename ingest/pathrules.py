"""Derive provider / model / student / τ / stage from a log's path with named rules.

Old logs do not record them; only the path their launch script chose tells. Each attribute
takes its value from the first rule that matches the path and provides it; the rule's name is
kept so users can see how it was derived. A run header that carries the attribute wins over any
rule (done in the views).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from warehouse.core.config import ATTRIBUTES, PathRule
from warehouse.core.models import ModelNames, model_names


class Derived(NamedTuple):
    values: dict[str, str]
    rules: dict[str, str]


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def derive(relpath: str, rules: tuple[PathRule, ...], names: ModelNames | None = None) -> Derived:
    """Attributes for one path relative to the runs directory (forward slashes).

    `names` (the known models and the user's aliases) is what a `known_prefix` rule accepts."""
    names = names or model_names()
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    for rule in rules:
        match = _compiled(rule.pattern).search(relpath)
        if match is None:
            continue
        found = {k: v for k, v in match.groupdict().items() if v and k in ATTRIBUTES}
        for key, value in {**rule.set, **found}.items():
            if key in values:
                continue
            normalised = _normalise(key, value, rule.model_style, names)
            if normalised is not None:
                values[key], origin[key] = normalised, rule.name
    return Derived(values, origin)


def _normalise(key: str, value: str, style: str, names: ModelNames) -> str | None:
    if key == "tau":
        return _tau(value)
    if key == "model" and style == "known_prefix":
        return known_prefix(value, names)
    if key == "model":
        return model_from_slug(value, style)
    return value


def _tau(text: str) -> str:
    """'0.35' -> 0.35; digits are the decimals: '35' -> 0.35, '025' -> 0.25, '060' -> 0.6."""
    if "." in text:
        return str(float(text))
    if text.isdigit() and len(text) == 3 and text.startswith("0"):
        text = text[1:]
    return str(float("0." + text)) if text.isdigit() else text


_PROVIDERS = ("deepinfra", "openai", "together", "openrouter", "anthropic", "ollama", "vllm", "local")


def known_prefix(name: str, names: ModelNames) -> str | None:
    """The longest `_`-separated prefix of a file or folder name that names a known model (or a
    user alias), after an optional leading provider: `deepseek_r1_maxdial_N20` -> `deepseek_r1`,
    `kimi-k2_seed424242_N60` -> `kimi-k2`, `openai_gpt-4.1_N60` -> `gpt-4.1`. None if nothing is."""
    tokens = name.split("_")
    starts = [1, 0] if len(tokens) > 1 and tokens[0].lower() in _PROVIDERS else [0]
    for start in starts:
        for end in range(len(tokens), start, -1):
            candidate = "_".join(tokens[start:end])
            if names.known(candidate):
                return candidate
    return None


def model_from_slug(slug: str, style: str) -> str:
    """Undo the file-name escaping of a model id used by the old launch scripts."""
    if style == "underscore_slash_dot" and "_" in slug:
        org, rest = slug.split("_", 1)
        return f"{org}/{rest.replace('_', '.')}"
    if style == "first_underscore_slash" and "_" in slug:
        org, rest = slug.split("_", 1)
        return f"{org}/{rest}"
    return slug
