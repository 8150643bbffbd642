"""Canonical model ids: the shipped table of known models and the user's aliases.

Old logs name a model only through file names, each launch script escaping the id its own way
(`/` -> `-` or `_`, `.` -> `_`, lower case, short names such as `mixtral` or `deepseek_r1`). Every
form reduces to one *key* (lower case, letters and digits only); a key maps to one canonical id.
Keys come from the canonical id itself, the id without its organisation prefix, the table's short
names and, first of all, the `[models]` table of warehouse.toml (alias = "canonical id").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def model_key(name: str) -> str:
    """The spelling-independent key of a model name (the same rule as the SQL views use)."""
    return _NOT_ALNUM.sub("", name.lower())


@dataclass(frozen=True)
class KnownModel:
    model: str
    provider: str
    short_names: tuple[str, ...]


@lru_cache(maxsize=1)
def builtin_models() -> tuple[KnownModel, ...]:
    """The shipped table (warehouse/core/models.csv): every model the old launch scripts name."""
    text = resources.files("warehouse.core").joinpath("models.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return tuple(
        KnownModel(r["model"], r["provider"], tuple(s for s in (r.get("short_names") or "").split("|") if s))
        for r in rows
    )


@dataclass(frozen=True)
class ModelNames:
    """key -> (canonical id, source) where source is 'builtin' or 'alias'."""

    keys: dict[str, tuple[str, str]] = field(default_factory=dict)

    def lookup(self, name: str | None) -> tuple[str, str] | None:
        return self.keys.get(model_key(name)) if name else None

    def known(self, name: str) -> bool:
        return model_key(name) in self.keys

    def rows(self) -> list[tuple[str, str, str]]:
        """(key, canonical id, source) rows for the `model_names` table."""
        return sorted((k, m, s) for k, (m, s) in self.keys.items())

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.rows()).encode()).hexdigest()[:16]


def model_names(aliases: dict[str, str] | None = None) -> ModelNames:
    """The builtin keys, overridden by user aliases (alias name -> canonical id)."""
    keys: dict[str, tuple[str, str]] = {}
    for known in builtin_models():
        forms = [known.model, known.model.split("/", 1)[-1], *known.short_names]
        for form in forms:
            keys.setdefault(model_key(form), (known.model, "builtin"))
    for alias, target in (aliases or {}).items():
        resolved = keys.get(model_key(target), (target, "alias"))[0]
        keys[model_key(alias)] = (resolved, "alias")
    keys.pop("", None)
    return ModelNames(keys)
