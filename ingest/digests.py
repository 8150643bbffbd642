"""Digests of the warehouse.toml settings an ingest mirrors into the database (path rules,
prices, model names): when one differs from the value the database recorded, attributes are
derived again even if no file changed. Light on purpose (no DuckDB): the no-op check of
ingest/nochange.py computes them too."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from warehouse.core.models import ModelNames, model_names

if TYPE_CHECKING:
    from warehouse.core.config import Config, PathRule, Price

RULES_KEY = "path_rules_digest"
PRICES_KEY = "prices_digest"
MODELS_KEY = "model_names_digest"


def rules_digest(rules: tuple[PathRule, ...], names: ModelNames | None = None) -> str:
    """Changes when the rules or the model names they accept (known_prefix rules) change."""
    text = json.dumps([(r.name, r.pattern, sorted(r.set.items()), r.model_style) for r in rules])
    text += (names or model_names()).digest()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prices_digest(prices: dict[str, Price]) -> str:
    text = json.dumps(sorted((m, p.input_per_mtok, p.output_per_mtok) for m, p in prices.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def models_digest(names: ModelNames, in_progress_minutes: float) -> str:
    return f"{names.digest()}:{in_progress_minutes}"


def settings_digests(config: Config) -> dict[str, str]:
    """The digest of each setting as this config has it, by its `settings` table key."""
    names = model_names(config.models)
    return {
        RULES_KEY: rules_digest(config.path_rules, names),
        PRICES_KEY: prices_digest(config.prices),
        MODELS_KEY: models_digest(names, config.in_progress_minutes),
    }
