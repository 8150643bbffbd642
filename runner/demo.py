"""The offline demo plan: baseline students over a few dial settings (no network, no key)."""

from __future__ import annotations

from typing import Any


def demo_plan(steps: int = 20, seeds: int = 3) -> dict[str, Any]:
    """oracle / lexical / random x cards budget {5, 10} x IDK {off, on} (MCQ), plus one SAQ run
    (3 self-consistency drafts) and one alias-swap run (notes memory on) per student."""
    return {
        "name": "demo",
        "seed_base": 424242,
        "coverage_tau": 0.4,
        "dials": {"self_consistency_n": 1},
        "models": [{"student": "oracle"}, {"student": "lexical"}, {"student": "random"}],
        "stages": [
            {
                "name": "main",
                "steps": steps,
                "seeds": seeds,
                "grid": {"fact_cards_budget": [5, 10], "idk_enabled": [False, True]},
            },
            {"name": "saq", "task": "saq", "steps": steps, "seeds": 1, "dials": {"self_consistency_n": 3}},
            {
                "name": "alias",
                "task": "alias_swap",
                "steps": steps,
                "seeds": 1,
                "dials": {"accumulate_notes": True},
            },
        ],
    }
