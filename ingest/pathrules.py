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


class Derived(NamedTuple):
    values: dict[str, str]
    rules: dict[str, str]


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def derive(relpath: str, rules: tuple[PathRule, ...]) -> Derived:
    """Attributes for one path relative to the runs directory (forward slashes)."""
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    for rule in rules:
        match = _compiled(rule.pattern).search(relpath)
        if match is None:
            continue
        found = {k: v for k, v in match.groupdict().items() if v and k in ATTRIBUTES}
        for key, value in {**rule.set, **found}.items():
            if key not in values:
                values[key] = _normalise(key, value, rule.model_style)
                origin[key] = rule.name
    return Derived(values, origin)


def _normalise(key: str, value: str, style: str) -> str:
    if key == "tau":
        return _tau(value)
    if key == "model":
        return model_from_slug(value, style)
    return value


def _tau(text: str) -> str:
    if "." in text:
        return str(float(text))
    return str(float("0." + text)) if text.isdigit() else text


def model_from_slug(slug: str, style: str) -> str:
    """Undo the file-name escaping of a model id used by the old launch scripts."""
    if style == "underscore_slash_dot" and "_" in slug:
        org, rest = slug.split("_", 1)
        return f"{org}/{rest.replace('_', '.')}"
    if style == "first_underscore_slash" and "_" in slug:
        org, rest = slug.split("_", 1)
        return f"{org}/{rest}"
    return slug
